// The diagnosis: findings ordered by what a reader must know first. A run whose generator could
// not keep its schedule says so before anything else (its numbers describe the generator);
// then findings supplied by the caller (the campaign's own analysis), then those computed here:
// threshold and checker failures, the dominant server stage at peak load (when stage series are
// present), the saturation point, coordinated-omission signals, errors and shortfalls.

import type { RunResult, Finding, TimeSeries } from '../harness/result.ts';
import type { Saturation } from './knee.ts';
import { formatThresholdValue } from '../harness/thresholds.ts';
import { runtimeFindings } from './runtime-doctor.ts';

export interface StageAtPeak {
  tS: number;
  offeredRps: number;
  stages: { name: string; p99Ms: number; share: number }[];
  dominant: string;
  busiestThread?: { name: string; elu: number };
}

function valueAt(series: TimeSeries, tS: number): number | null {
  let best: number | null = null;
  let bestDist = Infinity;
  for (let i = 0; i < series.tS.length; i++) {
    const d = Math.abs(series.tS[i]! - tS);
    const v = series.values[i]!;
    if (d < bestDist && Number.isFinite(v)) {
      bestDist = d;
      best = v;
    }
  }
  return bestDist <= 1.5 ? best : null;
}

/** The second of peak offered load (ties: the one with the highest corrected p99). */
export function peakSecond(r: RunResult): number {
  let best = 0;
  for (let i = 1; i < r.series.offeredRps.length; i++) {
    const a = r.series.offeredRps[i]!;
    const b = r.series.offeredRps[best]!;
    if (a > b * 1.0001 || (Math.abs(a - b) <= b * 0.0001 && (r.series.corrected.p99Ms[i] ?? 0) > (r.series.corrected.p99Ms[best] ?? 0))) best = i;
  }
  return best;
}

export function stageAtPeak(r: RunResult): StageAtPeak | null {
  const stages = r.server?.stages;
  if (stages === undefined || Object.keys(stages).length === 0) return null;
  const t = peakSecond(r) + 0.5;
  const rows: { name: string; p99Ms: number; share: number }[] = [];
  for (const [name, s] of Object.entries(stages)) {
    const v = valueAt(s.p99Ms, t);
    if (v !== null) rows.push({ name, p99Ms: v, share: 0 });
  }
  if (rows.length === 0) return null;
  const total = rows.reduce((a, b) => a + b.p99Ms, 0);
  for (const row of rows) row.share = total > 0 ? row.p99Ms / total : 0;
  rows.sort((a, b) => b.p99Ms - a.p99Ms);
  const out: StageAtPeak = { tS: t, offeredRps: r.series.offeredRps[Math.floor(t)] ?? 0, stages: rows, dominant: rows[0]!.name };
  const elu = r.server?.elu;
  if (elu !== undefined) {
    let busiest: { name: string; elu: number } | undefined;
    for (const [name, s] of Object.entries(elu)) {
      const v = valueAt(s, t);
      if (v !== null && (busiest === undefined || v > busiest.elu)) busiest = { name, elu: v };
    }
    if (busiest !== undefined) out.busiestThread = busiest;
  }
  return out;
}

const rps = (x: number): string => `${Math.round(x).toLocaleString('en-US')} req/s`;
const ms = (x: number): string => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;

