// Matching-only benchmark: perpx's OrderBook against the npm peer `nodejs-order-book`
// (10.1.1) on the identical seeded order flow (bench/flow.ts).
//
// Method (all in one process, back to back, so ratios are comparable on a noisy box):
// - The flow is generated before timing into typed arrays; each book replays the same
//   commands: warmupCommands untimed (JIT warm-up and a steady-state book), then
//   `commands` timed. Throughput passes time the whole loop once (no per-op timer) and
//   are repeated on fresh books; the median is reported.
// - A separate latency pass times every command with performance.now() (a double: no
//   BigInt allocation, unlike process.hrtime.bigint) and records nanoseconds into an HDR
//   histogram. The cost of one timer read is measured and reported (timerOverheadNs);
//   it is included in every latency sample, not subtracted.
// - GC pauses come from a PerformanceObserver('gc'), attributed to each pass by start time.
// - Memory: after a forced full GC, heapUsed + arrayBuffers before creating a fresh book
//   and after filling it with memoryOrders non-crossing orders (forced GC again). This
//   counts everything the book keeps alive: V8-heap objects (maps, order objects, strings,
//   trees, typed-array headers) plus off-heap typed-array backing stores (perpx's pools).
//   It does not count RSS slack, free semi-space or code. perpx's pools are sized to
//   exactly memoryOrders, so its figure is the per-order cost at full capacity.
// - Both books must end in the same state: the final depth of every level is compared.
//
// Run alone:  npx node --expose-gc bench/matching.ts [--json] [--commands N] [--warmup N] [--seed S]
//             [--repeats N] [--memory-orders N] [--no-peer] [--no-latency] [--no-memory]
//             (also: npm run bench:matching -- --json)
// From code:  await runMatchingBench({ ... })  → a plain JSON-serialisable object.

import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import os from 'node:os';
import hdr from 'hdr-histogram-js';
import { forceGc, GcLog, heapAndBuffers, latencyOf, measureTimerOverhead, median, newHistogram, round3 } from './measure.ts';
import type { GcSummary, LatencyUs } from './measure.ts';
export type { GcSummary, LatencyUs } from './measure.ts';
import { OrderBook as PeerBook, Side as PeerSide } from 'nodejs-order-book';
import { OrderBook, BUY, SELL, TIF_GTC } from '../engine/core/orderbook.ts';
import type { BookListener, Side, Tif } from '../engine/core/orderbook.ts';
import { CountingListener, generateFlow, flowBookLimits, flowDigest, OP_PLACE, OP_CANCEL } from './flow.ts';
import type { Flow, FlowStats } from './flow.ts';

export interface MatchingBenchOptions {
  /** Flow seed (default 1). */
  seed?: number;
  /** Timed commands per pass (default 1,000,000). */
  commands?: number;
  /** Untimed commands replayed first on every book (default 200,000). */
  warmupCommands?: number;
  /** Throughput passes per book on fresh books; the median is reported (default 3 each). */
  repeats?: number;
  peerRepeats?: number;
  /** Include the npm peer (default true). */
  peer?: boolean;
  /** Run the per-command latency passes (default true). */
  latency?: boolean;
  /** Run the heap-per-resting-order measurement (default true). */
  memory?: boolean;
  memoryOrders?: number;
  /** Measure the peer's memory too (slow: default true). */
  peerMemory?: boolean;
  /** Progress lines (default: to stderr). */
  log?: (line: string) => void;
}



export interface BookBenchResult {
  name: string;
  opsPerSec: number;
  opsPerSecRuns: number[];
  throughputGc: GcSummary;
  /** heapUsed after minus before the timed loop, no forced GC (negative when a scavenge ran in between). */
  heapGrowthBytes: number;
  latency: LatencyUs | null;
  latencyGc: GcSummary | null;
}

export interface MemoryResult {
  orders: number;
  bytesPerOrder: number;
  totalBytes: number;
  /** perpx only: bytes of the empty, preallocated book (pools sized to `orders`). */
  emptyBookBytes: number;
  /** Bytes added by filling (perpx: the id → slot Map; peer: everything). */
  fillBytes: number;
  heapUsedDelta: number;
  arrayBuffersDelta: number;
  seconds: number;
}

