// Fuzzer: fast-check sequences of hostile HTTP requests (gateway-fuzz-arbs.ts) against a
// live gateway. For every response it asserts:
//   - never a 5xx; every 4xx body is exactly {code, msg} with a registered negative code;
//   - oversized bodies → 413, oversized heads → 431, replayed signed writes → 4xx;
//   - the engine state hash is unchanged by every rejected request and every read;
// and at the end: slow senders got 408, the server still answers, the engine's internal
// invariants hold, and no request hit the internal-error path. Counts per code are printed.
// Replay a failure with PERPX_SEED=<seed> (fast-check prints seed and path); FUZZ_DEBUG=1
// also counts outcomes per endpoint.

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runParams } from '../core/test-params.ts';
import { allErrorCodes } from '../gateway/errors.ts';
import { ADMIN_TOKEN, raw, sign, signed, startTestExchange } from './gateway-support.ts';
import type { RawResponse, TestAccount, TestExchange } from './gateway-support.ts';
import { mutate, requestSpec } from './gateway-fuzz-arbs.ts';
import type { GeneratedRequest } from './gateway-fuzz-arbs.ts';

const BODY_MAX = 4_096;
const HEAD_MAX = 4_096;
const REGISTERED = allErrorCodes();

interface Built {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  mutating: boolean;
}

function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80'; // a lone surrogate: send the raw (invalid UTF-8) escape instead
  }
}

/** Turn a generated request into method, path, headers and body (signing last, as Binance wants). */
function build(g: GeneratedRequest, accts: TestAccount[]): Built {
  const acct = accts[g.account]!;
  const { pairs, raw: rawSegs } = mutate(g.params, g.mutations);
  const ep = g.endpoint;
  const now = Date.now();
  if (ep.auth === 'signed') {
    if (g.auth !== 'noTimestamp') pairs.push(['timestamp', String(g.auth === 'stale' ? now - 60_000 : g.auth === 'future' ? now + 5_000 : now)]);
    if (g.auth === 'recvWindowTooBig') pairs.push(['recvWindow', '70000']);
    if (g.auth === 'recvWindowBad') pairs.push(['recvWindow', '-5']);
  }
  const items = pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).concat(rawSegs);
  const method = g.transport === 'oversizedBody' ? 'POST' : ep.method;
  const bodyAllowed = method !== 'GET';
  let queryItems = items;
  let bodyItems: string[] = [];
  if (bodyAllowed && g.placement === 'body') [queryItems, bodyItems] = [[], items];
  if (bodyAllowed && g.placement === 'split') [queryItems, bodyItems] = [items.slice(0, items.length >> 1), items.slice(items.length >> 1)];
  let query = queryItems.join('&');
  let body = bodyItems.join('&');
  const headers: Record<string, string> = {};
  if (ep.auth === 'signed' || ep.auth === 'apiKey') {
    if (g.auth === 'badKeyFormat') headers['X-MBX-APIKEY'] = 'not-a-key';
    else if (g.auth === 'unknownKey') headers['X-MBX-APIKEY'] = 'Z'.repeat(64);
    else if (g.auth !== 'noKey') headers['X-MBX-APIKEY'] = acct.apiKey;
  }
  if (ep.auth === 'signed' && g.auth !== 'noSignature') {
    const secret = g.auth === 'foreignSecret' ? accts[1 - g.account]!.secretKey : acct.secretKey;
    let sig = sign(secret, query + body);
    if (g.auth === 'badSignature') sig = sig.slice(0, 63) + (sig.endsWith('0') ? '1' : '0');
    if (g.auth === 'upperHexSignature') sig = sig.toUpperCase();
    if (body.length > 0) body += `&signature=${sig}`;
    else query += `${query.length > 0 ? '&' : ''}signature=${sig}`;
  }
  if (ep.auth === 'admin') {
    if (g.account === 0) headers['X-PERPX-ADMIN'] = `${ADMIN_TOKEN.slice(0, -1)}?`; // wrong token (never the right one)
  }
  if (g.transport === 'oversizedBody') body += `&pad=${'x'.repeat(BODY_MAX)}`;
  if (g.transport === 'jsonBody' && bodyAllowed) {
    body = JSON.stringify(Object.fromEntries(pairs));
    headers['Content-Type'] = 'application/json';
  }
  return {
    method, path: query.length > 0 ? `${ep.path}?${query}` : ep.path, headers, body: bodyAllowed && body.length > 0 ? body : undefined,
    mutating: ep.auth === 'signed' && method !== 'GET',
  };
}

/** Send bytes on a fresh socket; resolve with the raw reply text. */
function sendRaw(port: number, bytes: string, waitMs = 3_000): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    const done = () => { clearTimeout(t); sock.destroy(); resolve(text); };
    const t = setTimeout(done, waitMs);
    sock.on('data', (d) => { text += d.toString('latin1'); });
    sock.on('error', done);
    sock.on('close', done);
    sock.on('connect', () => sock.write(bytes, 'latin1'));
  });
}

function parseRawResponse(text: string): { status: number; body: any } {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
  const at = text.indexOf('\r\n\r\n');
  let body: any;
  try {
    body = JSON.parse(text.slice(at + 4));
  } catch {
    body = undefined;
  }
  return { status: m === null ? 0 : Number(m[1]), body };
}

const GARBAGE = ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'GET\r\n\r\n', 'POST / HTTP/9.9\r\n\r\n', 'GET /fapi/v1/ping HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
  'GET /fapi/v1/ping HTTP/1.1\r\nHo st: x\r\n\r\n', '\x00\x00\x00\x00\r\n\r\n', 'GET /fapi/v1/ping HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n'];

