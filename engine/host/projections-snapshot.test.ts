// The projections survive snapshotState()/restoreState(): a host restored at any point of a
// random workload, then fed the rest, answers every history query exactly like a host that
// never stopped, also where the small limits below keep evicting. The engine's state hash is
// untouched by the projections section.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command } from '../core/commands.ts';
import { runParams } from '../core/test-params.ts';
import { commandLog, intentArb, testConfig } from '../core/test-support.ts';
import { decodeHostSnapshot } from './host-snapshot.ts';
import type { HostQuery } from './host.ts';
import { InProcessHost } from './in-process-host.ts';
import type { ProjectionLimits } from './projections.ts';

const SMALL_LIMITS: ProjectionLimits = {
  historyOrdersPerAccountMax: 4, historyOrdersTotalMax: 9,
  historyTradesPerAccountMax: 5, historyTradesTotalMax: 11,
  historyAlgoOrdersPerAccountMax: 2, historyAlgoOrdersTotalMax: 5,
  publicTradesPerSymbolMax: 6, fundingPerSymbolMax: 3,
};


/** Every history-backed answer of the host (plus ids looked up one by one). */
function historyAnswers(host: InProcessHost): unknown[] {
  const out: unknown[] = [];
  const range = { startTimeMs: 0, endTimeMs: 0, limit: 1000 };
  const ids = new Set<number>();
  for (let a = 0; a < host.engine.accountCount; a++) {
    out.push(host.querySync({ type: 'account', accountId: a }));
    for (let s = 0; s < host.engine.symbols.length; s++) {
      const orders = host.querySync({ type: 'allOrders', accountId: a, symbolId: s, fromOrderId: 0, ...range });
      for (const o of orders) ids.add(o.orderId);
      out.push(orders);
      out.push(host.querySync({ type: 'userTrades', accountId: a, symbolId: s, fromId: 0, ...range }));
      out.push(host.querySync({ type: 'allAlgoOrders', accountId: a, symbolId: s, fromAlgoId: 0, ...range }));
    }
  }
  for (const id of [...ids].sort((x, y) => x - y)) {
    for (let a = 0; a < host.engine.accountCount; a++) {
      for (let s = 0; s < host.engine.symbols.length; s++) {
        const q: HostQuery = { type: 'order', accountId: a, symbolId: s, orderId: id, clientOrderId: '' };
        const o = host.querySync(q);
        if (o !== null) out.push(o);
      }
    }
  }
  out.push(host.querySync({ type: 'trades', symbolId: -1, limit: 1000 } as never));
  out.push(host.querySync({ type: 'ticker24h', symbolId: -1 }));
  out.push(host.querySync({ type: 'fundingHistory', symbolId: -1, ...range } as never));
  return out;
}

describe('projections snapshot', () => {
  it('restore at any point + the rest of the log answers history queries like an uninterrupted host', () => {
    fc.assert(fc.property(fc.array(intentArb, { minLength: 1, maxLength: 300, size: 'max' }), fc.nat(), (intents, cutPick) => {
      const log = commandLog(intents);
      const cut = cutPick % (log.length + 1);
      const straight = new InProcessHost(testConfig(), { projections: SMALL_LIMITS });
      for (const c of log) straight.applyOne(c);

      const before = new InProcessHost(testConfig(), { projections: SMALL_LIMITS });
      for (const c of log.slice(0, cut)) before.applyOne(c);
      const bytes = before.snapshotState();
      expect(decodeHostSnapshot(bytes).projections).not.toBeNull();
      const restored = new InProcessHost(testConfig(), { projections: SMALL_LIMITS });
      expect(restored.restoreState(bytes)).toBeNull();
      expect(restored.engine.stateHash()).toBe(before.engine.stateHash());
      expect(historyAnswers(restored)).toEqual(historyAnswers(before));
      for (const c of log.slice(cut)) restored.applyOne(c);
      expect(restored.engine.stateHash()).toBe(straight.engine.stateHash());
      expect(historyAnswers(restored)).toEqual(historyAnswers(straight));
      expect([...restored.projections.waitingAlgos].sort()).toEqual([...straight.projections.waitingAlgos].sort());
    }), runParams(40));
  });

  it('keeps the bounds when restored with smaller limits', () => {
    const log = commandLog(fc.sample(intentArb, { numRuns: 400, seed: 7 }));
    const big = new InProcessHost(testConfig());
    for (const c of log) big.applyOne(c);
    expect(big.projections.orders.size).toBeGreaterThan(SMALL_LIMITS.historyOrdersTotalMax);
    const small = new InProcessHost(testConfig(), { projections: SMALL_LIMITS });
    expect(small.restoreState(big.snapshotState())).toBeNull();
    const p = small.projections;
    expect(p.orders.size).toBe(SMALL_LIMITS.historyOrdersTotalMax);
    expect(p.ordersById.size).toBe(p.orders.size);
    expect(p.trades.size).toBeLessThanOrEqual(SMALL_LIMITS.historyTradesTotalMax);
    for (let a = 0; a < small.engine.accountCount; a++) expect(p.orders.list(a).length).toBeLessThanOrEqual(SMALL_LIMITS.historyOrdersPerAccountMax);
    // The newest terminal orders are the ones kept.
    const newest = [...big.projections.ordersById.values()].sort((x, y) => x.orderId - y.orderId).slice(-3).map((o) => o.orderId);
    for (const id of newest) expect(p.ordersById.has(id), `order ${id}`).toBe(true);
  });

  it('restores the engine from an engine-only or damaged-history snapshot, with empty history and a warning', () => {
    const log = commandLog(fc.sample(intentArb, { numRuns: 200, seed: 3 }));
    const host = new InProcessHost(testConfig());
    for (const c of log) host.applyOne(c);
    expect(host.projections.orders.size).toBeGreaterThan(0);

    const legacy = new InProcessHost(testConfig());
    expect(legacy.restoreState(host.engine.snapshot())).toMatch(/engine-only snapshot/);
    expect(legacy.engine.stateHash()).toBe(host.engine.stateHash());
    expect(legacy.projections.orders.size).toBe(0);

    const bytes = host.snapshotState();
    const damaged = bytes.slice(0, bytes.length - 20); // the end record is gone
    const again = new InProcessHost(testConfig());
    expect(again.restoreState(damaged)).toMatch(/history not restored: /);
    expect(again.engine.stateHash()).toBe(host.engine.stateHash());
    expect(again.projections.orders.size).toBe(0);
    expect([...again.projections.waitingAlgos].sort()).toEqual([...host.projections.waitingAlgos].sort());
  });
});
