// A load worker thread: follows its share of the arrival schedule (arrivals.ts), sends each
// request through the transport at its intended time, and measures every response twice —
// from the intended send time (coordinated-omission corrected) and from the actual send
// (service time) — into per-second HDR histograms keyed by intended time. A second's
// histograms are serialized and posted to the coordinator once every request intended in it
// has completed, so the coordinator merges exact histograms, never percentiles.
//
// Sending: at most maxInFlightPerWorker requests are outstanding. An arrival that finds every
// slot busy waits in a bounded FIFO backlog and is sent when a slot frees (its corrected
// latency still counts from its intended time); past maxBacklogPerWorker it is dropped and
// counted. Schedule lag = actual send − max(intended time, time its slot freed): the delay the
// generator itself added, which decides whether the run is valid.
//
// Waiting: the pacer thread (pacer.ts) wakes the worker at its intended send times; a pump also
// runs after every completion, so at high rates most sends ride on response events.

import { parentPort, workerData } from 'node:worker_threads';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { nowMs } from './clock.ts';
import { compileProfile } from './profile.ts';
import { ArrivalSchedule } from './arrivals.ts';
import { newHistogram, recordMs, encodeHistogram } from './histogram.ts';
import type { Histogram } from './histogram.ts';
import { PacerAck } from './pacer.ts';
import { createFactory } from './request.ts';
import type { RequestFactory, RequestSpec } from './request.ts';
import { createTransport } from './transport.ts';
import type { Transport, CallHandler } from './transport.ts';
import { HistoryWriter } from './history.ts';
import type { WorkerInit, SliceCounts, FromWorker, ToWorker, WorkerTotals } from './messages.ts';

/** Warm-up only (no pacer): poll with setImmediate when the next send is closer than this. */
const warmPollMs = 1;
/** The warm-up run: this rate for this long against a server inside the worker thread. */
const warmUpRps = 2000;
const warmUpS = 0.6;
/** monitorEventLoopDelay records whole timer intervals; subtract its resolution to get the delay. */
const eldResolutionMs = 10;
/** Seconds tracked for send/completion time series beyond the schedule (late completions). */
const extraSecondsTracked = 120;
/** Bytes of an error or wanted response body kept for classification and the history. */
const maxBodyBytesKept = 16 * 1024;

const init = workerData as WorkerInit;
const scenario = init.scenario;
const port = parentPort!;
const workerIndex = init.workerIndex;
const maxInFlight = scenario.maxInFlightPerWorker;
const maxBacklog = scenario.maxBacklogPerWorker;
const lateMs = scenario.generator.lateMs;
const profile = compileProfile(scenario.profile);
const sliceCount = Math.ceil(profile.durationS - 1e-9);
const secondsTracked = sliceCount + Math.ceil(scenario.timeoutMs / 1000) + extraSecondsTracked;
let schedule = new ArrivalSchedule(profile, scenario.arrivals, workerIndex, init.workerCount, scenario.seed);
const pacerAck = new PacerAck(init.pacerShared, workerIndex);

function post(msg: FromWorker): void {
  port.postMessage(msg);
}

/** Phase: 'setup' → 'warming' (warm-up run, nothing reported) → 'running' → 'finished'. */
let phase: 'setup' | 'warming' | 'running' | 'finished' = 'setup';
let onWarmDone: () => void = () => {};

// ---------------------------------------------------------------- per-second slices

class Slice {
  corrected: Histogram;
  service: Histogram;
  counts: SliceCounts = { intended: 0, sent: 0, ok: 0, fail: 0, info: 0, dropped: 0, capBlocked: 0, late: 0, lagMaxMs: 0 };
  errors = new Map<string, number>();
  outstanding = 0;

  constructor(corrected: Histogram, service: Histogram) {
    this.corrected = corrected;
    this.service = service;
  }
}

