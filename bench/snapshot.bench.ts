// How long a snapshot pauses the engine thread because of the kept order/trade history.
// Snapshots carry the host's projections (terminal orders, fills, algo orders: engine/host/
// projections.ts) so history survives restarts; encoding them runs on the engine thread, in
// the same pause as the engine's own snapshot. This fills a Projections with N terminal orders
// and N fills spread over accounts (as a long load run does), then times encodeProjections
// (the pause) and decodeProjectionsInto (what recovery pays), median of 3 each, at each size.
// The largest default size is the old default limits (2 M orders + 2 M fills), measured, not
// extrapolated.
// Second part: what the history costs a journal-tail replay. The seeded engine flow (bench/
// flow.ts, as bench:journal uses) is recorded as a command log, then replayed into a bare engine
// (Engine.replay) and into a host that also builds the history (InProcessHost.applyOne, what the
// engine thread's recovery runs), alternately, best of 3 each.
//
//   npm run bench:snapshot [-- --json] [-- --sizes 100000,500000,2000000] [-- --replay-commands 300000]

import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { Projections, PROJECTION_LIMITS_DEFAULT } from '../engine/host/projections.ts';
import { decodeProjectionsInto, encodeProjections } from '../engine/host/projections-snapshot.ts';
import type { EngineEvent } from '../engine/core/events.ts';
import { InProcessHost } from '../engine/host/in-process-host.ts';
import { FLOW_DEFAULTS, generateFlow } from './flow.ts';
import type { FlowOptions } from './flow.ts';
import { engineCommandLog, setupEngine } from './engine-mode.ts';

const ACCOUNTS = 10_000; // ≥ total ÷ per-account limit, so the totals (not per-account caps) bind
const UNITS_PER_TICK_LOT = [10_000, 10_000];
const REPEATS = 3;

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, sizes: { type: 'string', default: '100000,500000,2000000' }, 'replay-commands': { type: 'string', default: '300000' } } });
const replayCommands = Number(values['replay-commands']);
if (!(Number.isInteger(replayCommands) && replayCommands > 0 && replayCommands <= 5_000_000)) throw new Error(`--replay-commands must be an integer in 1..5000000, got ${values['replay-commands']}`);
const sizes = values.sizes.split(',').map(Number);
for (const n of sizes) if (!(Number.isInteger(n) && n > 0 && n <= PROJECTION_LIMITS_DEFAULT.historyOrdersTotalMax)) throw new Error(`--sizes: each size must be an integer in 1..${PROJECTION_LIMITS_DEFAULT.historyOrdersTotalMax}, got ${n}`);
const log = (s: string): void => { if (!values.json) process.stderr.write(`${s}\n`); };