export interface MatchingBenchResult {
  kind: 'matching-only';
  env: { node: string; v8: string; platform: string; cpus: number; cpuModel: string; exposeGc: boolean };
  flow: { seed: number; digest: string; warmupCommands: number; commands: number; stats: FlowStats; generateSeconds: number };
  timerOverheadNs: { p50: number; mean: number; p99: number };
  perpx: BookBenchResult;
  peer: (BookBenchResult & { version: string }) | null;
  speedup: number | null;
  sameFinalBook: boolean | null;
  memory: { perpx: MemoryResult; peer: MemoryResult | null; counted: string } | null;
  targets: { opsPerSec: number; speedup: number; bytesPerOrder: number; met: { opsPerSec: boolean; speedup: boolean | null; bytesPerOrder: boolean | null } };
}

const TARGET_OPS_PER_SEC = 2_500_000;
const TARGET_SPEEDUP = 10;
const TARGET_BYTES_PER_ORDER = 200;
const PEER_VERSION = '10.1.1';

// ---- drivers (one per book and mode, so each loop stays monomorphic) -------------------


function newPerpx(flow: Flow): OrderBook {
  return new OrderBook(flowBookLimits(flow.options), new CountingListener());
}

/** Replay flow[from, to) on a perpx book. */
export function drivePerpx(book: OrderBook, f: Flow, from: number, to: number): void {
  const { op, id, owner, side, price, qty, tif } = f;
  for (let i = from; i < to; i++) {
    const o = op[i]!;
    if (o === OP_PLACE) book.place(id[i]!, owner[i]!, side[i]! as Side, price[i]!, qty[i]!, tif[i]! as Tif);
    else if (o === OP_CANCEL) book.cancel(id[i]!);
    else book.modify(id[i]!, price[i]!, qty[i]!);
  }
}

function drivePerpxTimed(book: OrderBook, f: Flow, from: number, to: number, h: hdr.Histogram): void {
  const { op, id, owner, side, price, qty, tif } = f;
  for (let i = from; i < to; i++) {
    const o = op[i]!;
    const t0 = performance.now();
    if (o === OP_PLACE) book.place(id[i]!, owner[i]!, side[i]! as Side, price[i]!, qty[i]!, tif[i]! as Tif);
    else if (o === OP_CANCEL) book.cancel(id[i]!);
    else book.modify(id[i]!, price[i]!, qty[i]!);
    const t1 = performance.now();
    h.recordValue(Math.round((t1 - t0) * 1e6));
  }
}

// The peer takes string ids and string enums; String(id) is part of using its API
// (~20–50 ns, under 1% of its per-command cost).
const PEER_SIDE = [PeerSide.BUY, PeerSide.SELL] as const;
type PeerTif = NonNullable<Parameters<PeerBook['limit']>[0]['timeInForce']>;
const PEER_TIF = ['GTC', 'IOC', 'FOK'] as unknown as readonly PeerTif[];

function drivePeer(book: PeerBook, f: Flow, from: number, to: number): void {
  const { op, id, side, price, qty, tif } = f;
  for (let i = from; i < to; i++) {
    const o = op[i]!;
    if (o === OP_PLACE) book.limit({ id: String(id[i]!), side: PEER_SIDE[side[i]!]!, size: qty[i]!, price: price[i]!, timeInForce: PEER_TIF[tif[i]!]! });
    else if (o === OP_CANCEL) book.cancel(String(id[i]!));
    else book.modify(String(id[i]!), { price: price[i]!, size: qty[i]! });
  }
}

function drivePeerTimed(book: PeerBook, f: Flow, from: number, to: number, h: hdr.Histogram): void {
  const { op, id, side, price, qty, tif } = f;
  for (let i = from; i < to; i++) {
    const o = op[i]!;
    const t0 = performance.now();
    if (o === OP_PLACE) book.limit({ id: String(id[i]!), side: PEER_SIDE[side[i]!]!, size: qty[i]!, price: price[i]!, timeInForce: PEER_TIF[tif[i]!]! });
    else if (o === OP_CANCEL) book.cancel(String(id[i]!));
    else book.modify(String(id[i]!), { price: price[i]!, size: qty[i]! });
    const t1 = performance.now();
    h.recordValue(Math.round((t1 - t0) * 1e6));
  }
}


// ---- passes -------------------------------------------------------------------------------

type Kind = 'perpx' | 'peer';

interface ThroughputRun {
  opsPerSec: number;
  fromMs: number;
  toMs: number;
  heapGrowthBytes: number;
  depth: { bids: [number, number][]; asks: [number, number][] };
}

