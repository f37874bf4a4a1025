// Metric storage: one Float64Array over a SharedArrayBuffer per thread ("slab"). Its thread
// is the only writer (plain stores, no Atomics); any thread may read every slab at scrape
// time, so /metrics on any gateway thread reports the whole process with no messages.
// Aligned Float64Array element accesses are tear-free (ECMAScript), counts stay exact to 2^53.
//
// Histograms are explicit-bucket (OpenTelemetry semantics: bucket i holds values in
// (bounds[i-1], bounds[i]], the last one everything above): recording is a short linear
// scan and two adds (≈ 10–20 ns), versus ≈ 440 ns for an SDK histogram.record with two
// attributes (toolchain.md). Values are seconds (or counts), as the exported metric's unit.
//
// Every slab has the same layout whatever its thread does; blocks a thread does not use stay
// zero. HTTP series are allocated on first use: slot = (routeId, status) + buckets + sum.

import { assert } from '../core/int.ts';
import { nowMs } from './clock.ts';

const SLAB_MAGIC = 0x5e1ab001;

/** Request latency, seconds: 25 µs … 10 s. */
export const HTTP_BOUNDS_S: readonly number[] = [
  0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** Pipeline stages, seconds: 1 µs … 1 s. */
export const STAGE_BOUNDS_S: readonly number[] = [
  0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];
/** fsync and GC pauses, seconds: 50 µs … 1 s. */
export const PAUSE_BOUNDS_S: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Commands per batch: 1 … 16384. */
export const COUNT_BOUNDS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];

export const STAGES = ['decode_auth', 'queue_wait', 'engine_apply', 'journal_wait', 'encode_write', 'host_round_trip'] as const;
export type StageName = (typeof STAGES)[number];
export const STAGE_DECODE_AUTH = 0;
export const STAGE_QUEUE_WAIT = 1;
export const STAGE_ENGINE_APPLY = 2;
export const STAGE_JOURNAL_WAIT = 3;
export const STAGE_ENCODE_WRITE = 4;
/** submit → reply as the gateway sees it (always recorded for commands, stamps or not). */
export const STAGE_HOST_ROUND_TRIP = 5;

export const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;

/** Distinct (route, status) series per thread; later combinations share the overflow slot. */
export const HTTP_SERIES_MAX = 512;
/** routeId of the overflow slot. */
export const ROUTE_OVERFLOW = -1;

/** Doubles in a histogram block: buckets (bounds + 1) and the sum. */
function histSize(bounds: readonly number[]): number {
  return bounds.length + 2;
}

// ---- layout (offsets in doubles) ---------------------------------------------------------

const H_MAGIC = 0;
const H_CREATED_MS = 1;
const H_SAMPLE_MS = 2;
const H_HTTP_USED = 3;
const HEADER = 8;

const HTTP_SLOT = 2 + histSize(HTTP_BOUNDS_S);
const HTTP_BASE = HEADER;
const STAGE_BASE = HTTP_BASE + HTTP_SERIES_MAX * HTTP_SLOT;
const STAGE_SIZE = histSize(STAGE_BOUNDS_S);
export const ENGINE_BATCH_BASE = STAGE_BASE + STAGES.length * STAGE_SIZE;
export const JOURNAL_BATCH_BASE = ENGINE_BATCH_BASE + histSize(COUNT_BOUNDS);
export const JOURNAL_FSYNC_BASE = JOURNAL_BATCH_BASE + histSize(COUNT_BOUNDS);
export const JOURNAL_BYTES = JOURNAL_FSYNC_BASE + histSize(PAUSE_BOUNDS_S);
/** Runtime gauges (written by the thread's sampler). */
export const RT_BASE = JOURNAL_BYTES + 1;
export const RT_ELD_MIN = RT_BASE;
export const RT_ELD_MEAN = RT_BASE + 1;
export const RT_ELD_P50 = RT_BASE + 2;
export const RT_ELD_P99 = RT_BASE + 3;
export const RT_ELD_MAX = RT_BASE + 4;
export const RT_ELU = RT_BASE + 5;
export const RT_HEAP_USED = RT_BASE + 6;
export const RT_HEAP_TOTAL = RT_BASE + 7;
export const RT_HEAP_LIMIT = RT_BASE + 8;
export const RT_EXTERNAL = RT_BASE + 9;
export const RT_ARRAY_BUFFERS = RT_BASE + 10;
export const GC_BASE = RT_BASE + 11;
export const GC_SIZE = histSize(PAUSE_BOUNDS_S);
/** Bytes allocated on this thread's V8 heap since start (runtime sampler: heap growth + bytes GC freed). */
export const RT_ALLOCATED_BYTES = GC_BASE + GC_KINDS.length * GC_SIZE;
/** Gateway: commands submitted to the host and not yet answered (ring + engine + journal wait). */
export const HOST_INFLIGHT = RT_ALLOCATED_BYTES + 1;
/** Engine thread: accounts liquidated (liquidation events applied). */
export const ENGINE_LIQUIDATIONS = HOST_INFLIGHT + 1;
const SLAB_DOUBLES = ENGINE_LIQUIDATIONS + 1;