const slices: (Slice | null)[] = new Array<Slice | null>(sliceCount).fill(null);
const freeHistograms: Histogram[] = [];
let nextFinalSlice = 0;

function takeHistogram(): Histogram {
  return freeHistograms.pop() ?? newHistogram();
}

function sliceAt(k: number): Slice {
  const i = k < sliceCount ? k : sliceCount - 1;
  let s = slices[i];
  if (s === null || s === undefined) {
    s = new Slice(takeHistogram(), takeHistogram());
    slices[i] = s;
  }
  return s;
}

function countError(slice: Slice, code: string): void {
  slice.errors.set(code, (slice.errors.get(code) ?? 0) + 1);
}

/** Posts every slice whose arrivals have all been sent and completed, in order. */
function finalizeSlices(all: boolean): void {
  while (nextFinalSlice < sliceCount) {
    const k = nextFinalSlice;
    const s = slices[k] ?? null;
    if (!all) {
      if (schedule.tS < k + 1) return;
      if (backlog.length > 0 && backlog.peekTs() < k + 1) return;
      if (s !== null && s.outstanding > 0) return;
    }
    const slice = s ?? sliceAt(k);
    if (phase === 'running') {
      post({
        type: 'slice', worker: workerIndex, index: k,
        corrected: encodeHistogram(slice.corrected), service: encodeHistogram(slice.service),
        counts: slice.counts, errors: Object.fromEntries(slice.errors),
      });
    }
    slice.corrected.reset();
    slice.service.reset();
    freeHistograms.push(slice.corrected, slice.service);
    slices[k] = null;
    nextFinalSlice++;
  }
}

// ---------------------------------------------------------------- backlog (bounded FIFO)

class Backlog {
  private seq = new Float64Array(1024);
  private ts = new Float64Array(1024);
  private head = 0;
  length = 0;

  push(seq: number, tS: number): void {
    if (this.length === this.seq.length) this.grow();
    const i = (this.head + this.length) % this.seq.length;
    this.seq[i] = seq;
    this.ts[i] = tS;
    this.length++;
  }

  peekTs(): number {
    return this.ts[this.head]!;
  }

  peekSeq(): number {
    return this.seq[this.head]!;
  }

  shift(): void {
    this.head = (this.head + 1) % this.seq.length;
    this.length--;
  }

  private grow(): void {
    const n = this.seq.length * 2;
    const seq = new Float64Array(n);
    const ts = new Float64Array(n);
    for (let i = 0; i < this.length; i++) {
      seq[i] = this.seq[(this.head + i) % this.seq.length]!;
      ts[i] = this.ts[(this.head + i) % this.seq.length]!;
    }
    this.seq = seq;
    this.ts = ts;
    this.head = 0;
  }
}

let backlog = new Backlog();

// ---------------------------------------------------------------- in-flight calls

let factory: RequestFactory;
let transport: Transport;
let history: HistoryWriter | null = null;
let startMs = 0;
let inFlight = 0;
let lastSlotFreeMs = 0;
let scheduleDone = false;
const lagHist = newHistogram();
const sentBySecond = new Array<number>(secondsTracked).fill(0);
const completedBySecond = new Array<number>(secondsTracked).fill(0);
const ops = new Map<string, { sent: number; ok: number; fail: number; info: number }>();
const opJson = new Map<string, string>();
let tickSent = 0;
let tickCompleted = 0;
let tickLagMaxMs = 0;

function secondOf(ms: number): number {
  const s = Math.floor((ms - startMs) / 1000);
  return s < 0 ? 0 : s >= secondsTracked ? secondsTracked - 1 : s;
}

function relMs(ms: number): string {
  return (ms - startMs).toFixed(3);
}

function opStats(op: string): { sent: number; ok: number; fail: number; info: number } {
  let s = ops.get(op);
  if (s === undefined) {
    s = { sent: 0, ok: 0, fail: 0, info: 0 };
    ops.set(op, s);
    opJson.set(op, JSON.stringify(op));
  }
  return s;
}

