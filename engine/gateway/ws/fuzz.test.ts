// Fuzz: random frames (garbage text, random JSON, near-valid requests with wrong methods,
// ids, params and types, oversized messages, binary frames) on a stream connection and a
// WS API connection. Every frame gets exactly one answer — a result or an error frame
// (stream) / a {status,result|error} with 4xx for bad input (API) — the connections stay
// open, no internal error is logged, and the server still serves REST afterwards.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestExchange } from '../../test/gateway-support.ts';
import type { TestAccount, TestExchange } from '../../test/gateway-support.ts';
import { signedParams, TestClient, until, wsUrl } from './ws-test-support.ts';

const STREAM_METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY', 'subscribe', 'PING', ''];
const API_METHODS = ['order.place', 'order.cancel', 'order.modify', 'order.status', 'order.nope', 'session.logon', ''];
const STREAMS = ['btcusdt@aggTrade', 'btcusdt@depth', 'btcusdt@depth5@100ms', 'ethusdt@bookTicker', '!ticker@arr', 'btcusdt@nope', 'x', '', '@', '!'];

function anyValue(): fc.Arbitrary<unknown> {
  return fc.oneof(fc.json().map((t) => JSON.parse(t) as unknown), fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.boolean());
}

/** A frame: [text or bytes, binary?]; near-valid requests (known method, plausible params) are common. */
function frames(methods: string[], params: fc.Arbitrary<unknown>): fc.Arbitrary<[string | Buffer, boolean]> {
  const nearValid = fc.record({ method: fc.constantFrom(...methods), params, id: fc.nat() });
  const request = fc.record({
    method: fc.oneof(fc.constantFrom(...methods), anyValue()),
    params: fc.oneof(params, anyValue()),
    id: fc.oneof(fc.nat(), fc.integer({ min: -5, max: 5 }), fc.string({ maxLength: 80 }), fc.constant(null), anyValue()),
  }, { requiredKeys: [] });
  return fc.oneof(
    { weight: 5, arbitrary: request.map((r) => [JSON.stringify(r), false] as [string, boolean]) },
    { weight: 4, arbitrary: nearValid.map((r) => [JSON.stringify(r), false] as [string, boolean]) },
    { weight: 2, arbitrary: fc.string({ maxLength: 200 }).map((s) => [s, false] as [string, boolean]) },
    { weight: 2, arbitrary: fc.json().map((s) => [s, false] as [string, boolean]) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => [Buffer.from(b), true] as [Buffer, boolean]) },
    { weight: 1, arbitrary: fc.integer({ min: 70_000, max: 200_000 }).map((n) => [`{"method":"SUBSCRIBE","params":["${'a'.repeat(n)}"],"id":1}`, false] as [string, boolean]) },
  );
}

function isEvent(m: any): boolean {
  return m !== null && typeof m === 'object' && (typeof m.e === 'string' || typeof m.stream === 'string' || Array.isArray(m));
}

describe('WebSocket fuzz', () => {
  let ex: TestExchange;
  let acct: TestAccount;

  beforeAll(async () => {
    ex = await startTestExchange({ gateway: { noRateLimit: true, ws: { inboundMessagesPerSecondMax: 1_000_000 } } });
    acct = await ex.createAccount('100000');
  });

  afterAll(async () => {
    expect(ex.gw.state.stats.internalErrors).toBe(0);
    expect(ex.gw.ws.stats.internalErrors).toBe(0);
    await ex.close();
  });

  it('stream connection: one answer per frame, result or error frame, never closed', async () => {
    const c = await TestClient.open(wsUrl(ex.url, '/market/ws'));
    const streamParams = fc.oneof(fc.array(fc.constantFrom(...STREAMS), { maxLength: 4 }), fc.tuple(fc.constantFrom('combined', 'x'), anyValue()));
    const sample = fc.sample(frames(STREAM_METHODS, streamParams), { numRuns: 300, seed: Number(process.env.PERPX_SEED ?? 42) });
    let sentinel = 1_000_000;
    let errors = 0;
    for (const [frame, binary] of sample) {
      const from = c.messages.length;
      c.ws.send(frame, { binary });
      const id = sentinel++;
      await c.request({ method: 'LIST_SUBSCRIPTIONS', id });
      const answers = c.messages.slice(from).filter((m) => !isEvent(m) && m.id !== id);
      expect(answers.length, `frame ${String(frame).slice(0, 100)}`).toBe(1);
      const a = answers[0];
      if (a.error !== undefined) {
        expect([0, 1, 2, 3]).toContain(a.error.code);
        expect(typeof a.error.msg).toBe('string');
        errors++;
      } else {
        expect('result' in a).toBe(true);
      }
    }
    expect(errors).toBeGreaterThan(200);
    expect(c.closed).toBeNull();
    c.close();
  });

  it('WS API connection: one {status} answer per frame, 4xx for bad input, never closed', async () => {
    const c = await TestClient.open(wsUrl(ex.url, '/ws-fapi/v1'));
    const good = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: '59000' };
    const apiParams = fc.oneof(
      fc.record({ symbol: fc.constantFrom('BTCUSDT', 'btcusdt', 'X', ''), side: fc.constantFrom('BUY', 'SELL', 'UP'), quantity: fc.oneof(fc.string(), fc.double()), price: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] }),
      fc.dictionary(fc.string({ maxLength: 12 }), anyValue(), { maxKeys: 8 }),
      fc.integer({ min: 58_000, max: 59_999 }).map((px) => signedParams(acct, { ...good, price: String(px) })),
      fc.integer({ min: 58_000, max: 59_999 }).map((px) => ({ ...signedParams(acct, { ...good, price: String(px) }), signature: 'f'.repeat(64) })),
    );
    const sample = fc.sample(frames(API_METHODS, apiParams), { numRuns: 300, seed: Number(process.env.PERPX_SEED ?? 43) });
    for (const [frame, binary] of sample) c.ws.send(frame, { binary });
    await until(() => c.messages.length >= sample.length, 10_000, 'an answer per frame');
    await new Promise((r) => setTimeout(r, 100));
    expect(c.messages.length).toBe(sample.length);
    let ok = 0;
    for (const m of c.messages) {
      expect(typeof m.status).toBe('number');
      if (m.status === 200) {
        ok++;
        expect(m.result).toBeDefined();
      } else {
        expect(m.status).toBeGreaterThanOrEqual(400);
        expect(m.status).toBeLessThan(500);
        expect(m.error.code).toBeLessThan(0);
      }
    }
    const codes = new Set(c.messages.map((m) => m.error?.code));
    console.log(`ws-api fuzz: ${ok} accepted, error codes ${Array.from(codes).filter((x) => x !== undefined).sort().join(' ')}`);
    expect(ok).toBeGreaterThan(0);
    expect(codes.has(-1022)).toBe(true);
    expect(ok).toBeLessThan(sample.length);
    expect(c.closed).toBeNull();
    c.close();
    expect((await fetch(`${ex.url}/fapi/v1/ping`)).status).toBe(200);
  });
});