export function stageBase(stage: number): number {
  return STAGE_BASE + stage * STAGE_SIZE;
}

// ---- slabs -------------------------------------------------------------------------------

/** Plain data (postMessage/workerData-safe): the SharedArrayBuffer and whose it is. */
export interface SlabHandle {
  /** Label on per-thread metrics, e.g. "gateway-0", "engine". */
  thread: string;
  buffer: SharedArrayBuffer;
}

export function createSlabHandle(thread: string): SlabHandle {
  const buffer = new SharedArrayBuffer(SLAB_DOUBLES * 8);
  const a = new Float64Array(buffer);
  a[H_MAGIC] = SLAB_MAGIC;
  a[H_CREATED_MS] = nowMs();
  return { thread, buffer };
}

export class Slab {
  readonly thread: string;
  readonly a: Float64Array;
  /** Writer side only: (routeId, status) key → slot base. */
  private readonly slots = new Map<number, number>();

  constructor(h: SlabHandle) {
    assert(h.buffer.byteLength === SLAB_DOUBLES * 8, `telemetry slab of ${h.buffer.byteLength} bytes, expected ${SLAB_DOUBLES * 8}`);
    this.thread = h.thread;
    this.a = new Float64Array(h.buffer);
    assert(this.a[H_MAGIC] === SLAB_MAGIC, 'not a telemetry slab');
  }

  get createdMs(): number {
    return this.a[H_CREATED_MS]!;
  }

  get httpUsed(): number {
    return this.a[H_HTTP_USED]!;
  }

  markSampled(ms: number): void {
    this.a[H_SAMPLE_MS] = ms;
  }

  /** Writer only. routeId ≥ 0, status 100..999. */
  httpSlot(routeId: number, status: number): number {
    const key = routeId * 1000 + status;
    const got = this.slots.get(key);
    if (got !== undefined) return got;
    return this.allocHttpSlot(key, routeId, status);
  }

  private allocHttpSlot(key: number, routeId: number, status: number): number {
    const a = this.a;
    const used = a[H_HTTP_USED]!;
    let base: number;
    if (used < HTTP_SERIES_MAX - 1) {
      base = HTTP_BASE + used * HTTP_SLOT;
      a[base] = routeId;
      a[base + 1] = status;
      a[H_HTTP_USED] = used + 1; // published after the header: readers never see a half slot
    } else {
      base = HTTP_BASE + (HTTP_SERIES_MAX - 1) * HTTP_SLOT;
      a[base] = ROUTE_OVERFLOW;
      a[base + 1] = 0;
      a[H_HTTP_USED] = HTTP_SERIES_MAX;
    }
    this.slots.set(key, base);
    return base;
  }
}

/** Record one value into the histogram at `base` (bucket counts then sum). */
export function observe(a: Float64Array, base: number, bounds: readonly number[], v: number): void {
  const n = bounds.length;
  let i = 0;
  while (i < n && v > bounds[i]!) i++;
  a[base + i] += 1;
  a[base + n + 1] += v;
}

/** The HTTP latency histogram inside a slot (after routeId and status). */
export function observeHttp(a: Float64Array, slotBase: number, seconds: number): void {
  observe(a, slotBase + 2, HTTP_BOUNDS_S, seconds);
}

export interface HistogramRead {
  counts: number[];
  count: number;
  sum: number;
}

/** Add the histogram at `base` into `into` (allocates it when null). */
export function readHistogram(a: Float64Array, base: number, bounds: readonly number[], into: HistogramRead | null): HistogramRead {
  const n = bounds.length + 1;
  const out = into ?? { counts: new Array<number>(n).fill(0), count: 0, sum: 0 };
  for (let i = 0; i < n; i++) {
    const c = a[base + i]!;
    out.counts[i] += c;
    out.count += c;
  }
  out.sum += a[base + n]!;
  return out;
}

export interface HttpSeriesRead {
  routeId: number;
  status: number;
  hist: HistogramRead;
}

/** Every HTTP series of one slab (reader side). */
export function readHttpSeries(a: Float64Array): HttpSeriesRead[] {
  const used = Math.min(a[H_HTTP_USED]!, HTTP_SERIES_MAX);
  const out: HttpSeriesRead[] = [];
  for (let s = 0; s < used; s++) {
    const base = HTTP_BASE + s * HTTP_SLOT;
    out.push({ routeId: a[base]!, status: a[base + 1]!, hist: readHistogram(a, base + 2, HTTP_BOUNDS_S, null) });
  }
  return out;
}
