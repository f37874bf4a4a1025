// The coordinator of an open-model load run: starts the pacer and the load workers, gives them
// one common start time, merges their per-second histograms exactly as they arrive (live
// progress), and assembles the RunResult: totals, series, generator self-health, validity and
// threshold results.
//
//   const result = await runLoad({ scenario, target: 'http://127.0.0.1:8080', historyDir });
//
// Threads: coordinator (this one: merging, progress — light), pacer (sleeps in Atomics.wait and
// wakes each worker at its intended send times),
// `scenario.workers` load workers (undici, histograms, history).

import { Worker, MessageChannel } from 'node:worker_threads';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { nowMs } from './clock.ts';
import { compileProfile, offeredPerSlice, phaseAt } from './profile.ts';
import type { CompiledProfile } from './profile.ts';
import { normalizeScenario } from './scenario.ts';
import type { Scenario, NormalizedScenario } from './scenario.ts';
import { createPacerShared, Pacer } from './pacer.ts';
import { newHistogram, addEncoded, encodeHistogram, summarize, percentileMs } from './histogram.ts';
import type { Histogram, LatencySummary } from './histogram.ts';
import { mergeHistoryFiles } from './history.ts';
import { parseThreshold, evaluateThresholds } from './thresholds.ts';
import type { ThresholdInputs, LatencyStat } from './thresholds.ts';
import { RESULT_SCHEMA, generatorInvalidReasons } from './result.ts';
import type { RunResult, RunSeries, SliceLatencySeries, GeneratorHealth, WorkerHealth } from './result.ts';
import type { FromWorker, SliceMessage, WorkerTotals, WorkerInit } from './messages.ts';

export interface Progress {
  second: number;
  phase: string;
  offeredRps: number;
  sentRps: number;
  completedRps: number;
  inFlight: number;
  backlog: number;
  /** Corrected p99 of the latest second whose requests have all completed. */
  p99Ms: number | null;
  errors: number;
  lagMaxMs: number;
  /** Seconds whose requests all completed since the previous progress call (live views); set when onProgress is. */
  slices?: SliceProgress[];
}

/** One second of the schedule once every request sent in it has completed. */
export interface SliceProgress {
  /** 0-based second of the schedule (covers [second, second + 1)). */
  second: number;
  corrected: LatencySummary;
  service: LatencySummary;
  errorsByCode: Record<string, number>;
}

export interface LoadOptions {
  scenario: Scenario | NormalizedScenario;
  /** Base URL of the target, e.g. http://127.0.0.1:8080 (a path prefix is kept). */
  target: string;
  id?: string;
  /** Directory for history.ndjson (per-worker files are merged into it); null/undefined = no history. */
  historyDir?: string | null;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** Time between "start" and the first intended send, so every worker is armed. */
  startDelayMs?: number;
  /** Called with the run's start time (epoch ms, shared clock) just before workers start. */
  onStart?: (startMs: number) => void;
}

const workerReadyTimeoutMs = 30_000;

interface SliceAgg {
  parts: SliceMessage[];
}

export function defaultRunId(name: string, date = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
  return `${stamp}-${name.replace(/[^a-zA-Z0-9_-]+/g, '-').slice(0, 40)}`;
}

