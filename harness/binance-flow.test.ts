// Proves the richer order-flow models and the WebSocket API target:
//   - momentum bursts are runs of same-side IOC takers, the mid moving a tick per taker;
//   - reduce-only closes are IOC, flagged reduceOnly, on the side that reduces what the
//     stream's takers built for that account, never larger than it;
//   - with the extra models off, the flow is the same sequence as before (the k6 twin relies
//     on it: k6-export.test.ts);
//   - api "ws" requests carry params signed the way the gateway's WS API verifies them;
//   - end to end: an open-model load run over ws://…/ws-fapi/v1 against a real gateway places
//     and cancels orders, with every outcome classified as over REST.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinanceFlowState, createBinanceOrderFactory, normalizeBinanceFlow, signWsParams } from './binance-flow.ts';
import { signaturePayload } from '../engine/gateway/ws/api.ts';
import { startTestExchange } from '../engine/test/gateway-support.ts';
import type { TestAccount, TestExchange } from '../engine/test/gateway-support.ts';
import { runLoad } from './load.ts';

const accounts = [{ apiKey: 'k0', secretKey: 's0' }, { apiKey: 'k1', secretKey: 's1' }, { apiKey: 'k2', secretKey: 's2' }];
const param = (p: [string, string][], k: string): string | undefined => p.find(([n]) => n === k)?.[1];

describe('binance flow models', () => {
  it('momentum bursts: same-side IOC takers, the mid moving with them', () => {
    const o = normalizeBinanceFlow({ accounts, momentumProb: 1, momentumLen: 7, runTag: 't' });
    const s = new BinanceFlowState(o, 0, 42);
    for (let burst = 0; burst < 5; burst++) {
      const start = s.midTicks;
      const ops = Array.from({ length: o.momentumLen }, () => s.step());
      const sides = new Set(ops.map((op) => param(op.params, 'side')));
      expect(sides.size).toBe(1);
      expect(ops.every((op) => op.op === 'place' && param(op.params, 'timeInForce') === 'IOC')).toBe(true);
      const dir = sides.has('BUY') ? 1 : -1;
      expect(s.midTicks - start).toBe(dir * o.momentumLen);
      // Takers price through the (moved) mid: buys above it, sells below.
      const lastPrice = Number(param(ops.at(-1)!.params, 'price'));
      expect(Math.sign(lastPrice / o.tickSize - s.midTicks)).toBe(dir);
    }
  });

  it('reduce-only closes reduce what the takers built, never more', () => {
    const o = normalizeBinanceFlow({ accounts, reduceOnlyShare: 0.3, takerShare: 0.5, cancelShare: 0.1, runTag: 't' });
    const s = new BinanceFlowState(o, 1, 7);
    const held = new Map<number, number>();
    let closes = 0;
    for (let i = 0; i < 5_000; i++) {
      const op = s.step();
      const tif = param(op.params, 'timeInForce');
      if (op.method !== 'POST' || tif !== 'IOC') continue;
      const steps = Math.round(Number(param(op.params, 'quantity')) / o.stepSize);
      const signed = param(op.params, 'side') === 'BUY' ? steps : -steps;
      const before = held.get(op.account) ?? 0;
      if (op.op === 'close') {
        closes++;
        expect(param(op.params, 'reduceOnly')).toBe('true');
        expect(before).not.toBe(0);
        expect(Math.sign(signed)).toBe(-Math.sign(before));
        expect(Math.abs(signed)).toBeLessThanOrEqual(Math.abs(before));
      } else {
        expect(param(op.params, 'reduceOnly')).toBeUndefined();
      }
      held.set(op.account, before + signed);
    }
    expect(closes).toBeGreaterThan(500);
  });

  it('the extra models off: the same sequence as the basic flow', () => {
    const base = new BinanceFlowState(normalizeBinanceFlow({ accounts, runTag: 't' }), 2, 9);
    const off = new BinanceFlowState(normalizeBinanceFlow({ accounts, runTag: 't', momentumProb: 0, reduceOnlyShare: 0, momentumLen: 3 }), 2, 9);
    for (let i = 0; i < 2_000; i++) expect(off.step()).toEqual(base.step());
  });

  it('rejects bad model options with one line', () => {
    expect(() => normalizeBinanceFlow({ accounts, reduceOnlyShare: 0.8, takerShare: 0.3 })).toThrow(/must be <= 1/);
    expect(() => normalizeBinanceFlow({ accounts, momentumLen: 0 })).toThrow(/momentumLen/);
    expect(() => normalizeBinanceFlow({ accounts, api: 'grpc' })).toThrow(/request.api/);
  });

  it('api "ws": params signed as the gateway verifies (sorted by name)', () => {
    const factory = createBinanceOrderFactory(normalizeBinanceFlow({ accounts, api: 'ws', runTag: 't' }), { workerIndex: 0, workerCount: 1, seed: 3 });
    for (let i = 0; i < 50; i++) {
      const spec = factory.next(i, Date.now());
      expect(spec.ws).toBeDefined();
      const { method, params } = spec.ws!;
      expect(method).toBe(spec.method === 'POST' ? 'order.place' : 'order.cancel');
      const acct = accounts.find((a) => a.apiKey === params.apiKey)!;
      const { signature, ...rest } = params;
      expect(signature).toBe(signWsParams(rest, acct.secretKey));
      expect(signWsParams(rest, acct.secretKey)).toBe(signWsParams({ ...rest }, acct.secretKey));
      // The gateway's own payload function builds the same string we signed.
      const payload = signaturePayload(new Map(Object.entries(params)) as never);
      expect(payload).toBe(Object.keys(rest).sort().map((k) => `${k}=${rest[k]}`).join('&'));
    }
  });
});

describe('WebSocket API target', () => {
  let ex: TestExchange;
  let traders: TestAccount[];
  beforeAll(async () => {
    ex = await startTestExchange({ indexPrices: { BTCUSDT: '50000', ETHUSDT: '3000' } });
    traders = [await ex.createAccount('1000000'), await ex.createAccount('1000000')];
  });
  afterAll(async () => {
    await ex.close();
  });

  it('an open-model run over ws:// places, fills and cancels, classified like REST', async () => {
    const wsUrl = `${ex.url.replace(/^http/, 'ws')}/ws-fapi/v1`;
    const r = await runLoad({
      scenario: {
        name: 'ws-api', workers: 1, seed: 5, maxInFlightPerWorker: 32, profile: { kind: 'constant', rate: 200, duration: 2 },
        request: { factory: 'binance-order', api: 'ws', symbol: 'BTCUSDT', midPrice: 50_000, tickSize: 0.1, stepSize: 0.001, minQtySteps: 3, accounts: traders.map((t) => ({ apiKey: t.apiKey, secretKey: t.secretKey })), takerShare: 0.3, cancelShare: 0.25 },
        expectedErrors: ['-2011'],
      },
      target: wsUrl,
    });
    expect(r.totals.intended).toBe(400);
    expect(r.totals.completed).toBe(r.totals.sent);
    expect(r.ops.place!.ok).toBeGreaterThan(200);
    expect(r.ops.cancel!.sent).toBeGreaterThan(20);
    // Only cancel races may fail: no signature, timeout or transport errors.
    expect(Object.keys(r.totals.errors).filter((k) => !k.endsWith(':-2011'))).toEqual([]);
    expect(r.totals.unexpectedErrorRate).toBe(0);
    // The orders are really there: the server saw them over the WS API.
    const open = await ex.host.query({ type: 'openOrders', accountId: traders[0]!.accountId, symbolId: -1 });
    expect((open as unknown[]).length).toBeGreaterThan(0);
  });
});
