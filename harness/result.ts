// The run result: everything the report needs, JSON-serializable (results.json), with exact
// serialized histograms so totals and per-second series can be re-merged later. Optional
// sections (server stage latencies, event-loop/ELU/GC/heap/CPU series, checker results,
// findings) are attached by whoever has them — the `perpx run` campaign scrapes the server's
// metrics and runs the checker — before the report is built.

import type { NormalizedScenario } from './scenario.ts';
import type { LatencySummary } from './histogram.ts';
import type { ThresholdResult } from './thresholds.ts';
import type { RunProfiling } from './profiling/types.ts';

export const RESULT_SCHEMA = 'perpx.run/1';

/** Per-second latency; null where no request was intended in that second. */
export interface SliceLatencySeries {
  p50Ms: (number | null)[];
  p90Ms: (number | null)[];
  p99Ms: (number | null)[];
  p999Ms: (number | null)[];
  maxMs: (number | null)[];
  count: number[];
}

export interface RunTotals {
  intended: number;
  sent: number;
  completed: number;
  ok: number;
  fail: number;
  info: number;
  dropped: number;
  capBlocked: number;
  late: number;
  errors: Record<string, number>;
  /** Arrivals per second the profile offered over the scheduled duration. */
  offeredRps: number;
  /** Sends per second over the scheduled duration. */
  achievedRps: number;
  /** Completions per second over the time until the last completion. */
  throughputRps: number;
  /** (fail + info + dropped) / intended. */
  errorRate: number;
  timeoutRate: number;
  /** Errors whose code the scenario lists in expectedErrors (business rejections by design). */
  expectedErrors: number;
  /** (fail + info + dropped − expectedErrors) / intended. */
  unexpectedErrorRate: number;
  /** sent / intended. */
  achievedRatio: number;
}

/** Per-second series; index i is second [i, i+1) of the run, by intended send time unless noted. */
export interface RunSeries {
  tS: number[];
  phase: string[];
  /** The profile's rate, averaged over the second. */
  offeredRps: number[];
  intended: number[];
  /** By actual send time (may run past the schedule while a backlog drains). */
  sent: number[];
  /** By completion time. */
  completed: number[];
  ok: number[];
  fail: number[];
  info: number[];
  dropped: number[];
  capBlocked: number[];
  lagMaxMs: number[];
  errorsByCode: Record<string, number[]>;
  corrected: SliceLatencySeries;
  service: SliceLatencySeries;
}

export interface WorkerHealth {
  worker: number;
  eldP50Ms: number;
  eldP99Ms: number;
  eldMaxMs: number;
  elu: number;
  cpuPct: number;
  eldP99MsBySecond: number[];
  eluBySecond: number[];
  cpuPctBySecond: number[];
}

export interface GeneratorHealth {
  workers: number;
  maxInFlightPerWorker: number;
  lag: LatencySummary;
  lateSends: number;
  lateFraction: number;
  capBlockedSends: number;
  dropped: number;
  perWorker: WorkerHealth[];
  limits: NormalizedScenario['generator'];
}

export interface TimeSeries {
  /** Seconds since the run start. */
  tS: number[];
  values: number[];
}

/** Server-side series scraped during the run (all optional; keys are stage or thread names). */
export interface ServerSeries {
  /** Per-stage latency, e.g. "decode+auth", "queue wait", "engine", "journal", "encode". */
  stages?: Record<string, { p50Ms?: TimeSeries; p99Ms: TimeSeries }>;
  eventLoopDelayMs?: Record<string, TimeSeries>;
  elu?: Record<string, TimeSeries>;
  gcPauseMs?: Record<string, TimeSeries>;
  heapMb?: Record<string, TimeSeries>;
  cpuPct?: Record<string, TimeSeries>;
  /**
   * What the server used between the first and the last scrape of the run (perpx_process_cpu_seconds_total,
   * perpx_heap_allocated_bytes_total summed over threads, perpx_http_requests_total): CPU and allocation per request.
   */
  usage?: { fromS: number; toS: number; cpuSeconds: number; allocatedBytes: number; requests: number };
}

export interface CheckerResult {
  name: string;
  ok: boolean;
  detail?: string;
  violations?: { message: string; ops?: unknown[] }[];
}

export interface Finding {
  severity: 'critical' | 'warning' | 'info';
  title: string;
  detail?: string;
  /** A link from the finding (report-relative: "#anchor" or a file in the run directory). */
  link?: { href: string; text: string };
}

