// The checker must catch what it claims to: a planted lost order, a planted phantom, an
// overfill, a conservation break, unequal open interest, duplicate client ids and a depth
// gap — and stay silent on a clean history (and on indeterminate operations).
import { describe, expect, it } from 'vitest';
import { checkRun } from './checker.ts';
import type { HistoryOp, OrderFacts, ServerTotals, ServerView } from './checker.ts';

function place(w: number, id: number, cid: string, account = 0): HistoryOp {
  return { t: id, type: 'invoke', w, id, f: 'place', value: { symbol: 'BTCUSDT', newClientOrderId: cid, account, quantity: '0.010', price: '60000.0' } };
}
function done(w: number, id: number, type: 'ok' | 'fail' | 'info', orderId = id): HistoryOp {
  return { t: id + 0.5, type, w, id, f: 'place', status: type === 'ok' ? 200 : 400, code: type === 'fail' ? '400:-2019' : null, value: type === 'ok' ? { orderId } : null };
}
function facts(cid: string, status: string, exec = '0', orig = '0.010'): OrderFacts {
  return { orderId: 1, clientOrderId: cid, status, origQty: orig, executedQty: exec };
}
function view(known: OrderFacts[], totals: Partial<ServerTotals> = {}, open: OrderFacts[] = []): ServerView {
  return {
    orders: async () => new Map(known.map((o) => [o.clientOrderId, o])),
    historyTruncated: async () => false,
    openOrders: async () => open,
    totals: async () => ({ conserved: true, detail: '', openInterest: [{ symbol: 'BTCUSDT', long: '1.5', short: '1.5' }], ...totals }),
  };
}

const clean: HistoryOp[] = [place(0, 1, 'a'), done(0, 1, 'ok'), place(0, 2, 'b'), done(0, 2, 'fail'), place(1, 1, 'c'), done(1, 1, 'info')];

describe('history checker', () => {
  it('passes a clean history, indeterminate operations included', async () => {
    const r = await checkRun(clean, view([facts('a', 'FILLED', '0.010')]));
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.counts).toMatchObject({ placesAcked: 1, placesRejected: 1, indeterminate: 1, ordersVerified: 1 });
  });

  it('catches a planted lost order', async () => {
    const r = await checkRun(clean, view([]));
    expect(r.ok).toBe(false);
    expect(r.violations.map((v) => v.kind)).toEqual(['lost-order']);
    expect(r.violations[0]!.ops.map((o) => o.type)).toEqual(['invoke', 'ok']);
  });

  it('catches a phantom (rejected but present) order and an overfill', async () => {
    const r = await checkRun(clean, view([facts('a', 'PARTIALLY_FILLED', '0.020'), facts('b', 'NEW')]));
    expect(r.violations.map((v) => v.kind).sort()).toEqual(['inconsistent-order', 'phantom-order']);
  });

  it('catches a planted conservation break and unequal open interest', async () => {
    const r = await checkRun(clean, view([facts('a', 'NEW')], { conserved: false, detail: 'ledger 99 ≠ 100', openInterest: [{ symbol: 'BTCUSDT', long: '1.5', short: '1.4' }] }));
    expect(r.violations.map((v) => v.kind).sort()).toEqual(['conservation', 'open-interest']);
  });

  it('catches duplicate open client ids and a depth sequence gap', async () => {
    const r = await checkRun(clean, view([facts('a', 'NEW')], {}, [facts('x', 'NEW'), facts('x', 'NEW')]), [
      { symbol: 'BTCUSDT', U: 1, u: 5, pu: 0 }, { symbol: 'BTCUSDT', U: 6, u: 9, pu: 5 }, { symbol: 'BTCUSDT', U: 12, u: 14, pu: 11 },
    ]);
    expect(r.violations.map((v) => v.kind).sort()).toEqual(['depth-gap', 'duplicate-client-id']);
  });

  it('counts orders the server no longer keeps as unverifiable, not lost', async () => {
    const v = view([]);
    v.historyTruncated = async () => true;
    const r = await checkRun(clean, v);
    expect(r.ok).toBe(true);
    expect(r.counts.ordersUnverifiable).toBe(1);
  });
});