export async function runLoad(opts: LoadOptions): Promise<RunResult> {
  const scenario = normalizeScenario(opts.scenario);
  let targetUrl: URL;
  try {
    targetUrl = new URL(opts.target);
  } catch {
    throw new Error(`target must be a URL like http://127.0.0.1:8080, got ${JSON.stringify(opts.target)}`);
  }
  const profile = compileProfile(scenario.profile);
  const sliceCount = Math.ceil(profile.durationS - 1e-9);
  const W = scenario.workers;
  const id = opts.id ?? defaultRunId(scenario.name);
  const historyDir = opts.historyDir ?? null;
  if (historyDir !== null) mkdirSync(historyDir, { recursive: true });

  const shared = createPacerShared(W);
  const channels = Array.from({ length: W }, () => new MessageChannel());
  const pacer = await Pacer.start(shared, { profile: scenario.profile, arrivals: scenario.arrivals, seed: scenario.seed }, channels.map((c) => c.port1));
  const workers: Worker[] = [];
  const agg = new Coordinator(scenario, sliceCount, W, opts.onProgress);
  const ready = new Set<number>();
  const done = new Map<number, WorkerTotals>();
  const workerErrors: string[] = [];
  let onAllReady: () => void = () => {};
  let onAllDone: () => void = () => {};
  let failSetup: (e: Error) => void = () => {};
  const allReady = new Promise<void>((res, rej) => ((onAllReady = res), (failSetup = rej)));
  const allDone = new Promise<void>((res) => (onAllDone = res));
  const historyFiles: string[] = [];

  for (let w = 0; w < W; w++) {
    const historyPath = historyDir === null ? null : join(historyDir, `history.w${w}.ndjson`);
    if (historyPath !== null) historyFiles.push(historyPath);
    const init: WorkerInit = {
      scenario, targetUrl: targetUrl.href, workerIndex: w, workerCount: W,
      pacerShared: shared, pacerPort: channels[w]!.port2, historyPath,
    };
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: init, transferList: [channels[w]!.port2] });
    worker.on('message', (msg: FromWorker) => {
      switch (msg.type) {
        case 'ready':
          ready.add(msg.worker);
          if (ready.size === W) onAllReady();
          break;
        case 'slice':
          agg.onSlice(msg);
          break;
        case 'tick':
          agg.onTick(msg.second, msg, W - done.size);
          break;
        case 'done':
          done.set(msg.worker, msg.totals);
          if (done.size === W) onAllDone();
          break;
        case 'error':
          workerErrors.push(msg.message);
          failSetup(new Error(msg.message));
          break;
      }
    });
    worker.on('error', (e) => {
      workerErrors.push(e.message.split('\n')[0]!);
      failSetup(new Error(`load worker ${w} failed: ${e.message.split('\n')[0]}`));
    });
    worker.on('exit', () => {
      if (!done.has(w)) {
        done.set(w, emptyTotals());
        if (done.size === W) onAllDone();
      }
    });
    workers.push(worker);
  }

  let setupTimer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      allReady,
      new Promise((_, rej) => (setupTimer = setTimeout(() => rej(new Error('load workers did not start within 30 s')), workerReadyTimeoutMs))),
    ]);
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    await pacer.stop();
    throw e;
  } finally {
    clearTimeout(setupTimer);
  }

  const startMs = nowMs() + (opts.startDelayMs ?? 250);
  const startedAt = new Date(Date.now() + (startMs - nowMs())).toISOString();
  agg.startMs = startMs;
  opts.onStart?.(startMs);
  pacer.begin(startMs);
  for (const w of workers) w.postMessage({ type: 'start', startMs });
  let aborted = false;
  const onAbort = (): void => {
    aborted = true;
    for (const w of workers) w.postMessage({ type: 'abort' });
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted === true) onAbort();
  await allDone;
  opts.signal?.removeEventListener('abort', onAbort);
  const endMs = nowMs();
  await pacer.stop();
  await Promise.all(workers.map((w) => w.terminate()));

  let historyFile: string | null = null;
  let historyLines: { lines: number; bytes: number } | null = null;
  if (historyDir !== null) {
    historyFile = join(historyDir, 'history.ndjson');
    await mergeHistoryFiles(historyFiles, historyFile);
    historyLines = { lines: 0, bytes: 0 };
    for (const t of done.values()) {
      historyLines.lines += t.history?.lines ?? 0;
      historyLines.bytes += t.history?.bytes ?? 0;
    }
  }
  return agg.result({
    id, target: opts.target, startedAt, startMs, endMs, aborted, profileDurationS: profile.durationS,
    totalsByWorker: [...done.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]),
    workerErrors, historyFile, history: historyLines,
  });
}

function emptyTotals(): WorkerTotals {
  return {
    lag: encodeHistogram(newHistogram()), sentBySecond: [], completedBySecond: [], eldP99MsBySecond: [], eldMaxMsBySecond: [],
    eluBySecond: [], cpuPctBySecond: [], eldP50Ms: 0, eldP99Ms: 0, eldMaxMs: 0, elu: 0, cpuPct: 0, ops: {}, history: null,
  };
}