class Call implements CallHandler {
  seq = 0;
  tS = 0;
  intendedMs = 0;
  sentMs = 0;
  status = 0;
  keepBody = false;
  chunks: Buffer[] = [];
  bodyBytes = 0;
  spec: RequestSpec | null = null;
  done = false;

  onConnect(): void {}

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    this.keepBody = statusCode >= 400 || factory.wantsBody;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.keepBody && this.bodyBytes < maxBodyBytesKept) {
      this.chunks.push(chunk);
      this.bodyBytes += chunk.length;
    }
    return true;
  }

  onComplete(): void {
    complete(this, null);
  }

  onError(err: Error): void {
    complete(this, err);
  }
}

const freeCalls: Call[] = [];

function send(seq: number, tS: number, lagRefMs: number): void {
  const call = freeCalls.pop() ?? new Call();
  const intendedMs = startMs + tS * 1000;
  const slice = sliceAt(Math.floor(tS));
  const spec = factory.next(seq, intendedMs);
  call.seq = seq;
  call.tS = tS;
  call.intendedMs = intendedMs;
  call.status = 0;
  call.keepBody = false;
  call.bodyBytes = 0;
  call.spec = spec;
  call.done = false;
  const sentMs = nowMs();
  call.sentMs = sentMs;
  const lagMs = sentMs - lagRefMs;
  recordMs(lagHist, lagMs);
  if (lagMs > lateMs) slice.counts.late++;
  if (lagMs > slice.counts.lagMaxMs) slice.counts.lagMaxMs = lagMs;
  if (lagMs > tickLagMaxMs) tickLagMaxMs = lagMs;
  inFlight++;
  slice.outstanding++;
  slice.counts.sent++;
  sentBySecond[secondOf(sentMs)]!++;
  tickSent++;
  opStats(spec.op).sent++;
  if (history !== null) {
    history.append(
      `{"t":${relMs(sentMs)},"type":"invoke","w":${workerIndex},"id":${seq},"f":${opJson.get(spec.op)},"intended":${relMs(intendedMs)},"value":${JSON.stringify(spec.summary ?? null)}}`,
    );
  }
  try {
    transport.dispatch(call, spec);
  } catch (e) {
    complete(call, e as Error);
  }
}

function errorCode(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  return typeof code === 'string' ? code : 'network';
}

function bodyCode(body: string): string {
  if (body.length === 0) return '';
  try {
    const c = (JSON.parse(body) as { code?: unknown }).code;
    return typeof c === 'number' || typeof c === 'string' ? `:${c}` : '';
  } catch {
    return '';
  }
}

function complete(call: Call, err: Error | null): void {
  if (call.done) return; // undici reports at most one outcome; guard against a double report
  call.done = true;
  const recvMs = nowMs();
  const slice = sliceAt(Math.floor(call.tS));
  const correctedMs = recvMs - call.intendedMs;
  const serviceMs = recvMs - call.sentMs;
  recordMs(slice.corrected, correctedMs);
  recordMs(slice.service, serviceMs);
  const spec = call.spec!;
  const body = call.chunks.length === 0 ? '' : Buffer.concat(call.chunks).toString('utf8');
  call.chunks.length = 0;
  const stats = opStats(spec.op);
  let type: 'ok' | 'fail' | 'info';
  let code: string | null = null;
  if (err !== null) {
    type = 'info';
    code = errorCode(err);
  } else if (call.status >= 500 || call.status === 408) {
    // 5xx, and 408 (-1007: Binance's "execution status unknown"), may have been executed: an
    // indeterminate outcome, never a definite rejection (the checker must not call it phantom).
    type = 'info';
    code = `${call.status}${bodyCode(body)}`;
  } else if (call.status >= 400) {
    type = 'fail';
    code = `${call.status}${bodyCode(body)}`;
  } else {
    type = 'ok';
  }
  slice.counts[type]++;
  stats[type]++;
  if (code !== null) countError(slice, code);
  const summary = factory.onResponse === undefined ? undefined : factory.onResponse(spec, call.status, body);
  if (history !== null) {
    history.append(
      `{"t":${relMs(recvMs)},"type":"${type}","w":${workerIndex},"id":${call.seq},"f":${opJson.get(spec.op)},"status":${call.status},"code":${code === null ? 'null' : JSON.stringify(code)},"latencyMs":${correctedMs.toFixed(3)},"serviceMs":${serviceMs.toFixed(3)},"value":${summary === undefined ? 'null' : JSON.stringify(summary)}}`,
    );
  }
  inFlight--;
  slice.outstanding--;
  completedBySecond[secondOf(recvMs)]!++;
  tickCompleted++;
  lastSlotFreeMs = recvMs;
  call.spec = null;
  freeCalls.push(call);
  // Every completion is a chance to send what is due (a freed slot, or an arrival whose pacer
  // wake is still queued behind this response).
  pump();
}

