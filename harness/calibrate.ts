// Measurement truth: run the generator against a target whose behaviour is known and compare.
//
// The target (calibration-target.ts, its own thread) imposes d = fixed + Exp(mean) per request,
// serves at most `capacity` at once, and can stall (no progress for stallMs at stallAtS). It
// records, per request, the arrival sequence number, when it received the request and when it
// wrote the response. From those the ground truth follows without trusting the generator:
//   service truth   = written − received (what the server did)
//   corrected truth = written − intended, with the intended time computed from the profile
//                     alone (uniform constant rate: arrival k is due at start + (k + ½)/rate)
// The generator's reported percentiles must be within 5% of the truth, its achieved rate
// within 1% of the offered rate, and the stall must be visible in the corrected latency but
// not in the service time: during the stall the generator's in-flight slots fill, later
// arrivals wait client-side, and only the corrected clock (from the intended time) sees that.
//
// What "within 5%" can honestly mean: both sides measure the same requests, so the only
// differences are network transit and parsing on the loopback (~0.1–0.5 ms), hence the 20 ms
// fixed delay (the transit is ~1–2% of it). The designed distribution (fixed + Exp) is shown
// for context but not gated: its p99.9 from 10,000 samples carries ±3.5% sampling error on its
// own, and timers add up to ~1 ms to every delay.

import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { runLoad } from './load.ts';
import type { Progress } from './load.ts';
import { newHistogram, recordMs, summarize } from './histogram.ts';
import type { LatencySummary } from './histogram.ts';
import { RECORD_FIELDS, designedQuantileMs } from './calibration-model.ts';
import type { TargetConfig } from './calibration-model.ts';
import type { RunResult } from './result.ts';
import type { Scenario } from './scenario.ts';

export interface CalibrationOptions {
  durationS?: number;
  rateRps?: number;
  workers?: number;
  maxInFlightPerWorker?: number;
  fixedMs?: number;
  expMeanMs?: number;
  capacity?: number;
  seed?: number;
  stallAtS?: number;
  /** 0 = no stall. */
  stallMs?: number;
  /** Relative tolerance on percentiles (0.05 = 5%). */
  percentileTolerance?: number;
  /** Relative tolerance on the achieved rate (0.01 = 1%). */
  rateTolerance?: number;
  historyDir?: string | null;
  onProgress?: (p: Progress) => void;
}

export const CALIBRATION_DEFAULTS: Required<Omit<CalibrationOptions, 'onProgress' | 'historyDir'>> = {
  durationS: 15, rateRps: 1000, workers: 2, maxInFlightPerWorker: 32, fixedMs: 20, expMeanMs: 10, capacity: 64,
  seed: 42, stallAtS: 5, stallMs: 500, percentileTolerance: 0.05, rateTolerance: 0.01,
};

export const CHECKED_PERCENTILES = [50, 90, 99, 99.9] as const;

export interface PercentileCheck {
  percentile: number;
  truthMs: number;
  reportedMs: number;
  relError: number;
  pass: boolean;
}

export interface CalibrationReport {
  options: Required<Omit<CalibrationOptions, 'onProgress' | 'historyDir'>>;
  capacityRps: number;
  truth: { corrected: LatencySummary; service: LatencySummary; drawnDelay: LatencySummary; designed: Record<string, number> };
  reported: { corrected: LatencySummary; service: LatencySummary };
  checks: { corrected: PercentileCheck[]; service: PercentileCheck[] };
  rate: { offeredRps: number; achievedRps: number; relError: number; throughputRps: number; pass: boolean };
  stall: { stallMs: number; correctedMaxMs: number; correctedP99Ms: number; serviceP99Ms: number; visibleInCorrected: boolean; hiddenInService: boolean };
  requests: { intended: number; recordedByServer: number; uniqueSeqs: number; missing: number };
  generator: { valid: boolean; invalidReasons: string[]; lagP50Ms: number; lagP99Ms: number; lagMaxMs: number; capBlockedSends: number };
  pass: boolean;
  failures: string[];
  result: RunResult;
}