function emptyLatencySeries(n: number): SliceLatencySeries {
  const z = (): (number | null)[] => new Array<number | null>(n).fill(null);
  return { p50Ms: z(), p90Ms: z(), p99Ms: z(), p999Ms: z(), maxMs: z(), count: new Array<number>(n).fill(0) };
}

function setSlice(series: SliceLatencySeries, i: number, s: LatencySummary): void {
  if (s.count === 0) return;
  series.p50Ms[i] = s.p50Ms;
  series.p90Ms[i] = s.p90Ms;
  series.p99Ms[i] = s.p99Ms;
  series.p999Ms[i] = s.p999Ms;
  series.maxMs[i] = s.maxMs;
  series.count[i] = s.count;
}

function addInto(target: number[], values: readonly number[]): void {
  for (let i = 0; i < values.length; i++) target[i] = (target[i] ?? 0) + values[i]!;
}

/** Merges slices as workers finalize them and builds the result. */
class Coordinator {
  startMs = 0;
  private readonly slices: SliceAgg[];
  private readonly totalCorrected: Histogram = newHistogram();
  private readonly totalService: Histogram = newHistogram();
  private readonly sliceB64: { corrected: string[]; service: string[] };
  private readonly series: RunSeries;
  private readonly ticks = new Map<number, { n: number; sent: number; completed: number; inFlight: number; backlog: number; lagMaxMs: number }>();
  private latestP99Ms: number | null = null;
  private readonly pendingSlices: SliceProgress[] = [];
  private lateCount = 0;
  private errorsSoFar = 0;
  private readonly scenario: NormalizedScenario;
  private readonly profile: CompiledProfile;
  private readonly W: number;
  private readonly onProgress: ((p: Progress) => void) | undefined;

  constructor(scenario: NormalizedScenario, sliceCount: number, W: number, onProgress?: (p: Progress) => void) {
    this.scenario = scenario;
    this.profile = compileProfile(scenario.profile);
    this.W = W;
    this.onProgress = onProgress;
    this.slices = Array.from({ length: sliceCount }, () => ({ parts: [] }));
    this.sliceB64 = { corrected: new Array<string>(sliceCount).fill(''), service: new Array<string>(sliceCount).fill('') };
    const zeros = (): number[] => new Array<number>(sliceCount).fill(0);
    this.series = {
      tS: Array.from({ length: sliceCount }, (_, i) => i),
      phase: Array.from({ length: sliceCount }, (_, i) => phaseAt(this.profile, i + 0.5)),
      offeredRps: offeredPerSlice(this.profile),
      intended: zeros(), sent: [], completed: [], ok: zeros(), fail: zeros(), info: zeros(), dropped: zeros(), capBlocked: zeros(),
      lagMaxMs: zeros(), errorsByCode: {}, corrected: emptyLatencySeries(sliceCount), service: emptyLatencySeries(sliceCount),
    };
  }

  onSlice(msg: SliceMessage): void {
    const agg = this.slices[msg.index];
    if (agg === undefined) throw new Error(`slice ${msg.index} out of range`);
    agg.parts.push(msg);
    if (agg.parts.length < this.W) return;
    const i = msg.index;
    const corrected = newHistogram();
    const service = newHistogram();
    const s = this.series;
    for (const part of agg.parts) {
      addEncoded(corrected, part.corrected);
      addEncoded(service, part.service);
      const c = part.counts;
      s.intended[i]! += c.intended;
      s.ok[i]! += c.ok;
      s.fail[i]! += c.fail;
      s.info[i]! += c.info;
      s.dropped[i]! += c.dropped;
      s.capBlocked[i]! += c.capBlocked;
      this.lateCount += c.late;
      s.lagMaxMs[i] = Math.max(s.lagMaxMs[i]!, c.lagMaxMs);
      for (const [code, n] of Object.entries(part.errors)) {
        const arr = (s.errorsByCode[code] ??= new Array<number>(this.slices.length).fill(0));
        arr[i]! += n;
        this.errorsSoFar += n;
      }
    }
    agg.parts = [];
    const correctedSummary = summarize(corrected);
    const serviceSummary = summarize(service);
    setSlice(s.corrected, i, correctedSummary);
    setSlice(s.service, i, serviceSummary);
    if (this.onProgress !== undefined) {
      const errorsByCode: Record<string, number> = {};
      for (const [code, arr] of Object.entries(s.errorsByCode)) if (arr[i]! > 0) errorsByCode[code] = arr[i]!;
      this.pendingSlices.push({ second: i, corrected: correctedSummary, service: serviceSummary, errorsByCode });
    }
    this.sliceB64.corrected[i] = encodeHistogram(corrected);
    this.sliceB64.service[i] = encodeHistogram(service);
    this.totalCorrected.add(corrected);
    this.totalService.add(service);
    corrected.destroy();
    service.destroy();
    if (s.corrected.count[i]! > 0) this.latestP99Ms = s.corrected.p99Ms[i]!;
  }

