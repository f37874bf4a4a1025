// A synthetic, internally consistent RunResult for report tests and for previewing the report
// without running load: a step profile whose p99 turns up past a knee, real HDR histograms per
// second, a few error codes, and optional server stage series.

import { newHistogram, recordMs, encodeHistogram, summarize, addEncoded } from '../harness/histogram.ts';
import { normalizeScenario } from '../harness/scenario.ts';
import { compileProfile, offeredPerSlice, phaseAt } from '../harness/profile.ts';
import { Rng } from '../harness/rng.ts';
import { evaluateThresholds, parseThreshold } from '../harness/thresholds.ts';
import { RESULT_SCHEMA } from '../harness/result.ts';
import type { RunResult, SliceLatencySeries } from '../harness/result.ts';

export interface SyntheticOptions {
  kneeRps?: number;
  invalid?: boolean;
  withServer?: boolean;
  seed?: number;
}

export function syntheticResult(opts: SyntheticOptions = {}): RunResult {
  const kneeRps = opts.kneeRps ?? 3000;
  const scenario = normalizeScenario({
    name: 'synthetic-steps', seed: opts.seed ?? 3, workers: 2,
    profile: { kind: 'step', from: 500, step: 500, steps: 8, stepDuration: 4 },
    thresholds: ['p99 < 50ms', 'error_rate < 0.1%', 'service.p99 < 20ms'],
  });
  const profile = compileProfile(scenario.profile);
  const offered = offeredPerSlice(profile);
  const n = offered.length;
  const rng = new Rng(opts.seed ?? 3);
  const z = (): number[] => new Array<number>(n).fill(0);
  const lat = (): SliceLatencySeries => ({ p50Ms: [], p90Ms: [], p99Ms: [], p999Ms: [], maxMs: [], count: [] });
  const series: RunResult['series'] = {
    tS: Array.from({ length: n }, (_, i) => i), phase: Array.from({ length: n }, (_, i) => phaseAt(profile, i + 0.5)), offeredRps: offered,
    intended: z(), sent: z(), completed: z(), ok: z(), fail: z(), info: z(), dropped: z(), capBlocked: z(), lagMaxMs: z(),
    errorsByCode: { '400:-2019': z(), '503:-1008': z() }, corrected: lat(), service: lat(),
  };
  const totalC = newHistogram();
  const totalS = newHistogram();
  const slices = { corrected: [] as string[], service: [] as string[] };
  for (let i = 0; i < n; i++) {
    const count = Math.round(offered[i]! / 10); // a tenth of the traffic, to keep it small
    const over = Math.max(0, offered[i]! - kneeRps) / kneeRps;
    const c = newHistogram();
    const s = newHistogram();
    for (let k = 0; k < count; k++) {
      const service = 2 + rng.exp1() * 2 * (1 + 10 * over);
      const wait = over > 0 ? rng.exp1() * 40 * over : 0;
      recordMs(s, service);
      recordMs(c, service + wait);
    }
    const sc = summarize(c);
    const ss = summarize(s);
    for (const [dst, src] of [[series.corrected, sc], [series.service, ss]] as const) {
      dst.p50Ms.push(src.p50Ms);
      dst.p90Ms.push(src.p90Ms);
      dst.p99Ms.push(src.p99Ms);
      dst.p999Ms.push(src.p999Ms);
      dst.maxMs.push(src.maxMs);
      dst.count.push(src.count);
    }
    const errors400 = over > 0 ? Math.round(count * 0.01) : 0;
    const errors503 = over > 0.3 ? Math.round(count * 0.02) : 0;
    series.intended[i] = count;
    series.sent[i] = count;
    series.completed[i] = count;
    series.fail[i] = errors400;
    series.info[i] = errors503;
    series.ok[i] = count - errors400 - errors503;
    series.errorsByCode['400:-2019']![i] = errors400;
    series.errorsByCode['503:-1008']![i] = errors503;
    series.capBlocked[i] = over > 0 ? Math.round(count * over) : 0;
    series.lagMaxMs[i] = 0.3 + rng.float();
    slices.corrected.push(encodeHistogram(c));
    slices.service.push(encodeHistogram(s));
    addEncoded(totalC, slices.corrected[i]!);
    addEncoded(totalS, slices.service[i]!);
  }
  const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
  const intended = sum(series.intended);
  const errors = { '400:-2019': sum(series.errorsByCode['400:-2019']!), '503:-1008': sum(series.errorsByCode['503:-1008']!) };
  const lag = newHistogram();
  for (let k = 0; k < 1000; k++) recordMs(lag, opts.invalid === true ? 3 + rng.exp1() * 10 : 0.05 + rng.exp1() * 0.1);
  const latency = { corrected: summarize(totalC), service: summarize(totalS), lag: summarize(lag) };
  const totals: RunResult['totals'] = {
    intended, sent: intended, completed: intended, ok: sum(series.ok), fail: sum(series.fail), info: sum(series.info), dropped: 0,
    capBlocked: sum(series.capBlocked), late: 0, errors, offeredRps: profile.totalArrivals / profile.durationS, achievedRps: intended / profile.durationS,
    throughputRps: intended / profile.durationS, errorRate: (errors['400:-2019'] + errors['503:-1008']) / intended, timeoutRate: 0, achievedRatio: 1,
    expectedErrors: 0, unexpectedErrorRate: (errors['400:-2019'] + errors['503:-1008']) / intended,
  };
  const hist = { corrected: totalC, service: totalS, lag };
  const thresholds = evaluateThresholds(scenario.thresholds.map(parseThreshold), {
    latencyMs: (which, stat) => (typeof stat === 'object' ? hist[which].getValueAtPercentile(stat.percentile) / 1000 : latency[which].maxMs),
    errorRate: totals.errorRate, timeoutRate: 0, unexpectedErrorRate: totals.unexpectedErrorRate, achievedRatio: 1, throughputRps: totals.throughputRps, achievedRps: totals.achievedRps,
  });
  const perWorker = [0, 1].map((w) => ({
    worker: w, eldP50Ms: 0.1, eldP99Ms: 0.8, eldMaxMs: 3, elu: 0.4, cpuPct: 35,
    eldP99MsBySecond: series.tS.map(() => 0.5 + rng.float()), eluBySecond: series.tS.map(() => 0.4), cpuPctBySecond: series.tS.map(() => 30 + 10 * rng.float()),
  }));
  const invalidReasons = opts.invalid === true ? ['schedule lag p99 38.20 ms exceeds 5 ms: sends left late because the generator was busy'] : [];
  const result: RunResult = {
    schema: RESULT_SCHEMA, id: 'synthetic-1', scenario, target: 'http://127.0.0.1:8080', startedAt: '2026-01-01T00:00:00.000Z', startMs: 1_767_225_600_000,
    durationS: profile.durationS, elapsedS: profile.durationS + 0.2, aborted: false, valid: opts.invalid !== true, invalidReasons, totals, latency,
    histograms: { corrected: encodeHistogram(totalC), service: encodeHistogram(totalS), lag: encodeHistogram(lag), slices },
    series,
    generator: {
      workers: 2, maxInFlightPerWorker: 256, lag: latency.lag, lateSends: 0, lateFraction: 0, capBlockedSends: totals.capBlocked, dropped: 0, perWorker,
      limits: scenario.generator,
    },
    thresholds, ops: { get: { sent: intended, ok: totals.ok, fail: totals.fail, info: totals.info } }, historyFile: null, history: null,
  };
  if (opts.withServer === true) {
    const t = series.tS.map((x) => x + 0.5);
    const load = offered.map((x) => x / (kneeRps * 1.3));
    result.server = {
      stages: {
        'decode+auth': { p99Ms: { tS: t, values: load.map((l) => 0.2 + 0.1 * l) } },
        'queue wait': { p99Ms: { tS: t, values: load.map((l) => 0.1 + 6 * l * l * l) } },
        engine: { p99Ms: { tS: t, values: load.map((l) => 0.3 + 0.4 * l) } },
        journal: { p99Ms: { tS: t, values: load.map((l) => 0.5 + 0.2 * l) } },
        encode: { p99Ms: { tS: t, values: load.map((l) => 0.1 + 0.05 * l) } },
      },
      elu: { engine: { tS: t, values: load.map((l) => Math.min(0.99, 0.15 + 0.8 * l)) }, 'gateway-1': { tS: t, values: load.map((l) => 0.1 + 0.5 * l) } },
      eventLoopDelayMs: { engine: { tS: t, values: load.map((l) => 0.2 + 2 * l) } },
      heapMb: { main: { tS: t, values: load.map((l) => 80 + 40 * l) } },
    };
    result.checker = [
      { name: 'every acknowledged order present', ok: true },
      { name: 'money conserved', ok: true, detail: 'Σ wallets + fees + fund = deposits' },
    ];
  }
  return result;
}
