// `perpx load max`: find a target's capacity with autocannon (closed model: N connections, each
// sends its next request when the previous answered) and write the same report as an open-model
// run. Connections step up (default 8, 16, 32, 64, 128), a few seconds each; every response is
// recorded into per-second HDR slices with its service time (autocannon's hrtime duration, not
// its whole-millisecond percentiles), so the report's charts, tables and thresholds work as for
// `perpx load`. The capacity is the highest throughput of a step whose error rate is under 1%
// and, if given, whose p99 is within the limit.
//
// A closed model cannot measure latency from an intended send time: the "corrected" figures of
// this report equal the service times, and a stall shows up as lower throughput, not as latency
// (coordinated omission). Use it for capacity; use the open model (`perpx load`) for SLOs. The
// report says so in its notes.

import autocannon from 'autocannon';
import { createFactory } from './request.ts';
import type { RequestFactory, RequestSpec } from './request.ts';
import type { NormalizedScenario } from './scenario.ts';
import { newHistogram, recordMs, encodeHistogram, summarize, EMPTY_SUMMARY, percentileMs } from './histogram.ts';
import type { Histogram } from './histogram.ts';
import { RESULT_SCHEMA } from './result.ts';
import type { RunResult, RunSeries, Finding, CapacityResult, CapacityStep } from './result.ts';
import { evaluateThresholds, parseThreshold } from './thresholds.ts';
import type { LatencyStat } from './thresholds.ts';
import { countExpectedErrors, defaultRunId, redactScenario } from './load.ts';

export interface LoadMaxOptions {
  scenario: NormalizedScenario;
  target: string;
  /** Connection counts, one step each, ascending. */
  connections?: number[];
  stepDurationS?: number;
  /** A step only counts toward the capacity if its p99 (ms) is at most this. */
  maxP99Ms?: number;
  /** Per-request timeout (s), autocannon's own. */
  timeoutS?: number;
  id?: string;
  onStep?: (step: CapacityStep) => void;
}

export const LOAD_MAX_DEFAULTS = { connections: [8, 16, 32, 64, 128], stepDurationS: 5, timeoutS: 10 } as const;
const MAX_ERROR_RATE = 0.01;

/** The Binance `code` of an error body, or null. */
function binanceCode(body: string): string | null {
  const m = /"code"\s*:\s*(-?\d+)/.exec(body);
  return m === null ? null : m[1]!;
}

interface Recorder {
  startMs: number;
  completed: number[];
  ok: number[];
  fail: number[];
  info: number[];
  errorsByCode: Record<string, number[]>;
  slices: Histogram[];
  phase: string[];
  ops: RunResult['ops'];
}

function secondOf(rec: Recorder, nowMs: number): number {
  const i = Math.max(0, Math.floor((nowMs - rec.startMs) / 1000));
  while (rec.completed.length <= i) {
    rec.completed.push(0);
    rec.ok.push(0);
    rec.fail.push(0);
    rec.info.push(0);
    rec.slices.push(newHistogram());
    rec.phase.push(rec.phase.at(-1) ?? '');
    for (const arr of Object.values(rec.errorsByCode)) arr.push(0);
  }
  return i;
}

function countError(rec: Recorder, i: number, key: string): void {
  let arr = rec.errorsByCode[key];
  if (arr === undefined) {
    arr = new Array<number>(rec.completed.length).fill(0);
    rec.errorsByCode[key] = arr;
  }
  arr[i]!++;
}

interface AcContext { spec?: RequestSpec }

