// The in-process host: sequencing and the bounded queue (overload is an immediate -1008),
// pause/resume, fail-stop on an engine exception, subscribers, the wall clock, and the
// event projections. The projections are checked on the core's own random, risky workloads
// (core/test-support.ts): fills carry exactly the realized PnL and fees the wallet events
// say, every closed order is in history once with its final state, and every conditional
// order is either still waiting in the engine or in the algo history.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command } from '../core/commands.ts';
import { limitOrder } from '../core/commands.ts';
import { Engine } from '../core/engine.ts';
import type { EngineEvent } from '../core/events.ts';
import { F_CONDITIONAL } from '../core/orders.ts';
import { runParams } from '../core/test-params.ts';
import { intentArb, resolveIntent, setupCommands, T0, testConfig } from '../core/test-support.ts';
import { HostError } from './host.ts';
import { InProcessHost } from './in-process-host.ts';
import { isTerminalStatus, Projections } from './projections.ts';

const quiet = { log: () => {} };
const CONDITIONAL_TYPES = new Set(['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET']);

async function funded(host: InProcessHost): Promise<void> {
  for (const c of setupCommands()) await host.submit(c);
}

describe('InProcessHost sequencing and backpressure', () => {
  it('applies commands in order with gap-free sequence numbers', async () => {
    const host = new InProcessHost(testConfig(), quiet);
    const results = await Promise.all(setupCommands().map((c) => host.submit(c)));
    expect(results.map((r) => r.seq)).toEqual(results.map((_, i) => i + 1));
    expect(results[0]!.events).toEqual([{ type: 'accountCreated', accountId: 0 }]);
    const r = await host.submit({ type: 'deposit', accountId: 99, amountUnits: 1 });
    expect(r.events[0]).toMatchObject({ type: 'reject', code: -1102 });
    expect(host.status().seq).toBe(results.length + 1);
  });

  it('rejects at once with -1008 when the queue is full; queued commands still complete', async () => {
    const host = new InProcessHost(testConfig(), { ...quiet, queueMax: 3 });
    host.pause();
    const queued = [0, 1, 2].map(() => host.submit({ type: 'createAccount' }));
    let err: unknown;
    try {
      await host.submit({ type: 'createAccount' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HostError);
    expect((err as HostError).code).toBe(-1008);
    expect(host.status().queueDepth).toBe(3);
    host.resume();
    expect((await Promise.all(queued)).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(host.engine.accountCount).toBe(3);
  });

  it('close() finishes queued commands, then refuses new ones', async () => {
    const host = new InProcessHost(testConfig(), quiet);
    host.pause();
    const p = host.submit({ type: 'createAccount' });
    await host.close();
    expect((await p).seq).toBe(1);
    await expect(host.submit({ type: 'createAccount' })).rejects.toMatchObject({ code: -1008 });
  });

  it('fail-stops when the engine throws: that command fails, later ones are refused', async () => {
    class Boom extends Engine {
      override apply(c: Command): EngineEvent[] {
        if (c.type === 'advanceTime' && c.timeMs === 42) throw new Error('boom');
        return super.apply(c);
      }
    }
    const host = new InProcessHost(testConfig(), { ...quiet, engine: new Boom(testConfig()) });
    host.pause();
    const bad = host.submit({ type: 'advanceTime', timeMs: 42 });
    const after = host.submit({ type: 'createAccount' });
    host.resume();
    await expect(bad).rejects.toThrow('boom');
    await expect(after).rejects.toMatchObject({ code: -1008 });
    await expect(host.submit({ type: 'createAccount' })).rejects.toMatchObject({ code: -1008 });
    expect(host.status().ready).toBe(false);
  });

  it('notifies subscribers in sequence order; a failing subscriber harms nobody', async () => {
    const lines: string[] = [];
    const host = new InProcessHost(testConfig(), { log: (l) => lines.push(l) });
    const seen: number[] = [];
    host.subscribe(() => { throw new Error('bad listener'); });
    const off = host.subscribe((a) => seen.push(a.seq));
    await funded(host);
    off();
    await host.submit({ type: 'createAccount' });
    expect(seen).toEqual(setupCommands().map((_, i) => i + 1));
    expect(lines.length).toBe(setupCommands().length + 1); // the failing one is still subscribed
  });

  it('wall-clock mode feeds advanceTime, in steps small enough for any gap', async () => {
    let now = T0;
    const host = new InProcessHost(testConfig(), { ...quiet, clock: { now: () => now, tickMs: 1 } });
    await new Promise((r) => setTimeout(r, 20));
    expect(host.engine.nowMs).toBe(T0);
    now = T0 + 400 * 24 * 3_600_000; // 400 days: 1,200 funding times, 64 per command at most
    for (let i = 0; i < 400 && host.engine.nowMs < now; i++) await new Promise((r) => setTimeout(r, 2));
    expect(host.engine.nowMs).toBe(now);
    await host.close();
  });
});

describe('InProcessHost queries', () => {
  it('finds an order open, then in history after it fills; trades and account agree', async () => {
    const host = new InProcessHost(testConfig(), quiet);
    await funded(host);
    const maker = await host.submit(limitOrder(0, 0, 'SELL', 20_000, 10, { clientOrderId: 'm1' }));
    const makerId = (maker.events[0] as { orderId: number }).orderId;
    expect(host.querySync({ type: 'order', accountId: 0, symbolId: 0, orderId: makerId, clientOrderId: '' })?.status).toBe('NEW');
    expect(host.querySync({ type: 'order', accountId: 1, symbolId: 0, orderId: makerId, clientOrderId: '' })).toBeNull();
    await host.submit(limitOrder(1, 0, 'BUY', 20_000, 10, { tif: 'IOC' }));
    const closed = host.querySync({ type: 'order', accountId: 0, symbolId: 0, orderId: 0, clientOrderId: 'm1' });
    expect(closed?.status).toBe('FILLED');
    expect(closed?.executedQtyLots).toBe(10);
    const trades = host.querySync({ type: 'userTrades', accountId: 1, symbolId: 0, fromId: 0, startTimeMs: 0, endTimeMs: 0, limit: 10 });
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ side: 'BUY', maker: false, priceTicks: 20_000, qtyLots: 10 });
    const acct = host.querySync({ type: 'account', accountId: 1 })!;
    expect(acct.positions[0]!.qtyLots).toBe(10);
    expect(acct.walletUnits).toBe(host.engine.wallet[1]);
    expect(host.querySync({ type: 'account', accountId: 99 })).toBeNull();
    expect(host.querySync({ type: 'depth', symbolId: 0, limit: 5 }).asks).toEqual([]);
    expect(host.querySync({ type: 'trades', symbolId: 0, limit: 5 })).toHaveLength(1);
    const t = host.querySync({ type: 'totals' });
    expect(t.ledgerUnits).toBe(t.depositsUnits - t.withdrawalsUnits);
  });
});

describe('plain-data boundary', () => {
  it('every submit result and query view survives structured clone unchanged (no class instances)', async () => {
    const host = new InProcessHost(testConfig(), quiet);
    const results: unknown[] = [];
    for (const c of setupCommands()) results.push(await host.submit(c));
    results.push(await host.submit(limitOrder(0, 0, 'SELL', 20_000, 10, { clientOrderId: 'm1' })));
    results.push(await host.submit(limitOrder(1, 0, 'BUY', 20_000, 4)));
    results.push(await host.submit({ type: 'place', accountId: 1, symbolId: 0, side: 'SELL', orderType: 'STOP_MARKET', tif: 'GTC', priceTicks: 0, qtyLots: 4, reduceOnly: true, clientOrderId: '', stpMode: 'NONE', triggerPriceTicks: 19_000, workingType: 'MARK_PRICE' }));
    results.push(await host.submit({ type: 'advanceTime', timeMs: T0 + 9 * 3_600_000 }));
    const r = { accountId: 1, symbolId: 0, startTimeMs: 0, endTimeMs: 0, limit: 100 };
    for (const q of [
      { type: 'status' }, { type: 'totals' }, { type: 'stateHash' }, { type: 'account', accountId: 1 }, { type: 'openOrders', accountId: 0, symbolId: -1 },
      { type: 'openAlgoOrders', accountId: 1, symbolId: -1 }, { type: 'order', accountId: 0, symbolId: 0, orderId: 0, clientOrderId: 'm1' },
      { type: 'algoOrder', accountId: 1, algoId: 0, clientAlgoId: '' }, { type: 'allOrders', ...r, fromOrderId: 0 }, { type: 'allAlgoOrders', ...r, fromAlgoId: 0 },
      { type: 'userTrades', ...r, fromId: 0 }, { type: 'depth', symbolId: 0, limit: 10 }, { type: 'bookTicker', symbolId: -1 }, { type: 'trades', symbolId: 0, limit: 10 },
      { type: 'ticker24h', symbolId: -1 }, { type: 'markPrice', symbolId: -1 }, { type: 'fundingHistory', symbolId: -1, startTimeMs: 0, endTimeMs: 0, limit: 10 },
    ] as const) {
      results.push(await host.query(q as never));
    }
    for (const x of results) expect(structuredClone(x)).toStrictEqual(x);
    expect((results.at(-1) as unknown[]).length).toBeGreaterThan(0); // a funding settlement happened
  });
});

describe('projections on random workloads', () => {
  it('fills, closed orders and algo orders agree with the event stream and the engine', () => {
    fc.assert(fc.property(fc.array(intentArb, { minLength: 1, maxLength: 150 }), (intents) => {
      const engine = new Engine(testConfig());
      const proj = new Projections(engine.symbols.map((s) => s.unitsPerTickLot));
      const walletFromFills = new Map<number, number>();
      const terminal = new Map<number, string>(); // regular orders that closed → final status
      const conditionalIds = new Set<number>();
      let tradeEvents = 0;
      const step = (cmd: Command) => {
        const events = engine.apply(cmd);
        proj.apply(events, engine.nowMs);
        for (const e of events) {
          if (e.type === 'balance' && (e.reason === 'ORDER' || e.reason === 'ADL')) walletFromFills.set(e.accountId, (walletFromFills.get(e.accountId) ?? 0) + e.deltaUnits);
          if (e.type === 'trade') tradeEvents++;
          if (e.type === 'order' && CONDITIONAL_TYPES.has(e.orderType)) conditionalIds.add(e.orderId);
          if (e.type === 'order' && isTerminalStatus(e.status)) terminal.set(e.orderId, e.status);
        }
      };
      for (const c of setupCommands()) step(c);
      for (const i of intents) step(resolveIntent(i, engine));

      // Realized PnL − fee of each account's fills = the wallet changes the fills caused.
      const fromTrades = new Map<number, number>();
      for (let a = 0; a < engine.accountCount; a++) {
        for (const t of proj.trades.list(a)) fromTrades.set(a, (fromTrades.get(a) ?? 0) + t.realizedPnlUnits - t.feeUnits);
      }
      for (let a = 0; a < engine.accountCount; a++) expect(fromTrades.get(a) ?? 0, `account ${a}`).toBe(walletFromFills.get(a) ?? 0);
      // Every trade is public once (two fills), and the ticker counted it.
      let fills = 0;
      for (let a = 0; a < engine.accountCount; a++) fills += proj.trades.list(a).length;
      expect(fills).toBe(2 * tradeEvents);
      expect(proj.publicTrades[0]!.length + proj.publicTrades[1]!.length).toBe(tradeEvents);
      expect(proj.tickers[0]!.view(engine.nowMs).count + proj.tickers[1]!.view(engine.nowMs).count).toBeLessThanOrEqual(tradeEvents);
      // Closed regular orders are in history with their final status.
      for (const [id, status] of terminal) {
        const algo = proj.algosById.get(id);
        if (algo !== undefined && (algo.algoStatus === 'CANCELED' || algo.algoStatus === 'EXPIRED')) continue; // never became an order
        expect(proj.ordersById.get(id)?.status, `order ${id}`).toBe(status);
      }
      // Conditional orders: waiting in the engine ⇔ in the waiting set; otherwise in algo history.
      const waitingInEngine = new Set<number>();
      for (let a = 0; a < engine.accountCount; a++) {
        for (const r of engine.openOrderSlots(a)) if ((engine.orders.flags[r]! & F_CONDITIONAL) !== 0) waitingInEngine.add(engine.orders.id[r]!);
      }
      expect([...proj.waitingAlgos].sort()).toEqual([...waitingInEngine].sort());
      for (const id of conditionalIds) {
        if (!waitingInEngine.has(id)) expect(proj.algosById.has(id), `algo ${id}`).toBe(true);
      }
    }), runParams(60));
  });
});
