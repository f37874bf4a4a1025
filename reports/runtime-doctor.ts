// perpx's own "doctor": clinic doctor's rules applied to the server series the campaign
// scrapes from /metrics at 1 Hz (stable Node APIs: monitorEventLoopDelay, ELU,
// PerformanceObserver('gc'), process.cpuUsage), per thread, each finding with its numbers.
//
// clinic doctor 11 (node_modules/@clinic/doctor/analysis/*.js), and what is used here:
// - event loop: median delay ≥ 10 ms or max ≥ 100 ms → "event-loop" issue. Here: per thread,
//   the per-second event-loop delay p99 series (median of it ≥ 10 ms, or max ≥ 100 ms).
// - GC: the most GC blocking time in any 1 s window ≥ 100 ms → "gc" issue. Here: per thread,
//   GC pause time per second (ms per second) ≥ 100 in any second.
// - CPU: the 90th percentile of process CPU (share of one core) < 90 % → "I/O" issue (the
//   process waits instead of computing). Here: only in the seconds where latency is high
//   (corrected p99 ≥ 2× the run's median second and ≥ 10 ms), process CPU < 90 % of a core
//   and no thread ≥ 90 % busy (ELU) → the time went to waiting (journal fsync, network).
// - event-loop utilization: median ≥ 95 % → saturated thread (clinic: "loopUtilization").

import type { Finding, RunResult, TimeSeries } from '../harness/result.ts';

export const ELD_MEDIAN_MS_LIMIT = 10;
export const ELD_MAX_MS_LIMIT = 100;
export const GC_MS_PER_S_LIMIT = 100;
export const CPU_IO_LIMIT_PCT = 90;
export const ELU_BUSY_LIMIT = 0.9;
export const ELU_SATURATED_MEDIAN = 0.95;

function finite(values: readonly number[]): number[] {
  return values.filter((v) => Number.isFinite(v));
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function maxAt(s: TimeSeries): { v: number; tS: number } {
  let v = -Infinity;
  let tS = 0;
  for (let i = 0; i < s.values.length; i++) if (s.values[i]! > v) { v = s.values[i]!; tS = s.tS[i]!; }
  return { v, tS };
}

/** Values of a series within [fromS, toS). */
function within(s: TimeSeries, fromS: number, toS: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.tS.length; i++) if (s.tS[i]! >= fromS && s.tS[i]! < toS && Number.isFinite(s.values[i]!)) out.push(s.values[i]!);
  return out;
}

const f1 = (x: number): string => x.toFixed(1);