// ---------------------------------------------------------------- the schedule loop

let pumping = false;
let pumpAgain = false;
let immediatePending = false;

function pumpOnce(): void {
  let now = nowMs();
  while (!scheduleDone) {
    const tS = schedule.tS;
    if (tS === Infinity) {
      scheduleDone = true;
      break;
    }
    const intendedMs = startMs + tS * 1000;
    if (intendedMs > now) break;
    const slice = sliceAt(Math.floor(tS));
    slice.counts.intended++;
    if (backlog.length === 0 && inFlight < maxInFlight) {
      send(schedule.seq, tS, intendedMs);
    } else if (backlog.length < maxBacklog) {
      backlog.push(schedule.seq, tS);
    } else {
      slice.counts.dropped++;
      countError(slice, 'client_backlog_full');
    }
    schedule.advance();
    now = nowMs();
  }
  while (backlog.length > 0 && inFlight < maxInFlight) {
    const tS = backlog.peekTs();
    const seq = backlog.peekSeq();
    backlog.shift();
    sliceAt(Math.floor(tS)).counts.capBlocked++;
    send(seq, tS, Math.max(startMs + tS * 1000, lastSlotFreeMs));
  }
}

function pump(): void {
  if (phase !== 'running' && phase !== 'warming') return;
  if (pumping) {
    pumpAgain = true;
    return;
  }
  pumping = true;
  do {
    pumpAgain = false;
    pumpOnce();
  } while (pumpAgain);
  pumping = false;
  scheduleNext();
  finalizeSlices(false);
  maybeFinish();
}

function onImmediate(): void {
  immediatePending = false;
  pump();
}

/** While running, the pacer wakes the worker; only the warm-up times itself. */
function scheduleNext(): void {
  if (phase !== 'warming' || scheduleDone || backlog.length > 0 || immediatePending) return;
  const gapMs = startMs + schedule.tS * 1000 - nowMs();
  immediatePending = true;
  if (gapMs <= warmPollMs) setImmediate(onImmediate);
  else setTimeout(onImmediate, gapMs - warmPollMs);
}

// ---------------------------------------------------------------- self-health (1 Hz)

const eldSecond = monitorEventLoopDelay({ resolution: eldResolutionMs });
const eldTotal = monitorEventLoopDelay({ resolution: eldResolutionMs });
const eldP99MsBySecond: number[] = [];
const eldMaxMsBySecond: number[] = [];
const eluBySecond: number[] = [];
const cpuPctBySecond: number[] = [];
let tickTimer: NodeJS.Timeout | null = null;
let tickIndex = 0;
let eluPrev: EventLoopUtilization;
let eluStart: EventLoopUtilization;
let cpuPrev: NodeJS.CpuUsage;
let cpuStart: NodeJS.CpuUsage;
let cpuPrevMs = 0;