function throughputRun(kind: Kind, f: Flow, warm: number, n: number): ThroughputRun {
  forceGc();
  if (kind === 'perpx') {
    const book = newPerpx(f);
    drivePerpx(book, f, 0, warm);
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    drivePerpx(book, f, warm, warm + n);
    const t1 = performance.now();
    const heap1 = process.memoryUsage().heapUsed;
    const depth = { bids: book.depth(BUY, 1 << 30), asks: book.depth(SELL, 1 << 30) };
    return { opsPerSec: n / ((t1 - t0) / 1000), fromMs: t0, toMs: t1, heapGrowthBytes: heap1 - heap0, depth };
  }
  const book = new PeerBook();
  drivePeer(book, f, 0, warm);
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  drivePeer(book, f, warm, warm + n);
  const t1 = performance.now();
  const heap1 = process.memoryUsage().heapUsed;
  const [asks, bids] = book.depth();
  const byPrice = (a: [number, number], b: [number, number]): number => a[0] - b[0];
  return {
    opsPerSec: n / ((t1 - t0) / 1000),
    fromMs: t0,
    toMs: t1,
    heapGrowthBytes: heap1 - heap0,
    depth: { bids: [...bids].sort(byPrice).reverse(), asks: [...asks].sort(byPrice) },
  };
}

function latencyRun(kind: Kind, f: Flow, warm: number, n: number): { h: hdr.Histogram; fromMs: number; toMs: number } {
  forceGc();
  const h = newHistogram();
  let t0: number;
  if (kind === 'perpx') {
    const book = newPerpx(f);
    drivePerpx(book, f, 0, warm);
    t0 = performance.now();
    drivePerpxTimed(book, f, warm, warm + n, h);
  } else {
    const book = new PeerBook();
    drivePeer(book, f, 0, warm);
    t0 = performance.now();
    drivePeerTimed(book, f, warm, warm + n, h);
  }
  return { h, fromMs: t0, toMs: performance.now() };
}

/** Non-crossing order i of a memory fill: alternating sides over 2,000 levels each. */
const MEM_LEVELS = 2000;
const MEM_MID = 500_000;

function memoryRun(kind: Kind, orders: number): MemoryResult {
  forceGc();
  const m0 = heapAndBuffers();
  const t0 = performance.now();
  let emptyBookBytes = 0;
  let alive: number;
  if (kind === 'perpx') {
    const book = new OrderBook({ maxPriceTicks: 1 << 20, maxOrders: orders, maxLevels: 2 * MEM_LEVELS });
    forceGc();
    const m1 = heapAndBuffers();
    emptyBookBytes = m1.heapUsed + m1.arrayBuffers - (m0.heapUsed + m0.arrayBuffers);
    for (let i = 0; i < orders; i++) {
      const s: Side = (i & 1) === 0 ? BUY : SELL;
      const level = (i >>> 1) % MEM_LEVELS;
      const r = book.place(i + 1, i % 1000, s, s === BUY ? MEM_MID - 1 - level : MEM_MID + 1 + level, 1 + (i % 10), TIF_GTC);
      if (r !== 0) throw new Error(`memory fill: order ${i + 1} did not rest (${r})`);
    }
    forceGc();
    alive = book.orderCount();
  } else {
    const book = new PeerBook();
    for (let i = 0; i < orders; i++) {
      const s = (i & 1) === 0 ? PeerSide.BUY : PeerSide.SELL;
      const level = (i >>> 1) % MEM_LEVELS;
      book.limit({ id: String(i + 1), side: s, size: 1 + (i % 10), price: s === PeerSide.BUY ? MEM_MID - 1 - level : MEM_MID + 1 + level });
    }
    forceGc();
    // Every order rests iff the resting volume is the sum of all sizes.
    let expected = 0;
    for (let i = 0; i < orders; i++) expected += 1 + (i % 10);
    let volume = 0;
    for (const side of book.depth()) for (const [, v] of side) volume += v;
    alive = volume === expected ? orders : -1;
  }
  const m2 = heapAndBuffers();
  const seconds = (performance.now() - t0) / 1000;
  if (alive !== orders) throw new Error(`memory fill: ${alive} of ${orders} orders rest`);
  const total = m2.heapUsed + m2.arrayBuffers - (m0.heapUsed + m0.arrayBuffers);
  return {
    orders,
    bytesPerOrder: round3(total / orders),
    totalBytes: total,
    emptyBookBytes,
    fillBytes: total - emptyBookBytes,
    heapUsedDelta: m2.heapUsed - m0.heapUsed,
    arrayBuffersDelta: m2.arrayBuffers - m0.arrayBuffers,
    seconds: round3(seconds),
  };
}