async function runStep(factory: RequestFactory, rec: Recorder, url: URL, connections: number, durationS: number, timeoutS: number): Promise<CapacityStep> {
  const step = newHistogram();
  let errors = 0; // error responses and timeouts
  let timeouts = 0;
  let done = 0; // responses (including error responses)
  const base = url.pathname.replace(/\/$/, '');
  let seq = 0;
  const result = await autocannon({
    url: url.origin,
    connections,
    pipelining: 1,
    duration: durationS,
    timeout: timeoutS,
    requests: [{
      setupRequest: (req: Record<string, unknown>, context: AcContext) => {
        const spec = factory.next(seq++, Date.now());
        context.spec = spec;
        const headers: Record<string, string> = { ...spec.headers };
        if (spec.body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
        return { ...req, method: spec.method, path: base + spec.path, headers, body: spec.body ?? '' };
      },
      onResponse: (status: number, body: string, context: AcContext) => {
        const spec = context.spec;
        if (spec === undefined) return;
        const op = (rec.ops[spec.op] ??= { sent: 0, ok: 0, fail: 0, info: 0 });
        op.sent++;
        const i = secondOf(rec, Date.now());
        if (status >= 200 && status < 300) {
          op.ok++;
          rec.ok[i]!++;
        } else {
          errors++;
          const code = binanceCode(body);
          countError(rec, i, code === null ? String(status) : `${status}:${code}`);
          if (status >= 400 && status < 500) {
            op.fail++;
            rec.fail[i]!++;
          } else {
            op.info++;
            rec.info[i]!++;
          }
        }
        factory.onResponse?.(spec, status, body);
      },
    }],
    setupClient: (client: { on(event: 'response', fn: (status: number, bytes: number, durationMs: number) => void): void; on(event: 'timeout', fn: () => void): void }) => {
      client.on('response', (_status, _bytes, durationMs) => {
        const i = secondOf(rec, Date.now());
        rec.completed[i]!++;
        recordMs(rec.slices[i]!, durationMs);
        recordMs(step, durationMs);
        done++;
      });
      client.on('timeout', () => {
        const i = secondOf(rec, Date.now());
        errors++;
        timeouts++;
        rec.info[i]!++;
        countError(rec, i, 'timeout');
      });
    },
  });
  // Connection errors autocannon saw without a response (its `errors` includes timeouts).
  const unanswered = timeouts + Math.max(0, result.errors - result.timeouts);
  const errorsTotal = errors + Math.max(0, result.errors - result.timeouts);
  const p99Ms = percentileMs(step, 99);
  const s: CapacityStep = {
    connections, durationS,
    throughputRps: done / durationS,
    p50Ms: percentileMs(step, 50), p99Ms, p999Ms: percentileMs(step, 99.9),
    errors: errorsTotal,
    errorRate: done + unanswered === 0 ? 0 : errorsTotal / (done + unanswered),
    within: false,
  };
  step.destroy();
  return s;
}

/** Runs the connection steps and returns a RunResult (with `capacity`) for the report builder. */
export async function runLoadMax(opts: LoadMaxOptions): Promise<RunResult & { capacity: CapacityResult }> {
  const connections = opts.connections ?? [...LOAD_MAX_DEFAULTS.connections];
  const stepDurationS = opts.stepDurationS ?? LOAD_MAX_DEFAULTS.stepDurationS;
  const url = new URL(opts.target);
  const scenario = opts.scenario;
  const factory = await createFactory(scenario.request, { workerIndex: 0, workerCount: 1, seed: scenario.seed });
  const startMs = Date.now();
  const rec: Recorder = { startMs, completed: [], ok: [], fail: [], info: [], errorsByCode: {}, slices: [], phase: [], ops: {} };
  const steps: CapacityStep[] = [];
  for (const c of connections) {
    secondOf(rec, Date.now());
    rec.phase[rec.phase.length - 1] = `${c} conn`;
    const step = await runStep(factory, rec, url, c, stepDurationS, opts.timeoutS ?? LOAD_MAX_DEFAULTS.timeoutS);
    step.within = step.errorRate < MAX_ERROR_RATE && (opts.maxP99Ms === undefined || step.p99Ms <= opts.maxP99Ms);
    steps.push(step);
    opts.onStep?.(step);
  }
  const endMs = Date.now();
  secondOf(rec, endMs - 1);
  // Phases: each second is labelled with the step that was running when it began.
  for (let i = 1; i < rec.phase.length; i++) if (rec.phase[i] === '') rec.phase[i] = rec.phase[i - 1]!;

  const best = steps.filter((s) => s.within).sort((a, b) => b.throughputRps - a.throughputRps)[0];
  const criterion = `error rate < ${MAX_ERROR_RATE * 100}%${opts.maxP99Ms === undefined ? '' : ` and p99 <= ${opts.maxP99Ms} ms`}`;
  const capacity: CapacityResult = {
    model: 'closed (autocannon 9)', criterion, steps,
    capacityRps: best === undefined ? null : best.throughputRps,
    capacityConnections: best === undefined ? null : best.connections,
  };

  const total = newHistogram();
  for (const h of rec.slices) total.add(h);
  const n = rec.completed.length;
  const sliceSummaries = rec.slices.map((h) => summarize(h));
  const latencySeries = {
    count: sliceSummaries.map((s) => s.count),
    p50Ms: sliceSummaries.map((s) => (s.count === 0 ? null : s.p50Ms)),
    p99Ms: sliceSummaries.map((s) => (s.count === 0 ? null : s.p99Ms)),
    p90Ms: sliceSummaries.map((s) => (s.count === 0 ? null : s.p90Ms)),
    p999Ms: sliceSummaries.map((s) => (s.count === 0 ? null : s.p999Ms)),
    maxMs: sliceSummaries.map((s) => (s.count === 0 ? null : s.maxMs)),
  };
  const zeros = (): number[] => new Array<number>(n).fill(0);
  const series: RunSeries = {
    tS: Array.from({ length: n }, (_, i) => i), phase: rec.phase,
    // Closed model: nothing is offered ahead of the responses; what was sent is what completed.
    offeredRps: rec.completed.slice(), intended: rec.completed.slice(), sent: rec.completed.slice(), completed: rec.completed,
    ok: rec.ok, fail: rec.fail, info: rec.info, dropped: zeros(), capBlocked: zeros(), lagMaxMs: zeros(),
    errorsByCode: rec.errorsByCode, corrected: latencySeries, service: latencySeries,
  };
  const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
  const completed = sum(rec.completed);
  const fail = sum(rec.fail);
  const info = sum(rec.info);
  const errors: Record<string, number> = {};
  for (const [k, arr] of Object.entries(rec.errorsByCode)) errors[k] = sum(arr);
  const intended = completed + info;
  const elapsedS = (endMs - startMs) / 1000;
  const expectedErrors = countExpectedErrors(errors, scenario.expectedErrors);
  const totals: RunResult['totals'] = {
    intended, sent: intended, completed, ok: sum(rec.ok), fail, info, dropped: 0, capBlocked: 0, late: 0, errors,
    offeredRps: completed / elapsedS, achievedRps: completed / elapsedS, throughputRps: completed / elapsedS,
    errorRate: intended === 0 ? 0 : (fail + info) / intended,
    timeoutRate: intended === 0 ? 0 : (errors.timeout ?? 0) / intended,
    expectedErrors,
    unexpectedErrorRate: intended === 0 ? 0 : (fail + info - expectedErrors) / intended,
    achievedRatio: 1,
  };
  const summary = summarize(total);
  const thresholds = evaluateThresholds(scenario.thresholds.map(parseThreshold), {
    latencyMs: (which: 'corrected' | 'service' | 'lag', stat: LatencyStat) => {
      if (which === 'lag') return NaN; // a closed model has no schedule
      if (stat === 'max') return summary.maxMs;
      if (stat === 'min') return summary.minMs;
      if (stat === 'mean') return summary.meanMs;
      return percentileMs(total, stat.percentile);
    },
    errorRate: totals.errorRate, timeoutRate: totals.timeoutRate, unexpectedErrorRate: totals.unexpectedErrorRate,
    achievedRatio: 1, throughputRps: totals.throughputRps, achievedRps: totals.achievedRps,
  });
  const findings: Finding[] = [capacity.capacityRps === null
    ? { severity: 'critical', title: `no step met the capacity criterion (${criterion})`, detail: stepsDetail(steps) }
    : {
      severity: 'info',
      title: `capacity ≈ ${Math.round(capacity.capacityRps).toLocaleString('en-US')} req/s at ${capacity.capacityConnections} connections (closed model, ${criterion})`,
      detail: stepsDetail(steps),
    }];
  const encodedSlices = rec.slices.map((h) => encodeHistogram(h));
  const result: RunResult & { capacity: CapacityResult } = {
    schema: RESULT_SCHEMA, id: opts.id ?? defaultRunId(`${scenario.name}-max`), scenario: redactScenario(scenario), target: opts.target,
    startedAt: new Date(startMs).toISOString(), startMs, durationS: elapsedS, elapsedS, aborted: false, valid: true, invalidReasons: [], totals,
    latency: { corrected: summary, service: summary, lag: EMPTY_SUMMARY },
    histograms: { corrected: encodeHistogram(total), service: encodeHistogram(total), lag: encodeHistogram(newHistogram()), slices: { corrected: encodedSlices, service: encodedSlices } },
    series,
    generator: {
      workers: 1, maxInFlightPerWorker: Math.max(...connections), lag: EMPTY_SUMMARY, lateSends: 0, lateFraction: 0, capBlockedSends: 0, dropped: 0,
      perWorker: [], limits: scenario.generator,
    },
    thresholds, ops: rec.ops, historyFile: null, history: null, findings,
    notes: [
      `closed model (autocannon 9, ${connections.join('/')} connections, ${stepDurationS} s each): latency is service time only — "corrected" equals "service", and a server stall lowers throughput instead of showing as latency (coordinated omission). Use perpx load (open model) for SLOs.`,
    ],
    capacity,
  };
  for (const h of rec.slices) h.destroy();
  total.destroy();
  return result;
}

function stepsDetail(steps: CapacityStep[]): string {
  return steps.map((s) => `${s.connections} conn: ${Math.round(s.throughputRps).toLocaleString('en-US')} req/s, p99 ${s.p99Ms.toFixed(2)} ms, errors ${(s.errorRate * 100).toFixed(2)}%${s.within ? '' : ' (outside)'}`).join('; ');
}