export function computeFindings(r: RunResult, saturation: Saturation): Finding[] {
  const out: Finding[] = [];
  if (!r.valid) {
    out.push({
      severity: 'critical',
      title: 'Generator invalid: it could not keep its schedule, so these numbers describe the generator, not the target',
      detail: r.invalidReasons.join('; '),
    });
  }
  out.push(...(r.findings ?? []));
  const failed = r.thresholds.filter((t) => !t.pass);
  if (failed.length > 0) {
    out.push({
      severity: 'critical',
      title: `${failed.length} of ${r.thresholds.length} thresholds failed`,
      detail: failed.map((t) => `${t.source} (actual ${formatThresholdValue(t.actual, t.unit)})`).join('; '),
    });
  }
  const badChecks = (r.checker ?? []).filter((c) => !c.ok);
  if (badChecks.length > 0) {
    out.push({ severity: 'critical', title: `checker found ${badChecks.length} violated invariant(s)`, detail: badChecks.map((c) => `${c.name}: ${c.detail ?? ''}`).join('; ') });
  }
  // clinic doctor's rules on the scraped runtime series (event loop, GC, ELU, CPU vs latency).
  out.push(...runtimeFindings(r));
  const stage = stageAtPeak(r);
  if (stage !== null) {
    const top = stage.stages[0]!;
    let title = `${top.name} is ${Math.round(top.share * 100)}% of the stage p99 at ${rps(stage.offeredRps)} (${ms(top.p99Ms)})`;
    if (stage.busiestThread !== undefined) title += `: the ${stage.busiestThread.name} thread is ${Math.round(stage.busiestThread.elu * 100)}% busy`;
    out.push({ severity: 'warning', title, detail: stage.stages.map((s) => `${s.name} ${ms(s.p99Ms)} (${Math.round(s.share * 100)}%)`).join(', ') });
  }
  if (saturation.found) {
    out.push({
      severity: 'warning',
      title: `p99 turns up at ≈ ${rps(saturation.kneeRps!)} (${ms(saturation.kneeP99Ms!)} vs ${ms(saturation.baselineP99Ms!)} below ${rps(saturation.lastGoodRps!)})`,
      detail: 'saturation point: the lowest offered rate whose p99 is at least 2× the low-load p99 and stays up at higher rates',
    });
  }
  const c = r.latency.corrected;
  const s = r.latency.service;
  if (c.count > 0 && s.count > 0 && c.p99Ms > 2 * s.p99Ms && c.p99Ms - s.p99Ms > 1) {
    out.push({
      severity: 'warning',
      title: `requests waited before they could be sent: corrected p99 ${ms(c.p99Ms)} vs service-time p99 ${ms(s.p99Ms)}`,
      detail: `${r.totals.capBlocked.toLocaleString('en-US')} sends waited for one of the ${r.generator.workers * r.generator.maxInFlightPerWorker} in-flight slots. ` +
        'A closed-loop tool measuring only service time would not see this wait (coordinated omission).',
    });
  }
  // Business rejections the flow produces by design (scenario.expectedErrors, e.g. -2011 for a
  // cancel that lost the race with a fill) are reported apart, as information.
  const expectedCodes = r.scenario.expectedErrors ?? [];
  const isExpected = (key: string): boolean => expectedCodes.includes(key.slice(key.lastIndexOf(':') + 1));
  const errorCodes = Object.entries(r.totals.errors).sort((a, b) => b[1] - a[1]);
  const unexpected = errorCodes.filter(([k]) => !isExpected(k));
  const expected = errorCodes.filter(([k]) => isExpected(k));
  const intended = Math.max(1, r.totals.intended);
  if (unexpected.length > 0) {
    const [code, n] = unexpected[0]!;
    const total = unexpected.reduce((a, e) => a + e[1], 0);
    const rate = total / intended;
    out.push({
      severity: rate > 0.01 ? 'critical' : 'warning',
      title: `${total.toLocaleString('en-US')} errors (${(rate * 100).toFixed(3)}% of intended); most common ${code} × ${n.toLocaleString('en-US')}`,
      detail: unexpected.map(([k, v]) => `${k}: ${v}`).join(', '),
    });
  }
  if (expected.length > 0) {
    const total = expected.reduce((a, e) => a + e[1], 0);
    out.push({
      severity: 'info',
      title: `${total.toLocaleString('en-US')} expected business rejections (${(total / intended * 100).toFixed(3)}% of intended), not counted as failures`,
      detail: `${expected.map(([k, v]) => `${k}: ${v}`).join(', ')} — codes the scenario declares as produced by its flow by design (expectedErrors: ${expectedCodes.join(', ')})`,
    });
  }
  if (r.totals.achievedRatio < 0.99) {
    out.push({ severity: 'warning', title: `only ${(r.totals.achievedRatio * 100).toFixed(2)}% of intended requests were sent`, detail: `${r.totals.dropped} dropped (client backlog full or aborted)` });
  }
  if (out.length === 0) out.push({ severity: 'info', title: 'nothing stood out: thresholds passed, no errors, no saturation found' });
  return out;
}