export interface TargetHandle {
  url: string;
  start(startMs: number): void;
  /** Stops the server; returns its records [seq, recvMs, writeMs, delayMs] × count. */
  stop(): Promise<{ records: Float64Array; count: number }>;
}

/** Starts the calibration target thread (also the bench's bare target with fixed = exp = 0). */
export async function startCalibrationTarget(c: Omit<TargetConfig, 'records' | 'counter'>): Promise<TargetHandle> {
  const records = new SharedArrayBuffer(8 * RECORD_FIELDS * Math.max(1, c.maxRecords));
  const counter = new SharedArrayBuffer(4);
  const config: TargetConfig = { ...c, records, counter };
  const thread = new Worker(new URL('./calibration-target.ts', import.meta.url), { workerData: config });
  const [msg] = (await Promise.race([once(thread, 'message'), once(thread, 'error').then(([e]) => Promise.reject(e as Error))])) as [{ port: number }];
  return {
    url: `http://127.0.0.1:${msg.port}`,
    start: (startMs) => thread.postMessage({ type: 'start', startMs }),
    async stop() {
      thread.postMessage({ type: 'stop' });
      const [done] = (await once(thread, 'message')) as [{ count: number }];
      await thread.terminate();
      const count = Math.min(done.count, c.maxRecords);
      return { records: new Float64Array(records, 0, count * RECORD_FIELDS), count };
    },
  };
}

function checkPercentiles(truth: LatencySummary & { pct: (p: number) => number }, reported: (p: number) => number, tol: number): PercentileCheck[] {
  return CHECKED_PERCENTILES.map((percentile) => {
    const truthMs = truth.pct(percentile);
    const reportedMs = reported(percentile);
    const relError = Math.abs(reportedMs - truthMs) / truthMs;
    return { percentile, truthMs, reportedMs, relError, pass: relError <= tol };
  });
}

export async function runCalibration(opts: CalibrationOptions = {}): Promise<CalibrationReport> {
  const o = { ...CALIBRATION_DEFAULTS, ...stripUndefined(opts) } as CalibrationReport['options'];
  const expected = Math.round(o.rateRps * o.durationS);
  const target = await startCalibrationTarget({
    fixedMs: o.fixedMs, expMeanMs: o.expMeanMs, capacity: o.capacity, seed: o.seed, stallAtS: o.stallAtS, stallMs: o.stallMs,
    maxRecords: expected + 1000,
  });
  const scenario: Scenario = {
    name: 'calibration', seed: o.seed, arrivals: 'uniform', workers: o.workers, maxInFlightPerWorker: o.maxInFlightPerWorker,
    timeoutMs: 30_000, profile: { kind: 'constant', rate: o.rateRps, duration: o.durationS },
    request: { factory: 'static', method: 'GET', path: '/calibrate', op: 'get', seqHeader: 'x-seq' },
  };
  let result: RunResult;
  let server: { records: Float64Array; count: number };
  try {
    result = await runLoad({
      scenario, target: target.url, historyDir: opts.historyDir ?? null,
      onStart: (startMs) => target.start(startMs),
      ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    });
  } finally {
    server = await target.stop();
  }
  return analyze(o, result, server.records, server.count);
}

