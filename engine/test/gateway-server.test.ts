// End-to-end properties of the gateway that are not about Binance shapes: accounts are
// isolated, rate limits answer 429/418 with Binance headers, a full engine queue sheds load
// with 503/-1008 at once, request bounds (body, head, slow senders) hold, and the signature
// rules (recvWindow, HMAC, replay) reject what they must. Each test starts its own small
// exchange on an ephemeral port with a manual engine clock.

import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, raw, sign, signed, startTestExchange } from './gateway-support.ts';
import type { TestAccount, TestExchange } from './gateway-support.ts';

let ex: TestExchange | undefined;
afterEach(async () => {
  if (ex !== undefined) {
    expect(ex.gw.state.stats.internalErrors).toBe(0);
    await ex.close();
    ex = undefined;
  }
});

const limit = (price: string, qty = '0.01', extra: Record<string, string> = {}) =>
  ({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: qty, price, ...extra });

/** Raw socket exchange: write `chunks` (with pauses), collect the reply until close or timeout. */
function socketTalk(port: number, chunks: string[], pauseMs: number, waitMs: number): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    sock.on('data', (d) => { text += d.toString('utf8'); });
    sock.on('error', () => {});
    sock.on('close', () => { closed = true; finish(); });
    const timer = setTimeout(finish, waitMs);
    function finish() {
      clearTimeout(timer);
      sock.destroy();
      resolve({ text, closed, ms: Date.now() - started });
    }
    let i = 0;
    const next = () => {
      if (i >= chunks.length || sock.destroyed) return;
      sock.write(chunks[i++]!);
      setTimeout(next, pauseMs);
    };
    sock.on('connect', next);
  });
}

function bodyOf(httpText: string): any {
  const at = httpText.indexOf('\r\n\r\n');
  return JSON.parse(httpText.slice(at + 4));
}