  onTick(second: number, t: { sent: number; completed: number; inFlight: number; backlog: number; lagMaxMs: number }, activeWorkers: number): void {
    const cur = this.ticks.get(second) ?? { n: 0, sent: 0, completed: 0, inFlight: 0, backlog: 0, lagMaxMs: 0 };
    cur.n++;
    cur.sent += t.sent;
    cur.completed += t.completed;
    cur.inFlight += t.inFlight;
    cur.backlog += t.backlog;
    cur.lagMaxMs = Math.max(cur.lagMaxMs, t.lagMaxMs);
    this.ticks.set(second, cur);
    if (cur.n < Math.min(this.W, Math.max(1, activeWorkers))) return;
    this.ticks.delete(second);
    this.onProgress?.({
      second: second + 1, phase: phaseAt(this.profile, second + 0.5), offeredRps: this.series.offeredRps[second] ?? 0,
      sentRps: cur.sent, completedRps: cur.completed, inFlight: cur.inFlight, backlog: cur.backlog,
      p99Ms: this.latestP99Ms, errors: this.errorsSoFar, lagMaxMs: cur.lagMaxMs, slices: this.pendingSlices.splice(0),
    });
  }

  result(r: {
    id: string; target: string; startedAt: string; startMs: number; endMs: number; aborted: boolean; profileDurationS: number;
    totalsByWorker: WorkerTotals[]; workerErrors: string[]; historyFile: string | null; history: { lines: number; bytes: number } | null;
  }): RunResult {
    const s = this.series;
    const lag = newHistogram();
    const ops: RunResult['ops'] = {};
    const perWorker: WorkerHealth[] = [];
    r.totalsByWorker.forEach((t, w) => {
      addEncoded(lag, t.lag);
      addInto(s.sent, t.sentBySecond);
      addInto(s.completed, t.completedBySecond);
      for (const [op, c] of Object.entries(t.ops)) {
        const o = (ops[op] ??= { sent: 0, ok: 0, fail: 0, info: 0 });
        o.sent += c.sent;
        o.ok += c.ok;
        o.fail += c.fail;
        o.info += c.info;
      }
      perWorker.push({
        worker: w, eldP50Ms: t.eldP50Ms, eldP99Ms: t.eldP99Ms, eldMaxMs: t.eldMaxMs, elu: t.elu, cpuPct: t.cpuPct,
        eldP99MsBySecond: t.eldP99MsBySecond, eluBySecond: t.eluBySecond, cpuPctBySecond: t.cpuPctBySecond,
      });
    });
    const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
    const intended = sum(s.intended);
    const sent = sum(s.sent);
    const completed = sum(s.completed);
    const errors: Record<string, number> = {};
    for (const [code, arr] of Object.entries(s.errorsByCode)) errors[code] = sum(arr);
    const fail = sum(s.fail);
    const info = sum(s.info);
    const dropped = sum(s.dropped);
    const capBlocked = sum(s.capBlocked);
    const late = this.lateCount;
    const durationS = r.profileDurationS;
    const elapsedS = Math.max(durationS, (r.endMs - r.startMs) / 1000);
    const lagSummary = summarize(lag);
    const generator: GeneratorHealth = {
      workers: this.W, maxInFlightPerWorker: this.scenario.maxInFlightPerWorker, lag: lagSummary,
      lateSends: late, lateFraction: sent === 0 ? 0 : late / sent, capBlockedSends: capBlocked, dropped, perWorker,
      limits: this.scenario.generator,
    };
    const invalidReasons = generatorInvalidReasons(generator, r.workerErrors, percentileMs(this.totalCorrected, 99) || 0);
    if (r.aborted) invalidReasons.push('the run was aborted before the schedule ended');
    const expectedErrors = countExpectedErrors(errors, this.scenario.expectedErrors);
    const totals: RunResult['totals'] = {
      intended, sent, completed, ok: sum(s.ok), fail, info, dropped, capBlocked, late, errors,
      offeredRps: this.profile.totalArrivals / durationS,
      achievedRps: sent / durationS,
      throughputRps: completed / elapsedS,
      errorRate: intended === 0 ? 0 : (fail + info + dropped) / intended,
      timeoutRate: intended === 0 ? 0 : (errors.timeout ?? 0) / intended,
      expectedErrors,
      unexpectedErrorRate: intended === 0 ? 0 : (fail + info + dropped - expectedErrors) / intended,
      achievedRatio: intended === 0 ? 1 : sent / intended,
    };
    const hists: Record<'corrected' | 'service' | 'lag', Histogram> = { corrected: this.totalCorrected, service: this.totalService, lag };
    const inputs: ThresholdInputs = {
      latencyMs: (which: 'corrected' | 'service' | 'lag', stat: LatencyStat) => statMs(hists[which], stat),
      errorRate: totals.errorRate, timeoutRate: totals.timeoutRate, unexpectedErrorRate: totals.unexpectedErrorRate, achievedRatio: totals.achievedRatio,
      throughputRps: totals.throughputRps, achievedRps: totals.achievedRps,
    };
    const thresholds = evaluateThresholds(this.scenario.thresholds.map(parseThreshold), inputs);
    const result: RunResult = {
      schema: RESULT_SCHEMA, id: r.id, scenario: redactScenario(this.scenario), target: r.target, startedAt: r.startedAt, startMs: r.startMs,
      durationS, elapsedS, aborted: r.aborted, valid: invalidReasons.length === 0, invalidReasons, totals,
      latency: { corrected: summarize(this.totalCorrected), service: summarize(this.totalService), lag: lagSummary },
      histograms: { corrected: encodeHistogram(this.totalCorrected), service: encodeHistogram(this.totalService), lag: encodeHistogram(lag), slices: this.sliceB64 },
      series: s, generator, thresholds, ops, historyFile: r.historyFile, history: r.history,
    };
    lag.destroy();
    return result;
  }

}