/** A chaos experiment's fault timeline (chaos/runner.ts): drawn over every chart, listed in summary.md. */
export interface ChaosTimeline {
  experiment: string;
  seed: number;
  /** Seconds since the load started. */
  events: { tS: number; kind: 'inject' | 'clear' | 'detect' | 'recover' | 'note'; fault: string; detail: string }[];
  /** One per injected fault: [injectS, clearS] the fault held, [clearS, recoveredS] the recovery (null: not recovered). */
  windows: { fault: string; injectS: number; clearS: number; detectS: number | null; recoveredS: number | null }[];
  /** Headline figures in order: [label, value]. */
  figures: [string, string][];
}

/** One connection step of `perpx load max` (closed model). */
export interface CapacityStep {
  connections: number;
  durationS: number;
  throughputRps: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  errors: number;
  errorRate: number;
  /** Error rate < 1% and p99 within the limit. */
  within: boolean;
}

/** What `perpx load max` found. */
export interface CapacityResult {
  model: 'closed (autocannon 9)';
  criterion: string;
  steps: CapacityStep[];
  /** Highest throughput of a step within the criterion; null if no step was. */
  capacityRps: number | null;
  capacityConnections: number | null;
}

export interface RunResult {
  schema: typeof RESULT_SCHEMA;
  id: string;
  scenario: NormalizedScenario;
  target: string;
  startedAt: string;
  startMs: number;
  durationS: number;
  elapsedS: number;
  aborted: boolean;
  /** False when the generator could not keep its schedule: the numbers then blame the generator. */
  valid: boolean;
  invalidReasons: string[];
  totals: RunTotals;
  latency: { corrected: LatencySummary; service: LatencySummary; lag: LatencySummary };
  /** HdrHistogram V2 compressed base64, microseconds. `slices[i]` is second i. */
  histograms: { corrected: string; service: string; lag: string; slices: { corrected: string[]; service: string[] } };
  series: RunSeries;
  generator: GeneratorHealth;
  thresholds: ThresholdResult[];
  ops: Record<string, { sent: number; ok: number; fail: number; info: number }>;
  historyFile: string | null;
  history: { lines: number; bytes: number } | null;
  checker?: CheckerResult[];
  server?: ServerSeries;
  findings?: Finding[];
  notes?: string[];
  /** CPU profiles, heap diff, clinic reports (harness/profiling: perpx profile, perpx run's automatic capture). */
  profiling?: RunProfiling;
  chaos?: ChaosTimeline;
  /** Present on `perpx load max` runs (closed model). */
  capacity?: CapacityResult;
}

/** Reasons the generator's own behaviour makes the run invalid (empty = valid). */
export function generatorInvalidReasons(g: GeneratorHealth, workerErrors: string[], correctedP99Ms: number): string[] {
  const reasons: string[] = [];
  for (const e of workerErrors) reasons.push(`a load worker failed: ${e}`);
  if (g.lag.count > 0 && g.lag.p99Ms > g.limits.maxLagP99Ms) {
    reasons.push(`schedule lag p99 ${g.lag.p99Ms.toFixed(2)} ms exceeds ${g.limits.maxLagP99Ms} ms: sends left late because the generator was busy`);
  } else if (g.lag.count > 0 && g.lag.p99Ms > 1 && g.lag.p99Ms > g.limits.maxLagShareOfP99 * correctedP99Ms) {
    reasons.push(`schedule lag p99 ${g.lag.p99Ms.toFixed(2)} ms is over ${g.limits.maxLagShareOfP99 * 100}% of the corrected p99 ${correctedP99Ms.toFixed(2)} ms: the generator's own delay would be blamed on the target`);
  }
  if (g.lateFraction > g.limits.maxLateFraction) {
    reasons.push(`${(g.lateFraction * 100).toFixed(2)}% of sends were more than ${g.limits.lateMs} ms late (limit ${(g.limits.maxLateFraction * 100).toFixed(2)}%)`);
  }
  if (g.capBlockedSends > 0) {
    for (const w of g.perWorker) {
      if (w.elu > g.limits.maxWorkerElu) {
        reasons.push(`worker ${w.worker} was ${(w.elu * 100).toFixed(0)}% busy while ${g.capBlockedSends} sends waited for a free slot: the generator, not the target, may have held them`);
      }
    }
  }
  return reasons;
}