function analyze(o: CalibrationReport['options'], result: RunResult, records: Float64Array, count: number): CalibrationReport {
  const truthCorrected = newHistogram();
  const truthService = newHistogram();
  const drawn = newHistogram();
  const seen = new Uint8Array(result.totals.intended + 1);
  let unique = 0;
  const periodMs = 1000 / o.rateRps;
  for (let i = 0; i < count; i++) {
    const off = i * RECORD_FIELDS;
    const seq = records[off]!;
    const recvMs = records[off + 1]!;
    const writeMs = records[off + 2]!;
    recordMs(truthService, writeMs - recvMs);
    recordMs(truthCorrected, writeMs - (result.startMs + (seq + 0.5) * periodMs));
    recordMs(drawn, records[off + 3]!);
    if (seq >= 0 && seq < seen.length && seen[seq] === 0) {
      seen[seq] = 1;
      unique++;
    }
  }
  const withPct = (h: ReturnType<typeof newHistogram>): LatencySummary & { pct: (p: number) => number } => ({ ...summarize(h), pct: (p: number) => h.getValueAtPercentile(p) / 1000 });
  const tc = withPct(truthCorrected);
  const ts = withPct(truthService);
  const reportedPct = (which: 'corrected' | 'service') => {
    const s = result.latency[which];
    return (p: number): number => (p === 50 ? s.p50Ms : p === 90 ? s.p90Ms : p === 99 ? s.p99Ms : s.p999Ms);
  };
  const checks = {
    corrected: checkPercentiles(tc, reportedPct('corrected'), o.percentileTolerance),
    service: checkPercentiles(ts, reportedPct('service'), o.percentileTolerance),
  };
  const offeredRps = result.totals.offeredRps;
  const achievedRps = result.totals.achievedRps;
  const rateErr = Math.abs(achievedRps - offeredRps) / offeredRps;
  const stallVisible = o.stallMs === 0 || (result.latency.corrected.maxMs >= 0.9 * o.stallMs && result.latency.corrected.p99Ms >= 0.25 * o.stallMs);
  const stallHidden = o.stallMs === 0 || result.latency.service.p99Ms < 0.25 * o.stallMs;
  const failures: string[] = [];
  for (const which of ['corrected', 'service'] as const) {
    for (const c of checks[which]) {
      if (!c.pass) failures.push(`${which} p${c.percentile}: reported ${c.reportedMs.toFixed(2)} ms vs true ${c.truthMs.toFixed(2)} ms (${(c.relError * 100).toFixed(1)}% > ${o.percentileTolerance * 100}%)`);
    }
  }
  if (rateErr > o.rateTolerance) failures.push(`achieved ${achievedRps.toFixed(1)} req/s vs offered ${offeredRps.toFixed(1)} (${(rateErr * 100).toFixed(2)}% > ${o.rateTolerance * 100}%)`);
  if (!stallVisible) failures.push(`the ${o.stallMs} ms stall is not visible in the corrected latency (max ${result.latency.corrected.maxMs.toFixed(1)} ms, p99 ${result.latency.corrected.p99Ms.toFixed(1)} ms)`);
  if (!stallHidden) failures.push(`service-time p99 ${result.latency.service.p99Ms.toFixed(1)} ms shows the stall (expected it hidden, as coordinated omission hides it)`);
  if (unique !== result.totals.intended) failures.push(`the server saw ${unique} distinct requests of ${result.totals.intended} intended`);
  if (!result.valid) failures.push(`generator run invalid: ${result.invalidReasons.join('; ')}`);
  const designed: Record<string, number> = {};
  for (const p of CHECKED_PERCENTILES) designed[`p${p}`] = designedQuantileMs(o.fixedMs, o.expMeanMs, p);
  const report: CalibrationReport = {
    options: o,
    capacityRps: o.capacity / ((o.fixedMs + o.expMeanMs) / 1000),
    truth: { corrected: strip(tc), service: strip(ts), drawnDelay: summarize(drawn), designed },
    reported: { corrected: result.latency.corrected, service: result.latency.service },
    checks,
    rate: { offeredRps, achievedRps, relError: rateErr, throughputRps: result.totals.throughputRps, pass: rateErr <= o.rateTolerance },
    stall: {
      stallMs: o.stallMs, correctedMaxMs: result.latency.corrected.maxMs, correctedP99Ms: result.latency.corrected.p99Ms,
      serviceP99Ms: result.latency.service.p99Ms, visibleInCorrected: stallVisible, hiddenInService: stallHidden,
    },
    requests: { intended: result.totals.intended, recordedByServer: count, uniqueSeqs: unique, missing: result.totals.intended - unique },
    generator: {
      valid: result.valid, invalidReasons: result.invalidReasons, lagP50Ms: result.generator.lag.p50Ms, lagP99Ms: result.generator.lag.p99Ms,
      lagMaxMs: result.generator.lag.maxMs, capBlockedSends: result.generator.capBlockedSends,
    },
    pass: failures.length === 0,
    failures,
    result,
  };
  truthCorrected.destroy();
  truthService.destroy();
  drawn.destroy();
  return report;
}

