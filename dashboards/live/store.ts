// The live run page's memory: named time series of (tS, value) points, fault events, a status
// line and the last log lines — each bounded (a window of seconds, a count of series, events and
// lines), so a run of any length holds a fixed amount. The server sends a snapshot to each new
// page and, once a second, the points added since the previous flush.
//
// Series names (the page groups them by prefix): rate/offered|sent|completed (req/s at the
// second's end), lat/corrected|service/p50|p99|p999 (ms, each second once all its requests
// completed), err/<status:code> (errors in that second), gen/inFlight|lagMaxMs, and from the
// server's /metrics scrape stage/<stage>/p50|p99 (ms), elu/<thread> (0..1), eld/<thread> (ms).

import type { Progress } from '../../harness/load.ts';
import type { ServerSeries, RunResult } from '../../harness/result.ts';

/** A point: [seconds since the load started, value]. */
export type Point = [number, number];

/** A marker on every chart, e.g. a chaos fault's inject/clear (chaos/fault.ts FaultEvent fits). */
export interface LiveEvent {
  tS: number;
  kind: string;
  fault: string;
  detail?: string;
}

export interface LiveStatus {
  state: 'waiting' | 'running' | 'finished';
  scenario: string;
  target: string;
  /** Length of the load profile (the page's x axis covers at least this). */
  durationS: number;
  second: number;
  phase: string;
  /** Errors by key since the start (not windowed). */
  errorsTotal: Record<string, number>;
  verdict?: string;
  /** Path of the report on this server once the run has finished. */
  reportUrl?: string;
  reportFile?: string;
}

export interface LiveSnapshot {
  windowS: number;
  status: LiveStatus;
  series: Record<string, Point[]>;
  events: LiveEvent[];
  log: string[];
}

export interface LiveDelta {
  status: LiveStatus;
  series: Record<string, Point[]>;
  events: LiveEvent[];
  log: string[];
}

export interface LiveStoreLimits {
  /** Keep points no older than this many seconds behind the newest (default 600). */
  windowS?: number;
  maxSeries?: number;
  maxEvents?: number;
  maxLogLines?: number;
}

const clean = (v: number): number => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : 0);

export class LiveStore {
  readonly windowS: number;
  private readonly maxSeries: number;
  private readonly maxEvents: number;
  private readonly maxLogLines: number;
  private readonly series = new Map<string, Point[]>();
  private pending = new Map<string, Point[]>();
  private readonly events: LiveEvent[] = [];
  private pendingEvents: LiveEvent[] = [];
  private readonly log: string[] = [];
  private pendingLog: string[] = [];
  private newestS = 0;
  private dropped = 0;
  status: LiveStatus = { state: 'waiting', scenario: '', target: '', durationS: 0, second: 0, phase: '', errorsTotal: {} };

  constructor(limits: LiveStoreLimits = {}) {
    this.windowS = limits.windowS ?? 600;
    this.maxSeries = limits.maxSeries ?? 200;
    this.maxEvents = limits.maxEvents ?? 500;
    this.maxLogLines = limits.maxLogLines ?? 30;
  }

  /** Points dropped because the series limit was reached (a new error code after 200 series). */
  get droppedPoints(): number {
    return this.dropped;
  }

  /** Add one point, keeping the series sorted by time (latency seconds can arrive out of order). */
  add(name: string, tS: number, value: number): void {
    let s = this.series.get(name);
    if (s === undefined) {
      if (this.series.size >= this.maxSeries) {
        this.dropped++;
        return;
      }
      s = [];
      this.series.set(name, s);
    }
    const p: Point = [clean(tS), clean(value)];
    let i = s.length;
    while (i > 0 && s[i - 1]![0] > p[0]) i--;
    if (i > 0 && s[i - 1]![0] === p[0]) s[i - 1] = p;
    else s.splice(i, 0, p);
    const pend = this.pending.get(name);
    if (pend === undefined) this.pending.set(name, [p]);
    else pend.push(p);
    if (p[0] > this.newestS) {
      this.newestS = p[0];
      this.trim();
    }
  }

  private trim(): void {
    const oldest = this.newestS - this.windowS;
    for (const [name, s] of this.series) {
      let n = 0;
      while (n < s.length && s[n]![0] < oldest) n++;
      if (n > 0) s.splice(0, n);
      if (s.length === 0) this.series.delete(name);
    }
    // Unflushed points are bounded by the same window (a store nobody flushes stays bounded).
    for (const [name, pts] of this.pending) {
      let n = 0;
      while (n < pts.length && pts[n]![0] < oldest) n++;
      if (n > 0) pts.splice(0, n);
      if (pts.length === 0) this.pending.delete(name);
    }
    while (this.events.length > 0 && this.events[0]!.tS < oldest) this.events.shift();
  }

  /** A fault marker or any other timeline event; invalid events are refused with an error. */
  pushEvent(e: LiveEvent): void {
    if (!Number.isFinite(e.tS) || typeof e.kind !== 'string' || typeof e.fault !== 'string') {
      throw new Error(`live event needs a finite tS and string kind and fault, got ${JSON.stringify(e)}`);
    }
    const ev: LiveEvent = { tS: clean(e.tS), kind: e.kind.slice(0, 40), fault: e.fault.slice(0, 80), ...(e.detail === undefined ? {} : { detail: String(e.detail).slice(0, 300) }) };
    this.events.push(ev);
    if (this.events.length > this.maxEvents) this.events.shift();
    this.pendingEvents.push(ev);
    if (this.pendingEvents.length > this.maxEvents) this.pendingEvents.shift();
  }