describe('account isolation', () => {
  it('an account can neither see nor touch another account\'s orders', async () => {
    ex = await startTestExchange();
    const a = await ex.createAccount();
    const b = await ex.createAccount();
    const placed = await signed(ex.url, a, 'POST', '/fapi/v1/order', limit('59000', '0.01', { newClientOrderId: 'alice-1' }));
    expect(placed.status).toBe(200);
    const id = String(placed.body.orderId);
    const algo = await signed(ex.url, a, 'POST', '/fapi/v1/algoOrder', { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: 'BUY', type: 'STOP_MARKET', quantity: '0.01', triggerPrice: '65000', clientAlgoId: 'alice-algo' });
    expect(algo.status).toBe(200);
    const algoId = String(algo.body.algoId);

    const probes: [string, string, Record<string, string>, number][] = [
      ['GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: id }, -2013],
      ['GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'alice-1' }, -2013],
      ['GET', '/fapi/v1/openOrder', { symbol: 'BTCUSDT', orderId: id }, -2013],
      ['DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: id }, -2011],
      ['DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'alice-1' }, -2011],
      ['PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', orderId: id, quantity: '0.02', price: '59000' }, -2013],
      ['GET', '/fapi/v1/algoOrder', { algoId }, -2013],
      ['DELETE', '/fapi/v1/algoOrder', { algoId }, -2013],
      ['DELETE', '/fapi/v1/algoOrder', { clientAlgoId: 'alice-algo' }, -2013],
    ];
    for (const [method, path, params, code] of probes) {
      const r = await signed(ex.url, b, method, path, params);
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body.code, `${method} ${path}`).toBe(code);
    }
    const lists: [string, Record<string, string>][] = [
      ['/fapi/v1/openOrders', {}], ['/fapi/v1/allOrders', { symbol: 'BTCUSDT' }], ['/fapi/v1/userTrades', { symbol: 'BTCUSDT' }],
      ['/fapi/v1/openAlgoOrders', {}], ['/fapi/v1/allAlgoOrders', { symbol: 'BTCUSDT' }],
    ];
    for (const [path, params] of lists) {
      const r = await signed(ex.url, b, 'GET', path, params);
      expect(r.status, path).toBe(200);
      expect(r.body, path).toEqual([]);
    }
    expect((await signed(ex.url, b, 'DELETE', '/fapi/v1/allOpenOrders', { symbol: 'BTCUSDT' })).status).toBe(200);
    expect((await signed(ex.url, b, 'DELETE', '/fapi/v1/algoOpenOrders', { symbol: 'BTCUSDT' })).status).toBe(200);
    // B signing with A's key but its own secret gets nowhere either.
    const forged = await signed(ex.url, b, 'DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: id }, { apiKey: a.apiKey });
    expect(forged.body.code).toBe(-1022);

    const still = await signed(ex.url, a, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: id });
    expect(still.body.status).toBe('NEW');
    const stillAlgo = await signed(ex.url, a, 'GET', '/fapi/v1/openAlgoOrders', {});
    expect(stillAlgo.body.map((x: any) => String(x.algoId))).toEqual([algoId]);
    const acctB = await signed(ex.url, b, 'GET', '/fapi/v2/account', {});
    expect(acctB.body.totalOpenOrderInitialMargin).toBe('0.00000000');
  });
});

describe('rate limits', () => {
  it('IP weight: headers count up, 429 with Retry-After, then 418 after repeated 429s, lifted after the ban', async () => {
    let now = Date.UTC(2026, 0, 1, 0, 0, 5);
    ex = await startTestExchange({ gateway: { now: () => now, rateLimits: { weightPerMinute: 10, banAfter429s: 3, banMs: 90_000 } } });
    for (let i = 1; i <= 10; i++) {
      const r = await raw(ex.url, 'GET', '/fapi/v1/ping');
      expect(r.status).toBe(200);
      expect(r.headers.get('x-mbx-used-weight-1m')).toBe(String(i));
    }
    const r429 = await raw(ex.url, 'GET', '/fapi/v1/ping');
    expect(r429.status).toBe(429);
    expect(r429.body.code).toBe(-1003);
    expect(Number(r429.headers.get('retry-after'))).toBe(55);
    expect((await raw(ex.url, 'GET', '/fapi/v1/time')).status).toBe(429);
    const r418 = await raw(ex.url, 'GET', '/fapi/v1/ping');
    expect(r418.status).toBe(418);
    expect(r418.body.code).toBe(-1003);
    expect(Number(r418.headers.get('retry-after'))).toBe(90);
    now += 61_000; // next minute, still banned
    expect((await raw(ex.url, 'GET', '/fapi/v1/ping')).status).toBe(418);
    now += 30_000; // ban over
    const back = await raw(ex.url, 'GET', '/fapi/v1/ping');
    expect(back.status).toBe(200);
    // Admin and health endpoints are not rate limited.
    expect((await raw(ex.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('account ORDERS per 10 s: -1015 with Retry-After, order-count headers, reset in the next window', async () => {
    let now = Date.UTC(2026, 0, 1, 0, 0, 1);
    ex = await startTestExchange({ gateway: { now: () => now, rateLimits: { ordersPer10s: 3, ordersPerMinute: 100 } } });
    const a = await ex.createAccount();
    for (let i = 1; i <= 3; i++) {
      const r = await signed(ex.url, a, 'POST', '/fapi/v1/order', limit(String(59000 - i)), { timestamp: now });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-mbx-order-count-10s')).toBe(String(i));
      expect(r.headers.get('x-mbx-order-count-1m')).toBe(String(i));
      expect(r.headers.get('x-mbx-used-weight-1m')).not.toBeNull();
    }
    const over = await signed(ex.url, a, 'POST', '/fapi/v1/order', limit('58000'), { timestamp: now });
    expect(over.status).toBe(429);
    expect(over.body.code).toBe(-1015);
    expect(Number(over.headers.get('retry-after'))).toBe(9);
    // Queries are not orders.
    expect((await signed(ex.url, a, 'GET', '/fapi/v1/openOrders', {}, { timestamp: now })).status).toBe(200);
    // Another account has its own counters.
    const b = await ex.createAccount();
    expect((await signed(ex.url, b, 'POST', '/fapi/v1/order', limit('57000'), { timestamp: now })).status).toBe(200);
    now += 10_000;
    const again = await signed(ex.url, a, 'POST', '/fapi/v1/order', limit('58000'), { timestamp: now });
    expect(again.status).toBe(200);
    expect(again.headers.get('x-mbx-order-count-10s')).toBe('1');
  });

  it('--no-rate-limit sends no rate-limit headers and never 429s', async () => {
    ex = await startTestExchange({ gateway: { noRateLimit: true, rateLimits: { weightPerMinute: 1 } } });
    for (let i = 0; i < 5; i++) {
      const r = await raw(ex.url, 'GET', '/fapi/v1/ping');
      expect(r.status).toBe(200);
      expect(r.headers.get('x-mbx-used-weight-1m')).toBeNull();
    }
  });
});

describe('backpressure', () => {
  it('a full engine queue answers 503 / -1008 at once; queued requests complete afterwards', async () => {
    ex = await startTestExchange({ host: { queueMax: 2 } });
    const a = await ex.createAccount();
    ex.host.pause();
    const first = signed(ex.url, a, 'POST', '/fapi/v1/order', limit('59000'));
    const second = signed(ex.url, a, 'POST', '/fapi/v1/order', limit('58990'));
    // Wait until both sit in the queue (the host is paused, so nothing is applied).
    for (let i = 0; i < 200 && ex.host.status().queueDepth < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(ex.host.status().queueDepth).toBe(2);
    const t0 = Date.now();
    const shed = await signed(ex.url, a, 'POST', '/fapi/v1/order', limit('58980'));
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(shed.status).toBe(503);
    expect(shed.body).toEqual({ code: -1008, msg: expect.any(String) });
    // Reads do not queue behind commands.
    expect((await signed(ex.url, a, 'GET', '/fapi/v1/openOrders', {})).body).toEqual([]);
    ex.host.resume();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    const open = await signed(ex.url, a, 'GET', '/fapi/v1/openOrders', {});
    expect(open.body).toHaveLength(2);
    expect(ex.gw.state.stats.errorsByCode.get(-1008)).toBe(1);
  });

  it('batch orders report overload per item', async () => {
    ex = await startTestExchange({ host: { queueMax: 2 } });
    const a = await ex.createAccount();
    ex.host.pause();
    const batch = JSON.stringify([1, 2, 3].map((i) => limit(String(59000 - i))));
    const pending = signed(ex.url, a, 'POST', '/fapi/v1/batchOrders', { batchOrders: batch });
    for (let i = 0; i < 200 && ex.host.status().queueDepth < 2; i++) await new Promise((r) => setTimeout(r, 5));
    ex.host.resume();
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.body[0].status).toBe('NEW');
    expect(r.body[1].status).toBe('NEW');
    expect(r.body[2]).toEqual({ code: -1008, msg: expect.any(String) });
  });
});

describe('request bounds', () => {
  const limits = { bodyBytesMax: 1_024, headerBytesMax: 2_048, requestTimeoutMs: 600, headersTimeoutMs: 500 };

  it('oversized bodies get 413 {code,msg}, declared or streamed', async () => {
    ex = await startTestExchange({ gateway: { limits } });
    const big = `symbol=BTCUSDT&x=${'a'.repeat(2_000)}`;
    const r = await raw(ex.url, 'POST', '/fapi/v1/order', { 'X-MBX-APIKEY': 'k' }, big);
    expect(r.status).toBe(413);
    expect(r.body.code).toBe(-1101);
    const port = ex.gw.port;
    const chunked = await socketTalk(port, [
      'POST /fapi/v1/order HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n',
      `400\r\n${'b'.repeat(0x400)}\r\n`, `400\r\n${'b'.repeat(0x400)}\r\n`, '0\r\n\r\n',
    ], 20, 2_000);
    expect(chunked.text.startsWith('HTTP/1.1 413')).toBe(true);
    expect(bodyOf(chunked.text).code).toBe(-1101);
    expect((await raw(ex.url, 'GET', '/fapi/v1/ping')).status).toBe(200);
  });

  it('oversized heads get 431 {code,msg}; malformed HTTP gets 400 {code,msg}', async () => {
    ex = await startTestExchange({ gateway: { limits } });
    const r = await socketTalk(ex.gw.port, [`GET /fapi/v1/ping HTTP/1.1\r\nHost: x\r\nX-Junk: ${'j'.repeat(4_000)}\r\n\r\n`], 0, 2_000);
    expect(r.text.startsWith('HTTP/1.1 431')).toBe(true);
    expect(bodyOf(r.text)).toEqual({ code: -1101, msg: expect.any(String) });
    const bad = await socketTalk(ex.gw.port, ['GARBAGE\r\n\r\n'], 0, 2_000);
    expect(bad.text.startsWith('HTTP/1.1 400')).toBe(true);
    expect(bodyOf(bad.text).code).toBe(-1100);
  });

  it('slow senders (head or body) get 408 and the connection is closed', async () => {
    ex = await startTestExchange({ gateway: { limits } });
    const slowHead = socketTalk(ex.gw.port, ['GET /fapi/v1/ping HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n'], 400, 4_000);
    const slowBody = socketTalk(ex.gw.port, [
      'POST /fapi/v1/order HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nsymbol=',
      'BTC', 'USD', 'T&si', 'de=B', 'UY',
    ], 400, 4_000);
    for (const r of [await slowHead, await slowBody]) {
      expect(r.text.startsWith('HTTP/1.1 408')).toBe(true);
      expect(bodyOf(r.text).code).toBe(-1007);
      expect(r.closed).toBe(true);
      expect(r.ms).toBeLessThan(3_000);
    }
    expect((await raw(ex.url, 'GET', '/fapi/v1/ping')).status).toBe(200);
  });

  it('unknown paths and methods are {code,msg} 404/405; admin needs its token', async () => {
    ex = await startTestExchange();
    const r404 = await raw(ex.url, 'GET', '/fapi/v9/nothing');
    expect(r404.status).toBe(404);
    expect(r404.body.code).toBe(-1020);
    const r405 = await raw(ex.url, 'PATCH', '/fapi/v1/order');
    expect(r405.status).toBe(405);
    const noToken = await raw(ex.url, 'GET', '/admin/v1/totals');
    expect(noToken.status).toBe(401);
    expect(noToken.body.code).toBe(-1002);
    const wrong = await raw(ex.url, 'GET', '/admin/v1/totals', { 'X-PERPX-ADMIN': `${ADMIN_TOKEN}x` });
    expect(wrong.status).toBe(401);
    const okay = await raw(ex.url, 'GET', '/admin/v1/totals', { 'X-PERPX-ADMIN': ADMIN_TOKEN });
    expect(okay.status).toBe(200);
    expect(okay.body.conserved).toBe(true);
    expect((await raw(ex.url, 'GET', '/readyz')).body.ready).toBe(true);
  });

  it('without PERPX_ADMIN_TOKEN the admin API does not exist', async () => {
    ex = await startTestExchange();
    const { startGateway } = await import('../gateway/server.ts');
    const plain = await startGateway({ host: ex.host });
    try {
      const r = await raw(plain.url, 'GET', '/admin/v1/totals', { 'X-PERPX-ADMIN': ADMIN_TOKEN });
      expect(r.status).toBe(404);
      expect(r.body.code).toBe(-1020);
    } finally {
      await plain.close();
    }
  });
});

describe('signed requests', () => {
  async function setup(): Promise<TestAccount> {
    ex = await startTestExchange();
    return ex.createAccount();
  }

  it('API key, timestamp, recvWindow and signature rules', async () => {
    const a = await setup();
    const url = ex!.url;
    const q = (ts: number, extra = '') => `timestamp=${ts}${extra}`;
    const get = (query: string, key: string | undefined, secret = a.secretKey) =>
      raw(url, 'GET', `/fapi/v2/balance?${query}&signature=${sign(secret, query)}`, key === undefined ? {} : { 'X-MBX-APIKEY': key });
    expect((await get(q(Date.now()), a.apiKey)).status).toBe(200);
    expect((await get(q(Date.now()), undefined)).body.code).toBe(-2014);
    expect((await get(q(Date.now()), 'short')).body.code).toBe(-2014);
    expect((await get(q(Date.now()), 'A'.repeat(64))).body.code).toBe(-2015);
    expect((await get(q(Date.now()), a.apiKey, 'wrong-secret')).body.code).toBe(-1022);
    expect((await get(q(Date.now() - 6_000), a.apiKey)).body.code).toBe(-1021);
    expect((await get(q(Date.now() - 6_000, '&recvWindow=10000'), a.apiKey)).status).toBe(200);
    expect((await get(q(Date.now() + 2_000), a.apiKey)).body.code).toBe(-1021);
    expect((await get(q(Date.now(), '&recvWindow=70000'), a.apiKey)).body.code).toBe(-1131);
    expect((await get('recvWindow=5000', a.apiKey)).body.code).toBe(-1102);
    const noSig = await raw(url, 'GET', `/fapi/v2/balance?${q(Date.now())}`, { 'X-MBX-APIKEY': a.apiKey });
    expect(noSig.body.code).toBe(-1102);
    const dup = `timestamp=${Date.now()}&timestamp=${Date.now()}`;
    expect((await get(dup, a.apiKey)).body.code).toBe(-1101);
  });

  it('totalParams = query string + body; signature may end either; the query wins for shared keys', async () => {
    const a = await setup();
    const url = ex!.url;
    const query = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC';
    const body = `quantity=0.01&price=59000&recvWindow=5000&timestamp=${Date.now()}`;
    const sig = sign(a.secretKey, query + body);
    const r = await raw(url, 'POST', `/fapi/v1/order?${query}`, { 'X-MBX-APIKEY': a.apiKey }, `${body}&signature=${sig}`);
    expect(r.status).toBe(200);
    expect(r.body.price).toBe('59000.0');
    const body2 = `side=SELL&quantity=0.01&price=59001&timestamp=${Date.now()}`;
    const r2 = await raw(url, 'POST', `/fapi/v1/order?${query}`, { 'X-MBX-APIKEY': a.apiKey }, `${body2}&signature=${sign(a.secretKey, query + body2)}`);
    expect(r2.status).toBe(200);
    expect(r2.body.side).toBe('BUY'); // the query string's side
  });

  it('a state-changing request cannot be replayed; reads can be repeated', async () => {
    const a = await setup();
    const url = ex!.url;
    const body = new URLSearchParams({ ...limit('59000'), timestamp: String(Date.now()) }).toString();
    const full = `${body}&signature=${sign(a.secretKey, body)}`;
    const first = await raw(url, 'POST', '/fapi/v1/order', { 'X-MBX-APIKEY': a.apiKey }, full);
    expect(first.status).toBe(200);
    const replay = await raw(url, 'POST', '/fapi/v1/order', { 'X-MBX-APIKEY': a.apiKey }, full);
    expect(replay.status).toBe(400);
    expect(replay.body.code).toBe(-1022);
    const query = `symbol=BTCUSDT&timestamp=${Date.now()}`;
    const path = `/fapi/v1/openOrders?${query}&signature=${sign(a.secretKey, query)}`;
    expect((await raw(url, 'GET', path, { 'X-MBX-APIKEY': a.apiKey })).status).toBe(200);
    expect((await raw(url, 'GET', path, { 'X-MBX-APIKEY': a.apiKey })).status).toBe(200);
    expect((await signed(url, a, 'GET', '/fapi/v1/openOrders', {})).body).toHaveLength(1);
  });

  it('listen keys need only the API key', async () => {
    const a = await setup();
    const url = ex!.url;
    const opened = await raw(url, 'POST', '/fapi/v1/listenKey', { 'X-MBX-APIKEY': a.apiKey });
    expect(opened.body.listenKey).toMatch(/^[A-Za-z0-9]{64}$/);
    const again = await raw(url, 'POST', '/fapi/v1/listenKey', { 'X-MBX-APIKEY': a.apiKey });
    expect(again.body.listenKey).toBe(opened.body.listenKey);
    expect((await raw(url, 'PUT', '/fapi/v1/listenKey', { 'X-MBX-APIKEY': a.apiKey })).status).toBe(200);
    expect((await raw(url, 'DELETE', '/fapi/v1/listenKey', { 'X-MBX-APIKEY': a.apiKey })).body).toEqual({});
    const gone = await raw(url, 'PUT', '/fapi/v1/listenKey', { 'X-MBX-APIKEY': a.apiKey });
    expect(gone.body.code).toBe(-1125);
    expect((await raw(url, 'POST', '/fapi/v1/listenKey', {})).body.code).toBe(-2014);
  });
});