export function runtimeFindings(r: RunResult): Finding[] {
  const sv = r.server;
  if (sv === undefined) return [];
  const out: Finding[] = [];

  for (const [thread, s] of Object.entries(sv.eventLoopDelayMs ?? {})) {
    const v = finite(s.values);
    if (v.length === 0) continue;
    const med = median(v);
    const mx = maxAt(s);
    if (med >= ELD_MEDIAN_MS_LIMIT || mx.v >= ELD_MAX_MS_LIMIT) {
      const over = v.filter((x) => x >= ELD_MEDIAN_MS_LIMIT).length;
      out.push({
        severity: mx.v >= ELD_MAX_MS_LIMIT * 5 ? 'critical' : 'warning',
        title: `event loop of the ${thread} thread blocked: delay p99 up to ${f1(mx.v)} ms at t=${f1(mx.tS)} s (median second ${f1(med)} ms)`,
        detail: `clinic doctor's event-loop rule: median ≥ ${ELD_MEDIAN_MS_LIMIT} ms or max ≥ ${ELD_MAX_MS_LIMIT} ms. ${over} of ${v.length} seconds had a delay p99 ≥ ${ELD_MEDIAN_MS_LIMIT} ms. ` +
          'Synchronous work holds the thread: see the CPU profile (perpx profile cpu, or the automatic window) for what ran.',
      });
    }
  }

  for (const [thread, s] of Object.entries(sv.gcPauseMs ?? {})) {
    if (s.values.length === 0) continue;
    const mx = maxAt(s);
    if (mx.v >= GC_MS_PER_S_LIMIT) {
      const over = s.values.filter((x) => x >= GC_MS_PER_S_LIMIT).length;
      const total = s.values.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
      out.push({
        severity: 'warning',
        title: `GC blocked the ${thread} thread ${f1(mx.v)} ms in the second at t=${f1(mx.tS)} s`,
        detail: `clinic doctor's GC rule: ≥ ${GC_MS_PER_S_LIMIT} ms of GC pauses in a 1 s window. ${over} second(s) over the limit; ${f1(total)} ms of GC in ${s.values.length} s scraped. ` +
          'Allocation per request drives it: see perpx profile heap (what grew) and the allocation figures.',
      });
    }
  }

  for (const [thread, s] of Object.entries(sv.elu ?? {})) {
    const v = finite(s.values);
    if (v.length < 3) continue;
    const med = median(v);
    if (med >= ELU_SATURATED_MEDIAN) {
      out.push({
        severity: 'warning',
        title: `the ${thread} thread was saturated: event-loop utilization median ${(med * 100).toFixed(1)}% over ${v.length} s`,
        detail: `clinic doctor's loop-utilization rule: median ≥ ${ELU_SATURATED_MEDIAN * 100}%. The thread has no idle time left; its CPU profile shows where the time goes.`,
      });
    }
  }

  const cpu = sv.cpuPct?.process;
  const p99 = r.series.corrected.p99Ms;
  const known = p99.filter((x): x is number => x !== null && Number.isFinite(x));
  if (cpu !== undefined && cpu.values.length > 0 && known.length > 0) {
    const base = median(known);
    const slowSeconds: number[] = [];
    p99.forEach((x, i) => { if (x !== null && x >= Math.max(2 * base, 10)) slowSeconds.push(i); });
    const cpuIn: number[] = [];
    const eluBy: Record<string, number[]> = {};
    for (const i of slowSeconds) {
      cpuIn.push(...within(cpu, i, i + 2));
      for (const [thread, s] of Object.entries(sv.elu ?? {})) (eluBy[thread] ??= []).push(...within(s, i, i + 2));
    }
    if (slowSeconds.length >= 2 && cpuIn.length > 0) {
      const cpuMed = median(cpuIn);
      const eluMed = Object.entries(eluBy).filter(([, v]) => v.length > 0).map(([t, v]) => [t, median(v)] as const);
      const busiest = eluMed.reduce((a, b) => Math.max(a, b[1]), 0);
      if (cpuMed < CPU_IO_LIMIT_PCT && busiest < ELU_BUSY_LIMIT) {
        const worst = Math.max(...slowSeconds.map((i) => p99[i]!));
        const journal = sv.stages?.journal_wait?.p99Ms;
        const journalMax = journal === undefined || journal.values.length === 0 ? null : maxAt(journal);
        out.push({
          severity: 'warning',
          title: `latency was high while the CPU was not: process CPU median ${f1(cpuMed)}% of a core in the ${slowSeconds.length} slow seconds (corrected p99 up to ${f1(worst)} ms) — points at I/O`,
          detail: `clinic doctor's I/O rule: CPU under ${CPU_IO_LIMIT_PCT}% while the application is slow. Slow seconds: p99 ≥ ${f1(Math.max(2 * base, 10))} ms (2× the median second, ${f1(base)} ms). ` +
            `Thread utilization there (median): ${eluMed.map(([t, v]) => `${t} ${(v * 100).toFixed(0)}%`).join(', ')}.` +
            (journalMax === null ? '' : ` Journal wait p99 peaked at ${f1(journalMax.v)} ms (t=${f1(journalMax.tS)} s): fsync latency is the likely wait.`) +
            ' Low process CPU also shows when other processes hold the cores (a shared machine): check its load before blaming I/O.',
        });
      }
    }
  }
  return out;
}