function sameDepth(a: ThroughputRun['depth'], b: ThroughputRun['depth']): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// ---- the benchmark --------------------------------------------------------------------------

export async function runMatchingBench(opts: MatchingBenchOptions = {}): Promise<MatchingBenchResult> {
  const seed = opts.seed ?? 1;
  const commands = opts.commands ?? 1_000_000;
  const warm = opts.warmupCommands ?? 200_000;
  const repeats = opts.repeats ?? 3;
  const peerRepeats = opts.peerRepeats ?? 3;
  const withPeer = opts.peer ?? true;
  const withLatency = opts.latency ?? true;
  const withMemory = opts.memory ?? true;
  const memoryOrders = opts.memoryOrders ?? 1_000_000;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const exposeGc = typeof (globalThis as { gc?: unknown }).gc === 'function';

  const g0 = performance.now();
  const flow = generateFlow({ seed, commands: warm + commands });
  const generateSeconds = (performance.now() - g0) / 1000;
  log(`flow: seed ${seed}, ${warm} warm-up + ${commands} timed commands, digest ${flowDigest(flow)} (${generateSeconds.toFixed(2)} s to generate)`);

  const gc = new GcLog();
  const timerOverheadNs = measureTimerOverhead(1_000_000);
  log(`timer: performance.now() pair p50 ${timerOverheadNs.p50} ns`);

  const runBook = async (kind: Kind, reps: number): Promise<{ result: BookBenchResult; depth: ThroughputRun['depth'] }> => {
    const runs: ThroughputRun[] = [];
    for (let r = 0; r < reps; r++) {
      runs.push(throughputRun(kind, flow, warm, commands));
      log(`${kind}: throughput run ${r + 1}/${reps}: ${(runs[r]!.opsPerSec / 1e6).toFixed(3)} M ops/s`);
    }
    const ops = runs.map((x) => x.opsPerSec);
    const mid = runs[ops.indexOf(median(ops))] ?? runs[0]!;
    const throughputGc = await gc.summary(mid.fromMs, mid.toMs);
    let latency: LatencyUs | null = null;
    let latencyGc: GcSummary | null = null;
    if (withLatency) {
      const l = latencyRun(kind, flow, warm, commands);
      latency = latencyOf(l.h);
      latencyGc = await gc.summary(l.fromMs, l.toMs);
      log(`${kind}: latency p50 ${latency.p50Us} µs, p99 ${latency.p99Us} µs, p99.9 ${latency.p999Us} µs, max ${latency.maxUs} µs`);
    }
    const result: BookBenchResult = {
      name: kind === 'perpx' ? 'perpx OrderBook' : 'nodejs-order-book',
      opsPerSec: Math.round(median(ops)),
      opsPerSecRuns: ops.map((x) => Math.round(x)),
      throughputGc,
      heapGrowthBytes: mid.heapGrowthBytes,
      latency,
      latencyGc,
    };
    return { result, depth: runs[0]!.depth };
  };

  const perpx = await runBook('perpx', repeats);
  const peer = withPeer ? await runBook('peer', peerRepeats) : null;

  let memory: MatchingBenchResult['memory'] = null;
  if (withMemory) {
    const mp = memoryRun('perpx', memoryOrders);
    log(`perpx: ${mp.bytesPerOrder} bytes per resting order (${memoryOrders} orders)`);
    const mq = withPeer && (opts.peerMemory ?? true) ? memoryRun('peer', memoryOrders) : null;
    if (mq !== null) log(`peer: ${mq.bytesPerOrder} bytes per resting order`);
    memory = {
      perpx: mp,
      peer: mq,
      counted:
        'After forced full GCs: (heapUsed + arrayBuffers) with the filled book alive minus the same before it was created. ' +
        'heapUsed covers live V8-heap objects (id maps, order objects, strings, trees, typed-array headers); arrayBuffers covers ' +
        'off-heap typed-array backing stores (perpx pools, preallocated for exactly `orders` orders and 2*2000 levels). ' +
        'Not counted: RSS slack, free semi-space, code.',
    };
  }
  gc.stop();

  const speedup = peer !== null ? Math.round((perpx.result.opsPerSec / peer.result.opsPerSec) * 100) / 100 : null;
  const bytes = memory?.perpx.bytesPerOrder ?? null;
  return {
    kind: 'matching-only',
    env: { node: process.version, v8: process.versions.v8, platform: `${process.platform}-${process.arch}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', exposeGc },
    flow: { seed, digest: flowDigest(flow), warmupCommands: warm, commands, stats: flow.stats, generateSeconds: round3(generateSeconds) },
    timerOverheadNs,
    perpx: perpx.result,
    peer: peer === null ? null : { ...peer.result, version: PEER_VERSION },
    speedup,
    sameFinalBook: peer === null ? null : sameDepth(perpx.depth, peer.depth),
    memory,
    targets: {
      opsPerSec: TARGET_OPS_PER_SEC,
      speedup: TARGET_SPEEDUP,
      bytesPerOrder: TARGET_BYTES_PER_ORDER,
      met: {
        opsPerSec: perpx.result.opsPerSec >= TARGET_OPS_PER_SEC,
        speedup: speedup === null ? null : speedup >= TARGET_SPEEDUP,
        bytesPerOrder: bytes === null ? null : bytes <= TARGET_BYTES_PER_ORDER,
      },
    },
  };
}

function printSummary(r: MatchingBenchResult): void {
  const line = (b: BookBenchResult): string => {
    const l = b.latency;
    const lat = l === null ? '' : `  p50 ${l.p50Us} µs  p99 ${l.p99Us} µs  p99.9 ${l.p999Us} µs  max ${l.maxUs} µs`;
    return `${b.name.padEnd(20)} ${(b.opsPerSec / 1e6).toFixed(3).padStart(7)} M ops/s${lat}  gc ${b.throughputGc.count}× ${b.throughputGc.totalMs} ms (max ${b.throughputGc.maxMs})`;
  };
  const out = [
    `matching-only, ${r.flow.commands} commands after ${r.flow.warmupCommands} warm-up, seed ${r.flow.seed} (flow ${r.flow.digest}), ${r.env.node}, ${r.env.cpus}× ${r.env.cpuModel}`,
    `timer overhead (performance.now pair): p50 ${r.timerOverheadNs.p50} ns, mean ${r.timerOverheadNs.mean} ns — included in latency samples`,
    line(r.perpx),
    ...(r.peer === null ? [] : [line(r.peer)]),
    ...(r.speedup === null ? [] : [`speedup ${r.speedup}×, same final book: ${r.sameFinalBook}`]),
    ...(r.memory === null
      ? []
      : [
          `heap per resting order (${r.memory.perpx.orders} orders): perpx ${r.memory.perpx.bytesPerOrder} B` +
            (r.memory.peer === null ? '' : `, peer ${r.memory.peer.bytesPerOrder} B`),
        ]),
    `targets: ≥${r.targets.opsPerSec / 1e6}M ops/s ${r.targets.met.opsPerSec ? 'met' : 'MISSED'}; ≥${r.targets.speedup}× peer ${r.targets.met.speedup === null ? 'n/a' : r.targets.met.speedup ? 'met' : 'MISSED'}; ≤${r.targets.bytesPerOrder} B/order ${r.targets.met.bytesPerOrder === null ? 'n/a' : r.targets.met.bytesPerOrder ? 'met' : 'MISSED'}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

function argValue(args: string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`${name} needs a number`);
  return v;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const opts: MatchingBenchOptions = {};
  const c = argValue(args, '--commands');
  if (c !== undefined) opts.commands = c;
  const s = argValue(args, '--seed');
  if (s !== undefined) opts.seed = s;
  const w = argValue(args, '--warmup');
  if (w !== undefined) opts.warmupCommands = w;
  const rep = argValue(args, '--repeats');
  if (rep !== undefined) {
    opts.repeats = rep;
    opts.peerRepeats = rep;
  }
  const m = argValue(args, '--memory-orders');
  if (m !== undefined) opts.memoryOrders = m;
  if (args.includes('--no-peer')) opts.peer = false;
  if (args.includes('--no-memory')) opts.memory = false;
  if (args.includes('--no-latency')) opts.latency = false;
  const result = await runMatchingBench(opts);
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else printSummary(result);
}
