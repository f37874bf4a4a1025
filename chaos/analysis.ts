// From a finished run (per-second series, exact per-second histograms, the operation history)
// and the fault records: per fault, the time to detect (first failed or timed-out request, or
// the first request slower than the SLO, once it was that slow), the time to recover (first
// per-second slice after the clear whose p99 is back under the SLO with failures under the
// allowed ratio), the requests failed during the fault window, and p99 before / during / after.

import type { HistoryOp } from '../harness/checker.ts';
import type { RunResult } from '../harness/result.ts';
import { mergeEncoded, summarizeEncoded } from '../harness/histogram.ts';
import type { SteadyState } from './experiment.ts';
import type { FaultRecord } from './scheduler.ts';

export interface FaultWindow {
  fault: string;
  injectS: number;
  clearS: number;
  /** When the fault became visible to a client (s since start); null: never. */
  detectS: number | null;
  /** Start of the first healthy second after the clear (s since start); null: not before the next fault or the end. */
  recoveredS: number | null;
  /** Requests whose intended send fell in [injectS, recoveredS ?? next fault) that failed indeterminately (network error, timeout, 5xx). */
  failed: number;
  timedOut: number;
}

export interface ImpactSummary {
  windows: FaultWindow[];
  /** Corrected p99 (ms) over the seconds before the first fault, inside fault windows, after the last recovery. */
  p99BeforeMs: number | null;
  p99DuringMs: number | null;
  p99AfterMs: number | null;
  /** Share of the seconds before the first fault that met the steady state (null: none). */
  healthyBeforeRatio: number | null;
  /** True when the last fault's window recovered within steadyState.recoverWithinS of its clear. */
  recoveredAfterLast: boolean;
  failedInWindows: number;
  timedOutInWindows: number;
  detectMs: { median: number | null; max: number | null; detected: number };
  recoverMs: { median: number | null; max: number | null; recovered: number };
  outageMs: { median: number | null; max: number | null };
}

/** Is second `i` of the run healthy under the steady-state hypothesis? null: no requests. */
export function secondHealthy(r: RunResult, i: number, ss: SteadyState): boolean | null {
  const s = r.series;
  const intended = s.intended[i] ?? 0;
  if (intended === 0) return null;
  const bad = (s.info[i] ?? 0) + (s.dropped[i] ?? 0);
  const p99 = s.corrected.p99Ms[i] ?? null;
  return bad / intended <= (ss.maxFailRatio ?? 0.001) && (p99 === null || p99 <= ss.p99Ms);
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

function p99Over(r: RunResult, seconds: number[]): number | null {
  const parts = seconds.map((i) => r.histograms.slices.corrected[i]).filter((b): b is string => b !== undefined && b.length > 0);
  if (parts.length === 0) return null;
  const sum = summarizeEncoded(mergeEncoded(parts));
  return sum.count === 0 ? null : sum.p99Ms;
}

export function analyzeImpact(r: RunResult, records: readonly FaultRecord[], ops: readonly HistoryOp[], ss: SteadyState): ImpactSummary {
  const seconds = r.series.intended.length;
  const injected = records.filter((x) => x.injectS !== null).sort((a, b) => a.injectS! - b.injectS!);
  // Completions with their detection time: an indeterminate failure is seen when it completes;
  // a slow answer is seen once it is slower than the SLO (a client with that deadline gives up).
  const completions = ops.filter((o) => o.type !== 'invoke').map((o) => {
    const lat = Number((o as { latencyMs?: number }).latencyMs ?? 0);
    const intendedMs = o.t - lat;
    const bad = o.type === 'info';
    const slow = lat > ss.p99Ms;
    return { intendedMs, seenMs: bad ? o.t : slow ? intendedMs + ss.p99Ms : Infinity, info: bad, timeout: o.code === 'timeout' };
  });
  const windows: FaultWindow[] = injected.map((rec, k) => {
    const injectS = rec.injectS!;
    const clearS = rec.clearS ?? rec.clearBeganS ?? injectS;
    const nextS = k + 1 < injected.length ? injected[k + 1]!.injectS! : Infinity;
    let detectMs = Infinity;
    for (const c of completions) if (c.seenMs >= injectS * 1000 && c.seenMs < nextS * 1000 && c.seenMs < detectMs) detectMs = c.seenMs;
    let recoveredS: number | null = null;
    for (let i = Math.floor(clearS); i < seconds && i < nextS; i++) {
      const h = secondHealthy(r, i, ss);
      if (h === true) { recoveredS = Math.max(clearS, i); break; }
    }
    const endMs = (recoveredS ?? Math.min(nextS, r.durationS)) * 1000;
    let failed = 0;
    let timedOut = 0;
    for (const c of completions) {
      if (!c.info || c.intendedMs < injectS * 1000 || c.intendedMs >= Math.max(endMs, clearS * 1000 + 1)) continue;
      failed++;
      if (c.timeout) timedOut++;
    }
    return { fault: rec.fault, injectS, clearS, detectS: Number.isFinite(detectMs) ? detectMs / 1000 : null, recoveredS, failed, timedOut };
  });
  const firstS = windows.length > 0 ? windows[0]!.injectS : seconds;
  const before = Array.from({ length: Math.max(0, Math.floor(firstS) - 1) }, (_, i) => i + 1); // second 0 is warm-up
  const inWindow = new Set<number>();
  for (const w of windows) for (let i = Math.floor(w.injectS); i < Math.ceil(w.recoveredS ?? w.clearS) + 1 && i < seconds; i++) inWindow.add(i);
  const last = windows.at(-1);
  const afterFrom = last === undefined ? seconds : Math.ceil(last.recoveredS ?? seconds);
  const after: number[] = [];
  for (let i = afterFrom; i < Math.min(seconds, Math.ceil(r.durationS)); i++) after.push(i);
  const healthyBefore = before.map((i) => secondHealthy(r, i, ss)).filter((h) => h !== null);
  const detects = windows.filter((w) => w.detectS !== null).map((w) => (w.detectS! - w.injectS) * 1000);
  const recovers = windows.filter((w) => w.recoveredS !== null).map((w) => (w.recoveredS! - w.clearS) * 1000);
  const outages = windows.filter((w) => w.recoveredS !== null).map((w) => (w.recoveredS! - w.injectS) * 1000);
  const maxOf = (xs: number[]): number | null => (xs.length === 0 ? null : Math.max(...xs));
  return {
    windows,
    p99BeforeMs: p99Over(r, before),
    p99DuringMs: p99Over(r, [...inWindow].sort((a, b) => a - b)),
    p99AfterMs: p99Over(r, after),
    healthyBeforeRatio: healthyBefore.length === 0 ? null : healthyBefore.filter((h) => h).length / healthyBefore.length,
    recoveredAfterLast: last === undefined || (last.recoveredS !== null && last.recoveredS - last.clearS <= ss.recoverWithinS),
    failedInWindows: windows.reduce((a, w) => a + w.failed, 0),
    timedOutInWindows: windows.reduce((a, w) => a + w.timedOut, 0),
    detectMs: { median: median(detects), max: maxOf(detects), detected: detects.length },
    recoverMs: { median: median(recovers), max: maxOf(recovers), recovered: recovers.length },
    outageMs: { median: median(outages), max: maxOf(outages) },
  };
}