/** N terminal orders and N fills (N/2 trades, taker + maker), as the engine would emit them. */
function filled(n: number): Projections {
  const p = new Projections(UNITS_PER_TICK_LOT);
  const order: Extract<EngineEvent, { type: 'order' }> = {
    type: 'order', execType: 'TRADE', status: 'FILLED', orderId: 0, clientOrderId: '', accountId: 0, symbolId: 0, side: 'BUY',
    orderType: 'LIMIT', tif: 'GTC', priceTicks: 500_000, triggerPriceTicks: 0, origQtyLots: 10, executedQtyLots: 10, cumQuoteUnits: 50_000_000_000,
    lastQtyLots: 10, lastPriceTicks: 500_000, reduceOnly: false, stpMode: 'NONE', workingType: 'CONTRACT_PRICE', liquidation: false, timeMs: 0, updateTimeMs: 0,
  };
  const trade: Extract<EngineEvent, { type: 'trade' }> = {
    type: 'trade', symbolId: 0, tradeId: 0, priceTicks: 500_000, qtyLots: 10, takerOrderId: 0, makerOrderId: 0, takerAccountId: 0, makerAccountId: 0,
    takerSide: 'BUY', takerFeeUnits: 2_000_000, makerFeeUnits: 1_000_000, kind: 0,
  };
  const one: EngineEvent[] = [order];
  const tradeOnly: EngineEvent[] = [trade];
  for (let i = 1; i <= n; i++) {
    const nowMs = 1_700_000_000_000 + i;
    // The views copy the event's fields, so reusing one event object is safe.
    order.orderId = i;
    order.clientOrderId = `c-${i}`;
    order.accountId = i % ACCOUNTS;
    order.side = (i & 1) === 0 ? 'BUY' : 'SELL';
    order.priceTicks = 500_000 + (i % 100);
    order.timeMs = order.updateTimeMs = nowMs;
    p.apply(one, nowMs);
    if ((i & 1) === 0) {
      trade.tradeId = i >> 1;
      trade.takerOrderId = i;
      trade.makerOrderId = i - 1;
      trade.takerAccountId = i % ACCOUNTS;
      trade.makerAccountId = (i - 1) % ACCOUNTS;
      p.apply(tradeOnly, nowMs);
    }
  }
  return p;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

interface Row { entries: number; orders: number; fills: number; bytes: number; encodeMs: number; decodeMs: number; encodeUsPerEntry: number; decodeUsPerEntry: number; heapMb: number }

const rows: Row[] = [];
log(`perpx bench:snapshot — node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const n of sizes) {
  const p = filled(n);
  const entries = p.orders.size + p.trades.size;
  const enc: number[] = [];
  const dec: number[] = [];
  let bytes: Uint8Array = new Uint8Array(0);
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    bytes = encodeProjections(p);
    enc.push(performance.now() - t0);
    const q = new Projections(UNITS_PER_TICK_LOT);
    const t1 = performance.now();
    decodeProjectionsInto(q, bytes);
    dec.push(performance.now() - t1);
    if (q.orders.size !== p.orders.size || q.trades.size !== p.trades.size) throw new Error(`round trip lost entries: ${q.orders.size}/${p.orders.size} orders, ${q.trades.size}/${p.trades.size} fills`);
  }
  const row: Row = {
    entries, orders: p.orders.size, fills: p.trades.size, bytes: bytes.length,
    encodeMs: +median(enc).toFixed(1), decodeMs: +median(dec).toFixed(1),
    encodeUsPerEntry: +((median(enc) * 1000) / entries).toFixed(3), decodeUsPerEntry: +((median(dec) * 1000) / entries).toFixed(3),
    heapMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  };
  rows.push(row);
  log(`${String(row.orders).padStart(9)} orders + ${String(row.fills).padStart(9)} fills: snapshot section ${(row.bytes / 2 ** 20).toFixed(1)} MB; `
    + `encode (engine-thread pause) ${row.encodeMs} ms = ${row.encodeUsPerEntry} µs/entry; decode (recovery) ${row.decodeMs} ms = ${row.decodeUsPerEntry} µs/entry; heap ${row.heapMb} MB`);
}

/** Journal-tail replay of the same command log: bare engine vs engine + history projections. */
function replayComparison(): { commands: number; engineOnlyCmdsPerS: number; withHistoryCmdsPerS: number; ratio: number; historyOrders: number; historyFills: number } {
  const flowOptions: Required<FlowOptions> = { ...FLOW_DEFAULTS, seed: 1, commands: replayCommands };
  const log = engineCommandLog(generateFlow(flowOptions));
  const noLimits = { historyOrdersTotalMax: 5_000_000, historyTradesTotalMax: 5_000_000, historyOrdersPerAccountMax: 5_000_000, historyTradesPerAccountMax: 5_000_000 };
  let bare = Infinity;
  let withHistory = Infinity;
  let orders = 0;
  let fills = 0;
  for (let r = 0; r < REPEATS; r++) {
    const engine = setupEngine(flowOptions);
    const t0 = performance.now();
    for (const c of log) engine.replay(c);
    bare = Math.min(bare, performance.now() - t0);
    const setup = setupEngine(flowOptions);
    const host = new InProcessHost(setup.spec.cfg, { engine: setup, projections: noLimits });
    const t1 = performance.now();
    for (const c of log) host.applyOne(c);
    withHistory = Math.min(withHistory, performance.now() - t1);
    if (engine.stateHash() !== host.engine.stateHash()) throw new Error('the two replays reached different states');
    orders = host.projections.orders.size;
    fills = host.projections.trades.size;
  }
  const perS = (ms: number): number => Math.round((log.length * 1000) / ms);
  return { commands: log.length, engineOnlyCmdsPerS: perS(bare), withHistoryCmdsPerS: perS(withHistory), ratio: +(bare / withHistory).toFixed(3), historyOrders: orders, historyFills: fills };
}

const replay = replayComparison();
log(`replay of ${replay.commands} flow commands (best of ${REPEATS}): engine only ${replay.engineOnlyCmdsPerS} cmds/s, engine + history ${replay.withHistoryCmdsPerS} cmds/s `
  + `(${replay.ratio}×; ${replay.historyOrders} orders + ${replay.historyFills} fills kept)`);
if (values.json) process.stdout.write(`${JSON.stringify({ node: process.version, loadavg: loadavg(), repeats: REPEATS, rows, replay })}\n`);