describe('gateway fuzzer', () => {
  let ex: TestExchange;
  let accts: TestAccount[];
  const counts = new Map<string, number>();
  let requests = 0;
  let lastMutating: Built | null = null;
  const bump = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);

  beforeAll(async () => {
    ex = await startTestExchange({
      gateway: {
        limits: { bodyBytesMax: BODY_MAX, headerBytesMax: HEAD_MAX, requestTimeoutMs: 700, headersTimeoutMs: 600 },
        rateLimits: { weightPerMinute: 1_000_000_000, ordersPer10s: 1_000_000_000, ordersPerMinute: 1_000_000_000 },
      },
    });
    accts = [await ex.createAccount('1000000'), await ex.createAccount('2000')];
    // Some resting orders so ids, client ids and cancels have real targets.
    for (let i = 0; i < 8; i++) {
      const r = await signed(ex.url, accts[0]!, 'POST', '/fapi/v1/order', {
        symbol: 'BTCUSDT', side: i % 2 === 0 ? 'BUY' : 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01',
        price: i % 2 === 0 ? String(59_000 - i) : String(61_000 + i), newClientOrderId: `fz-${'abcdefgh'[i]}`,
      });
      expect(r.status).toBe(200);
    }
  });

  afterAll(async () => {
    const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k.padEnd(14)} ${n}`);
    console.log(`gateway fuzzer: ${requests} requests\n  ${rows.join('\n  ')}`);
    await ex.close();
  });

  async function stateHash(): Promise<string> {
    return (await ex.host.query({ type: 'stateHash' })).stateHash;
  }

  function checkError(status: number, body: any, what: string): void {
    expect(status, what).toBeGreaterThanOrEqual(400);
    expect(status, what).toBeLessThan(500);
    expect(body, what).toBeTypeOf('object');
    expect(Object.keys(body).sort(), what).toEqual(['code', 'msg']);
    expect(Number.isInteger(body.code) && body.code < 0, what).toBe(true);
    expect(REGISTERED.has(body.code), `${what}: unregistered code ${body.code}`).toBe(true);
    expect(typeof body.msg, what).toBe('string');
    bump(status === 400 ? String(body.code) : `${body.code} (${status})`);
  }

  async function runOne(g: GeneratedRequest): Promise<void> {
    requests++;
    const before = await stateHash();
    let status: number;
    let body: any;
    let what: string;
    let isRead = false;
    if (g.transport === 'garbage') {
      const text = GARBAGE[requests % GARBAGE.length]!;
      const r = parseRawResponse(await sendRaw(ex.gw.port, text));
      what = `garbage ${JSON.stringify(text)}`;
      if (r.status === 0) bump('closed');
      else checkError(r.status, r.body, what);
      expect(await stateHash(), what).toBe(before);
      return;
    }
    const req = g.auth === 'replay' && lastMutating !== null ? lastMutating : build(g, accts);
    what = `${req.method} ${req.path.slice(0, 200)} [${g.auth}/${g.transport}/${g.placement}] body=${(req.body ?? '').slice(0, 200)}`;
    if (g.transport === 'oversizedHeader') {
      const head = `${req.method} ${req.path} HTTP/1.1\r\nHost: x\r\nX-Pad: ${'y'.repeat(HEAD_MAX + 100)}\r\n\r\n`;
      const r = parseRawResponse(await sendRaw(ex.gw.port, head));
      expect(r.status, what).toBe(431);
      checkError(r.status, r.body, what);
      expect(await stateHash(), what).toBe(before);
      return;
    }
    const res: RawResponse = await raw(ex.url, req.method, req.path, req.headers, req.body);
    status = res.status;
    body = res.body;
    isRead = req.method === 'GET';
    expect(status, what).toBeLessThan(500);
    // A replay resends the earlier request verbatim, so this step's transport never touched it.
    const replayed = g.auth === 'replay' && req === lastMutating;
    if (g.transport === 'oversizedBody' && !replayed) expect(status, what).toBe(413);
    if (replayed) expect(status, `replay of ${what}`).toBeGreaterThanOrEqual(400);
    if (status >= 400) {
      checkError(status, body, what);
      expect(await stateHash(), `rejected request changed state: ${what}`).toBe(before);
    } else {
      expect(body, `2xx body is JSON: ${what}`).not.toBeUndefined();
      bump('2xx');
      if (isRead) expect(await stateHash(), `read changed state: ${what}`).toBe(before);
    }
    if (req.mutating && g.auth !== 'replay') lastMutating = req;
    if (process.env.FUZZ_DEBUG) bump(`${req.method} ${g.endpoint.path} ${status} ${status >= 400 ? body.code : ''}`);
  }

  it('only Binance-style 4xx errors; rejected requests and reads never change engine state', async () => {
    // Slow senders run alongside the sequence: each must get 408 and a closed connection.
    const slow = [
      'GET /fapi/v1/ping HTTP/1.1\r\nHost: x\r\n',
      'POST /fapi/v1/order HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nsymbol=BTC',
    ].map((partial) => sendRaw(ex.gw.port, partial, 5_000));
    await fc.assert(fc.asyncProperty(fc.array(requestSpec, { minLength: 10, maxLength: 40 }), async (seq) => {
      for (const g of seq) await runOne(g);
    }), runParams(100));
    for (const text of await Promise.all(slow)) {
      const r = parseRawResponse(text);
      expect(r.status).toBe(408);
      expect(r.body.code).toBe(-1007);
      bump('-1007 (408)');
    }
    expect((await raw(ex.url, 'GET', '/fapi/v1/ping')).status).toBe(200);
    ex.host.engine.validate();
    expect(ex.gw.state.stats.internalErrors).toBe(0);
    expect(counts.get('2xx') ?? 0).toBeGreaterThan(50);
    expect(counts.size).toBeGreaterThan(15); // many distinct codes were exercised
  });
});