function eldMs(h: ReturnType<typeof monitorEventLoopDelay>, percentile: number): number {
  if (h.count === 0) return 0;
  const ns = percentile >= 100 ? h.max : h.percentile(percentile);
  return Math.max(0, ns / 1e6 - eldResolutionMs);
}

/** Samples the self-health counters of the second that just ended and reports progress. */
function sampleSecond(): void {
  const now = nowMs();
  const eluNow = performance.eventLoopUtilization();
  const cpuNow = process.threadCpuUsage();
  const elapsedMs = Math.max(1, now - cpuPrevMs);
  eldP99MsBySecond.push(eldMs(eldSecond, 99));
  eldMaxMsBySecond.push(eldMs(eldSecond, 100));
  eldSecond.reset();
  eluBySecond.push(performance.eventLoopUtilization(eluNow, eluPrev).utilization);
  cpuPctBySecond.push((100 * (cpuNow.user - cpuPrev.user + cpuNow.system - cpuPrev.system)) / 1000 / elapsedMs);
  eluPrev = eluNow;
  cpuPrev = cpuNow;
  cpuPrevMs = now;
  post({ type: 'tick', worker: workerIndex, second: tickIndex, sent: tickSent, completed: tickCompleted, inFlight, backlog: backlog.length, lagMaxMs: tickLagMaxMs });
  tickSent = 0;
  tickCompleted = 0;
  tickLagMaxMs = 0;
  tickIndex++;
}

function tick(): void {
  sampleSecond();
  // Re-aim at the next whole second of the run so ticks do not drift.
  tickTimer = setTimeout(tick, Math.max(1, startMs + (tickIndex + 1) * 1000 - nowMs()));
}

// ---------------------------------------------------------------- lifecycle

function maybeFinish(): void {
  if (!scheduleDone || backlog.length > 0 || inFlight > 0) return;
  if (phase === 'warming') {
    onWarmDone();
  } else if (phase === 'running') {
    phase = 'finished';
    void finish();
  }
}

async function finish(): Promise<void> {
  if (tickTimer !== null) clearTimeout(tickTimer);
  // The last, partial second still gets its progress line.
  if (tickIndex < sliceCount || tickSent + tickCompleted > 0) sampleSecond();
  finalizeSlices(true);
  const cpuEnd = process.threadCpuUsage();
  const elapsedMs = Math.max(1, nowMs() - startMs);
  const totals: WorkerTotals = {
    lag: encodeHistogram(lagHist),
    sentBySecond: trimTrailingZeros(sentBySecond, sliceCount),
    completedBySecond: trimTrailingZeros(completedBySecond, sliceCount),
    eldP99MsBySecond, eldMaxMsBySecond, eluBySecond, cpuPctBySecond,
    eldP50Ms: eldMs(eldTotal, 50),
    eldP99Ms: eldMs(eldTotal, 99),
    eldMaxMs: eldMs(eldTotal, 100),
    elu: performance.eventLoopUtilization(eluStart).utilization,
    cpuPct: (100 * (cpuEnd.user - cpuStart.user + cpuEnd.system - cpuStart.system)) / 1000 / elapsedMs,
    ops: Object.fromEntries(ops),
    history: history === null ? null : history.close(),
  };
  eldSecond.disable();
  eldTotal.disable();
  await transport.close();
  post({ type: 'done', worker: workerIndex, totals });
  port.close();
}

function trimTrailingZeros(values: number[], minLength: number): number[] {
  let n = values.length;
  while (n > minLength && values[n - 1] === 0) n--;
  return values.slice(0, n);
}

function start(atMs: number): void {
  startMs = atMs;
  lastSlotFreeMs = atMs;
  eldSecond.enable();
  eldTotal.enable();
  eluStart = eluPrev = performance.eventLoopUtilization();
  cpuStart = cpuPrev = process.threadCpuUsage();
  cpuPrevMs = nowMs();
  tickTimer = setTimeout(tick, Math.max(1, startMs + 1000 - nowMs()));
  phase = 'running';
  pump();
  maybeFinish();
}

