import { describe, expect, it } from 'vitest';
import { syntheticResult } from './synthetic.ts';
import { runtimeFindings } from './runtime-doctor.ts';
import { buildReport } from './report.ts';
import type { RunResult, TimeSeries } from '../harness/result.ts';

function series(r: RunResult, f: (i: number) => number): TimeSeries {
  const tS = r.series.tS.map((t) => t + 0.5);
  return { tS, values: tS.map((_, i) => f(i)) };
}

/** Seconds whose corrected p99 is at least 2× the median second (the synthetic knee). */
function slowSeconds(r: RunResult): number[] {
  const v = r.series.corrected.p99Ms.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const med = v[v.length >> 1]!;
  return r.series.corrected.p99Ms.flatMap((x, i) => (x !== null && x >= Math.max(2 * med, 10) ? [i] : []));
}

function calm(): RunResult {
  const r = syntheticResult({ withServer: true });
  r.server!.eventLoopDelayMs = { main: series(r, () => 1.5), engine: series(r, () => 0.8) };
  r.server!.gcPauseMs = { main: series(r, () => 4), engine: series(r, () => 0) };
  r.server!.elu = { main: series(r, () => 0.5), engine: series(r, () => 0.92) };
  r.server!.cpuPct = { process: series(r, () => 150) };
  return r;
}

describe('perpx doctor findings (clinic doctor rules on the scraped runtime series)', () => {
  it('a calm run gets none of them', () => {
    const r = calm();
    expect(slowSeconds(r).length).toBeGreaterThanOrEqual(2); // the I/O rule is evaluated, not skipped
    expect(runtimeFindings(r)).toEqual([]);
  });

  it('high event-loop delay fires with the numbers', () => {
    const r = calm();
    r.server!.eventLoopDelayMs!.main = series(r, (i) => (i === 7 ? 180 : 2));
    const f = runtimeFindings(r);
    expect(f).toHaveLength(1);
    expect(f[0]!.title).toContain('main thread');
    expect(f[0]!.title).toContain('180.0 ms');
    expect(f[0]!.title).toContain(`t=${(7.5).toFixed(1)} s`);
    // A median ≥ 10 ms alone also fires.
    r.server!.eventLoopDelayMs!.main = series(r, () => 12);
    expect(runtimeFindings(r)[0]!.title).toContain('median second 12.0 ms');
  });

  it('GC blocking ≥ 100 ms in a second fires; 99 ms does not', () => {
    const r = calm();
    r.server!.gcPauseMs!.engine = series(r, (i) => (i === 3 ? 99 : 1));
    expect(runtimeFindings(r)).toEqual([]);
    r.server!.gcPauseMs!.engine = series(r, (i) => (i === 3 ? 130 : 1));
    const f = runtimeFindings(r);
    expect(f).toHaveLength(1);
    expect(f[0]!.title).toBe('GC blocked the engine thread 130.0 ms in the second at t=3.5 s');
  });

  it('a saturated thread (ELU median ≥ 95%) fires', () => {
    const r = calm();
    r.server!.elu!.engine = series(r, () => 0.97);
    const f = runtimeFindings(r);
    expect(f.map((x) => x.title).join('\n')).toContain('engine thread was saturated: event-loop utilization median 97.0%');
  });

  it('high latency with CPU under 90% and no busy thread points at I/O, with the journal wait', () => {
    const r = calm();
    r.server!.cpuPct!.process = series(r, () => 35);
    r.server!.elu = { main: series(r, () => 0.4), engine: series(r, () => 0.3) };
    r.server!.stages = { journal_wait: { p99Ms: series(r, (i) => (i === 20 ? 41 : 2)) } };
    const f = runtimeFindings(r);
    expect(f).toHaveLength(1);
    expect(f[0]!.title).toContain('process CPU median 35.0% of a core');
    expect(f[0]!.title).toContain(`${slowSeconds(r).length} slow seconds`);
    expect(f[0]!.detail).toContain('Journal wait p99 peaked at 41.0 ms');
    // The same latency with a busy engine thread is not an I/O problem.
    r.server!.elu.engine = series(r, () => 0.93);
    expect(runtimeFindings(r)).toEqual([]);
  });

  it('the findings reach the report diagnosis', () => {
    const r = calm();
    r.server!.gcPauseMs!.main = series(r, (i) => (i === 5 ? 210 : 1));
    const { html, analysis } = buildReport(r);
    expect(analysis.findings.some((f) => f.title.startsWith('GC blocked the main thread 210.0 ms'))).toBe(true);
    expect(html).toContain('GC blocked the main thread 210.0 ms');
  });
});