  addLog(line: string): void {
    const l = line.slice(0, 300);
    this.log.push(l);
    if (this.log.length > this.maxLogLines) this.log.shift();
    this.pendingLog.push(l);
    if (this.pendingLog.length > this.maxLogLines) this.pendingLog.shift();
  }

  /** One progress call of the load coordinator (harness/load.ts): rates now, latency of completed seconds. */
  addProgress(p: Progress): void {
    this.status.state = 'running';
    this.status.second = p.second;
    this.status.phase = p.phase;
    this.add('rate/offered', p.second, p.offeredRps);
    this.add('rate/sent', p.second, p.sentRps);
    this.add('rate/completed', p.second, p.completedRps);
    this.add('gen/inFlight', p.second, p.inFlight);
    this.add('gen/lagMaxMs', p.second, p.lagMaxMs);
    for (const sl of p.slices ?? []) {
      const t = sl.second + 1;
      if (sl.corrected.count > 0) {
        this.add('lat/corrected/p50', t, sl.corrected.p50Ms);
        this.add('lat/corrected/p99', t, sl.corrected.p99Ms);
        this.add('lat/corrected/p999', t, sl.corrected.p999Ms);
      }
      if (sl.service.count > 0) {
        this.add('lat/service/p50', t, sl.service.p50Ms);
        this.add('lat/service/p99', t, sl.service.p99Ms);
        this.add('lat/service/p999', t, sl.service.p999Ms);
      }
      for (const [code, n] of Object.entries(sl.errorsByCode)) {
        this.add(`err/${code}`, t, n);
        this.status.errorsTotal[code] = (this.status.errorsTotal[code] ?? 0) + n;
      }
    }
  }

  /** The points of the /metrics scrape taken at `tS` (harness/server-scrape.ts onScrape). */
  addServerScrape(series: Readonly<ServerSeries>, tS: number): void {
    const at = (ts: { tS: number[]; values: number[] } | undefined): number | null =>
      ts !== undefined && ts.tS.length > 0 && ts.tS[ts.tS.length - 1] === tS ? ts.values[ts.values.length - 1]! : null;
    const stages = series.stages ?? {};
    // As in the report: host_round_trip contains queue wait, engine apply and journal wait.
    const split = stages.journal_wait !== undefined || stages.engine_apply !== undefined;
    for (const [stage, st] of Object.entries(stages)) {
      if (split && stage === 'host_round_trip') continue;
      const p50 = at(st.p50Ms);
      const p99 = at(st.p99Ms);
      if (p50 !== null) this.add(`stage/${stage}/p50`, tS, p50);
      if (p99 !== null) this.add(`stage/${stage}/p99`, tS, p99);
    }
    for (const [thread, ts] of Object.entries(series.elu ?? {})) {
      const v = at(ts);
      if (v !== null) this.add(`elu/${thread}`, tS, v);
    }
    for (const [thread, ts] of Object.entries(series.eventLoopDelayMs ?? {})) {
      const v = at(ts);
      if (v !== null) this.add(`eld/${thread}`, tS, v);
    }
  }

  /**
   * The run is over: fill in the seconds whose latency arrived after the last progress call
   * (the final result has every second) and record the verdict.
   */
  finish(result: RunResult | null, verdict: string, reportFile?: string): void {
    if (result !== null) {
      const s = result.series;
      for (const which of ['corrected', 'service'] as const) {
        const l = s[which];
        for (let i = 0; i < l.count.length; i++) {
          if (l.count[i]! === 0) continue;
          const t = i + 1;
          if (this.has(`lat/${which}/p99`, t)) continue;
          this.add(`lat/${which}/p50`, t, l.p50Ms[i] ?? 0);
          this.add(`lat/${which}/p99`, t, l.p99Ms[i] ?? 0);
          this.add(`lat/${which}/p999`, t, l.p999Ms[i] ?? 0);
        }
      }
      this.status.errorsTotal = { ...result.totals.errors };
    }
    this.status.state = 'finished';
    this.status.verdict = verdict;
    if (reportFile !== undefined) {
      this.status.reportFile = reportFile;
      this.status.reportUrl = '/report';
    }
  }

  private has(name: string, tS: number): boolean {
    return this.series.get(name)?.some((p) => p[0] === tS) === true;
  }

  snapshot(): LiveSnapshot {
    const series: Record<string, Point[]> = {};
    for (const [name, s] of this.series) series[name] = s.slice();
    return { windowS: this.windowS, status: structuredClone(this.status), series, events: this.events.slice(), log: this.log.slice() };
  }

  /** What changed since the previous flush (points, events, log lines) plus the current status. */
  flush(): LiveDelta {
    const series: Record<string, Point[]> = {};
    for (const [name, pts] of this.pending) series[name] = pts;
    const out: LiveDelta = { status: structuredClone(this.status), series, events: this.pendingEvents, log: this.pendingLog };
    this.pending = new Map();
    this.pendingEvents = [];
    this.pendingLog = [];
    return out;
  }
}