function abort(): void {
  // Stop offering new arrivals; in-flight requests finish (or time out) and are reported.
  if (!scheduleDone) scheduleDone = true;
  for (let k = 0; k < sliceCount; k++) if (slices[k] === null && k >= nextFinalSlice) sliceAt(k);
  while (backlog.length > 0) {
    const s = sliceAt(Math.floor(backlog.peekTs()));
    s.counts.dropped++;
    countError(s, 'aborted');
    backlog.shift();
  }
  // Slices past the abort point are final now: mark the schedule as exhausted.
  schedule.tS = Infinity;
  finalizeSlices(false);
  maybeFinish();
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'start') start(msg.startMs);
  else if (msg.type === 'abort') abort();
});

/**
 * The warm-up run: the real send/complete/pacer code paths, undici (whose llhttp WebAssembly is
 * compiled per thread on first use) and zlib (histogram encoding) run for warmUpS against a
 * throwaway server inside this thread, then every counter is reset. Measured without it: the
 * first second of every run showed 20–70 ms of schedule lag from JIT and lazy loading. Nothing
 * is sent to the target and the scenario's (possibly stateful) request factory is not called.
 */
async function warmUpRun(): Promise<void> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{"code":-1,"msg":"warm-up"}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port: warmPort } = server.address() as AddressInfo;
  transport = createTransport({ url: `http://127.0.0.1:${warmPort}`, maxInFlight: 8, timeoutMs: 5000 });
  await transport.preconnect(4);
  const warmSpec: RequestSpec = { method: 'POST', path: '/warm-up', op: 'warm-up', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  factory = { wantsBody: true, next: () => warmSpec, onResponse: (_spec, status) => ({ status }) };
  schedule = new ArrivalSchedule(compileProfile({ kind: 'constant', rate: warmUpRps, duration: warmUpS }), 'uniform', 0, 1, 1);
  const done = new Promise<void>((r) => (onWarmDone = r));
  startMs = nowMs() + 5;
  lastSlotFreeMs = startMs;
  phase = 'warming';
  pump();
  await done;
  phase = 'setup';
  await transport.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  for (let i = 0; i < 3; i++) encodeHistogram(lagHist);
  resetRunState();
}

function resetRunState(): void {
  if (inFlight !== 0 || backlog.length !== 0) throw new Error('reset with requests outstanding');
  for (let k = 0; k < sliceCount; k++) {
    const sl = slices[k];
    if (sl !== null && sl !== undefined) {
      sl.corrected.reset();
      sl.service.reset();
      freeHistograms.push(sl.corrected, sl.service);
      slices[k] = null;
    }
  }
  nextFinalSlice = 0;
  backlog = new Backlog();
  scheduleDone = false;
  lagHist.reset();
  sentBySecond.fill(0);
  completedBySecond.fill(0);
  ops.clear();
  opJson.clear();
  tickSent = 0;
  tickCompleted = 0;
  tickLagMaxMs = 0;
  schedule = new ArrivalSchedule(profile, scenario.arrivals, workerIndex, init.workerCount, scenario.seed);
}

async function setup(): Promise<void> {
  init.pacerPort.on('message', () => {
    pacerAck.take();
    pump();
  });
  await warmUpRun();
  factory = await createFactory(scenario.request, { workerIndex, workerCount: init.workerCount, seed: scenario.seed });
  transport = createTransport({ url: init.targetUrl, maxInFlight, timeoutMs: scenario.timeoutMs });
  await transport.preconnect(scenario.preconnectPerWorker);
  if (init.historyPath !== null) history = new HistoryWriter(init.historyPath);
  post({ type: 'ready', worker: workerIndex });
}

setup().catch((e: unknown) => {
  post({ type: 'error', worker: workerIndex, message: e instanceof Error ? e.message : String(e) });
  port.close();
});