function strip(s: LatencySummary & { pct?: unknown }): LatencySummary {
  const { pct: _pct, ...rest } = s;
  return rest;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A fixed-width table of the calibration for terminals and summary.md. */
export function formatCalibration(r: CalibrationReport): string {
  const f = (x: number): string => x.toFixed(2).padStart(9);
  const lines: string[] = [];
  const o = r.options;
  lines.push(r.pass ? 'CALIBRATION PASS' : `CALIBRATION FAIL: ${r.failures.join('; ')}`);
  lines.push(`target: ${o.fixedMs} ms + Exp(mean ${o.expMeanMs} ms), capacity ${o.capacity} concurrent (≈ ${Math.round(r.capacityRps)} req/s), ` +
    `stall ${o.stallMs} ms at t=${o.stallAtS} s; offered ${o.rateRps} req/s uniform for ${o.durationS} s, ${o.workers} workers × ${o.maxInFlightPerWorker} in flight`);
  lines.push('');
  lines.push('latency (ms)          pct     truth  reported   error');
  for (const which of ['corrected', 'service'] as const) {
    for (const c of r.checks[which]) {
      lines.push(`${which.padEnd(18)} ${`p${c.percentile}`.padStart(7)} ${f(c.truthMs)} ${f(c.reportedMs)} ${`${(c.relError * 100).toFixed(2)}%`.padStart(7)}${c.pass ? '' : '  FAIL'}`);
    }
  }
  lines.push(`designed fixed+Exp   p50 ${r.truth.designed.p50!.toFixed(2)}  p99 ${r.truth.designed.p99!.toFixed(2)}  p99.9 ${r.truth.designed['p99.9']!.toFixed(2)}  ` +
    `(drawn: p50 ${r.truth.drawnDelay.p50Ms.toFixed(2)} p99 ${r.truth.drawnDelay.p99Ms.toFixed(2)} p99.9 ${r.truth.drawnDelay.p999Ms.toFixed(2)})`);
  lines.push('');
  lines.push(`rate: offered ${r.rate.offeredRps.toFixed(1)} req/s, achieved ${r.rate.achievedRps.toFixed(1)} req/s (error ${(r.rate.relError * 100).toFixed(3)}%), throughput ${r.rate.throughputRps.toFixed(1)} req/s`);
  lines.push(`stall: corrected max ${r.stall.correctedMaxMs.toFixed(1)} ms, corrected p99 ${r.stall.correctedP99Ms.toFixed(1)} ms — service p99 ${r.stall.serviceP99Ms.toFixed(1)} ms ` +
    `(${r.stall.visibleInCorrected ? 'visible' : 'NOT visible'} when corrected, ${r.stall.hiddenInService ? 'hidden' : 'NOT hidden'} in service time)`);
  lines.push(`generator: schedule lag p50 ${r.generator.lagP50Ms.toFixed(3)} ms, p99 ${r.generator.lagP99Ms.toFixed(3)} ms, max ${r.generator.lagMaxMs.toFixed(2)} ms; ` +
    `${r.generator.capBlockedSends} sends waited for a slot; run ${r.generator.valid ? 'valid' : `INVALID (${r.generator.invalidReasons.join('; ')})`}`);
  lines.push(`requests: ${r.requests.intended} intended, ${r.requests.uniqueSeqs} distinct seen by the server`);
  return lines.join('\n');
}