/** The scenario as stored in results: account secrets are not written to disk. */
export function redactScenario(s: NormalizedScenario): NormalizedScenario {
  const req = s.request as { accounts?: { apiKey: string; secretKey: string }[] };
  if (!Array.isArray(req.accounts)) return s;
  return { ...s, request: { ...s.request, accounts: req.accounts.map((a) => ({ apiKey: a.apiKey, secretKey: '<redacted>' })) } as NormalizedScenario['request'] };
}

function statMs(h: Histogram, stat: LatencyStat): number {
  if (h.totalCount === 0) return NaN;
  if (stat === 'min') return h.getValueAtPercentile(0) / 1000;
  if (stat === 'mean') return h.mean / 1000;
  if (stat === 'max') return h.getValueAtPercentile(100) / 1000;
  return percentileMs(h, stat.percentile);
}

/** Error keys are "<http status>:<binance code>" (or "timeout", "network"...): count those whose code is expected. */
export function countExpectedErrors(errors: Record<string, number>, expectedCodes: readonly string[]): number {
  if (expectedCodes.length === 0) return 0;
  let n = 0;
  for (const [key, count] of Object.entries(errors)) {
    const code = key.slice(key.lastIndexOf(':') + 1);
    if (expectedCodes.includes(code)) n += count;
  }
  return n;
}
