// The WebSocket API (/ws-fapi/v1): signed order.place / order.status / order.modify /
// order.cancel answer with the same order bodies as REST; authentication, validation and
// rate limits fail with the REST codes (-1022 bad or replayed signature, -2014/-2015 keys,
// -1021 time, 4xx parameter codes, -1015 orders); malformed frames get error responses.

import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signed, startTestExchange } from '../../test/gateway-support.ts';
import type { TestAccount, TestExchange } from '../../test/gateway-support.ts';
import { signedParams, TestClient, wsUrl } from './ws-test-support.ts';

let nextId = 1;
async function call(c: TestClient, method: string, params: unknown): Promise<any> {
  return c.request({ id: nextId++, method, params });
}

describe('WebSocket API', () => {
  let ex: TestExchange;
  let a: TestAccount;
  let c: TestClient;
  const limit = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: '59000' };

  beforeAll(async () => {
    ex = await startTestExchange();
    a = await ex.createAccount('100000');
    c = await TestClient.open(wsUrl(ex.url, '/ws-fapi/v1'));
  });

  afterAll(async () => {
    c.close();
    expect(ex.gw.state.stats.internalErrors).toBe(0);
    expect(ex.gw.ws.stats.internalErrors).toBe(0);
    await ex.close();
  });

  it('place, status, modify, cancel: same bodies as REST, rate-limit counts attached', async () => {
    const placed = await call(c, 'order.place', signedParams(a, { ...limit, newClientOrderId: 'ws-1' }));
    expect(placed.status, JSON.stringify(placed)).toBe(200);
    expect(placed.result).toMatchObject({ symbol: 'BTCUSDT', status: 'NEW', clientOrderId: 'ws-1', price: '59000.0', origQty: '0.010', side: 'BUY', type: 'LIMIT' });
    expect(placed.rateLimits.map((r: any) => r.rateLimitType)).toEqual(['REQUEST_WEIGHT', 'ORDERS', 'ORDERS']);
    const id = placed.result.orderId as number;
    const st = await call(c, 'order.status', signedParams(a, { symbol: 'BTCUSDT', orderId: id }));
    const rest = await signed(ex.url, a, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(id) });
    expect(st).toMatchObject({ status: 200, result: rest.body });
    const mod = await call(c, 'order.modify', signedParams(a, { symbol: 'BTCUSDT', orderId: id, side: 'BUY', quantity: '0.020', price: '59100' }));
    expect(mod).toMatchObject({ status: 200, result: { orderId: id, price: '59100.0', origQty: '0.020', status: 'NEW' } });
    const can = await call(c, 'order.cancel', signedParams(a, { symbol: 'BTCUSDT', origClientOrderId: 'ws-1' }));
    expect(can).toMatchObject({ status: 200, result: { orderId: id, status: 'CANCELED' } });
    // RESULT: the post-match state; string ids are echoed as strings.
    const r = await c.request({ id: 'abc-1', method: 'order.place', params: signedParams(a, { ...limit, price: '59500', newOrderRespType: 'RESULT' }) });
    expect(r).toMatchObject({ id: 'abc-1', status: 200, result: { status: 'NEW', price: '59500.0' } });
  });

  it('numbers keep their source text for the signature (Binance signs what was sent)', async () => {
    const ts = Date.now();
    const payload = `apiKey=${a.apiKey}&price=59000.00&quantity=0.010&side=BUY&symbol=BTCUSDT&timeInForce=GTC&timestamp=${ts}&type=LIMIT`;
    const sig = createHmac('sha256', a.secretKey).update(payload).digest('hex');
    c.send(`{"id":901,"method":"order.place","params":{"apiKey":"${a.apiKey}","price":59000.00,"quantity":0.010,"side":"BUY",`
      + `"symbol":"BTCUSDT","timeInForce":"GTC","timestamp":${ts},"type":"LIMIT","signature":"${sig}"}}`);
    const r = await c.next((m) => m.id === 901);
    expect(r).toMatchObject({ status: 200, result: { price: '59000.0', origQty: '0.010' } });
  });

  it('authentication failures: bad and replayed signatures -1022, keys -2014/-2015, time -1021', async () => {
    expect(await call(c, 'order.place', signedParams(a, limit, { secret: 'not-the-secret-0123456789' }))).toMatchObject({ status: 400, error: { code: -1022 } });
    const once = signedParams(a, { ...limit, price: '58000' });
    expect((await call(c, 'order.place', once)).status).toBe(200);
    expect(await call(c, 'order.place', once)).toMatchObject({ status: 400, error: { code: -1022, msg: expect.stringContaining('already used') } });
    const { apiKey: _k, ...noKey } = signedParams(a, limit);
    expect(await call(c, 'order.place', noKey)).toMatchObject({ status: 401, error: { code: -2014 } });
    expect(await call(c, 'order.place', { ...signedParams(a, limit), apiKey: 'Z'.repeat(64) })).toMatchObject({ status: 401, error: { code: -2015 } });
    expect(await call(c, 'order.place', signedParams(a, limit, { timestamp: Date.now() - 60_000 }))).toMatchObject({ status: 400, error: { code: -1021 } });
    const { signature: _s, ...unsigned } = signedParams(a, limit);
    expect(await call(c, 'order.place', unsigned)).toMatchObject({ status: 400, error: { code: -1102 } });
  });

  it('parameter errors carry the REST codes', async () => {
    const bad = async (p: Record<string, string | number>, code: number, method = 'order.place') => {
      const r = await call(c, method, signedParams(a, p));
      expect(r.status, JSON.stringify(r)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.error.code, JSON.stringify(r)).toBe(code);
    };
    const { symbol: _s, ...noSymbol } = limit;
    await bad(noSymbol, -1102);
    await bad({ ...limit, symbol: 'DOGEUSDT' }, -1121);
    await bad({ ...limit, side: 'UP' }, -1117);
    await bad({ ...limit, timeInForce: 'XYZ' }, -1115);
    await bad({ ...limit, type: 'STOP_MARKET' }, -4120);
    await bad({ ...limit, type: 'WEIRD' }, -1116);
    await bad({ ...limit, price: '59000.05' }, -4014);
    await bad({ ...limit, quantity: '0.0100000001' }, -1111);
    await bad({ ...limit, quantity: '0.0105' }, -4023);
    await bad({ ...limit, quantity: '0.001' }, -4164);
    await bad({ ...limit, newClientOrderId: 'bad id!' }, -4015);
    await bad({ symbol: 'BTCUSDT', orderId: 987654 }, -2013, 'order.status');
    await bad({ symbol: 'BTCUSDT', orderId: 987654 }, -2011, 'order.cancel');
    await bad({ symbol: 'BTCUSDT' }, -1102, 'order.cancel');
    await bad({ symbol: 'BTCUSDT', orderId: 987654, side: 'BUY', quantity: '0.010', price: '59000' }, -2013, 'order.modify');
  });

  it('malformed frames get error responses, never a crash', async () => {
    c.send('not json');
    expect(await c.next((m) => m.id === null && m.error?.code === -1100)).toMatchObject({ status: 400 });
    expect(await call(c, 'order.explode', {})).toMatchObject({ status: 400, error: { code: -1020 } });
    expect(await call(c, 'order.place', [1, 2])).toMatchObject({ status: 400, error: { code: -1130 } });
    expect(await call(c, 'order.place', { symbol: { nested: true } })).toMatchObject({ status: 400, error: { code: -1130 } });
    c.send('{"id":{"x":1},"method":"order.status","params":{}}');
    expect(await c.next((m) => m.id === null && m.error?.code === -1130)).toMatchObject({ status: 400 });
    c.send('[]');
    expect(await c.next((m) => m.id === null && m.error?.code === -1102)).toMatchObject({ status: 400 });
  });

  it('ORDERS limits apply as on REST (-1015), and --no-rate-limit drops them and their counts', async () => {
    const ex2 = await startTestExchange({ gateway: { rateLimits: { ordersPer10s: 3 } } });
    const b = await ex2.createAccount('100000');
    const c2 = await TestClient.open(wsUrl(ex2.url, '/ws-fapi/v1'));
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await call(c2, 'order.place', signedParams(b, { ...limit, price: String(58_000 + i) }));
      codes.push(r.status === 200 ? 200 : r.error.code);
    }
    expect(codes).toEqual([200, 200, 200, -1015]);
    c2.close();
    await ex2.close();
    const ex3 = await startTestExchange({ gateway: { noRateLimit: true } });
    const d = await ex3.createAccount('100000');
    const c3 = await TestClient.open(wsUrl(ex3.url, '/ws-fapi/v1'));
    const r = await call(c3, 'order.place', signedParams(d, limit));
    expect(r.status).toBe(200);
    expect(r.rateLimits).toBeUndefined();
    c3.close();
    await ex3.close();
  });
});
