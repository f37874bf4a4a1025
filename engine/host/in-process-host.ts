// ExchangeHost over one Engine on the caller's thread. Commands wait in a bounded ring and
// are applied in batches on a later event-loop turn (setImmediate), the same shape a
// worker-thread host has: the gateway never applies anything synchronously, and a full
// queue rejects at once with -1008 instead of growing. Queries read current state directly.
//
// Time: with `clock` the host feeds advanceTime(now) every tickMs (wall-clock mode, what
// `perpx serve` uses); without it time moves only through advanceTime commands (tests,
// simulations, the admin API), which keeps runs deterministic.

import type { Command } from '../core/commands.ts';
import type { EngineConfig } from '../core/config.ts';
import type { EngineEvent } from '../core/events.ts';
import { Engine } from '../core/engine.ts';
import { assert } from '../core/int.ts';
import { F_CONDITIONAL } from '../core/orders.ts';
import { HOST_OVERLOADED, HostError, overloadedError, shuttingDownError } from './host.ts';
import type { AppliedCommand, ExchangeHost, HostQuery, HostStatus, QueryOf, QueryResult, QueryType, SubmitResult } from './host.ts';
import { PROJECTION_LIMITS_DEFAULT, Projections } from './projections.ts';
import type { ProjectionLimits } from './projections.ts';
import * as views from './views.ts';
import { decodeHostSnapshot, encodeHostSnapshot } from './host-snapshot.ts';
import { decodeProjectionsInto, encodeProjections } from './projections-snapshot.ts';

export const QUEUE_MAX_DEFAULT = 10_000;
export const BATCH_MAX_DEFAULT = 512;
export const CLOCK_TICK_MS_DEFAULT = 100;
const LISTENERS_MAX = 64;

export interface InProcessHostOptions {
  /** Commands waiting to be applied; the next one is rejected at once with -1008. */
  queueMax?: number;
  /** Commands applied per event-loop turn before yielding to I/O. */
  batchMax?: number;
  projections?: Partial<ProjectionLimits>;
  /** Wall-clock mode: advanceTime(now()) every tickMs. */
  clock?: { now: () => number; tickMs?: number };
  /** Use this engine (e.g. restored from a snapshot) instead of a fresh one. */
  engine?: Engine;
  /** Where listener failures are reported (default console.error). */
  log?: (line: string) => void;
}

interface Waiter {
  resolve: (r: SubmitResult) => void;
  reject: (e: unknown) => void;
}

export class InProcessHost implements ExchangeHost {
  readonly config: EngineConfig;
  readonly engine: Engine;
  /** Replaced (not mutated) by restoreState. */
  projections: Projections;
  private readonly projectionLimits: ProjectionLimits;
  readonly queueMax: number;
  readonly batchMax: number;
  private seq = 0;
  // Bounded ring of pending commands and their waiters.
  private readonly cmds: (Command | undefined)[];
  private readonly waiters: (Waiter | undefined)[];
  private qHead = 0;
  private qLength = 0;
  private scheduled = false;
  private paused = false;
  private closed = false;
  private failure: unknown = null;
  private readonly listeners: ((a: AppliedCommand) => void)[] = [];
  private readonly log: (line: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private readonly clockNow: (() => number) | undefined;
  private clockSubmittedMs = 0;
  private readonly clockStepMaxMs: number;
  private readonly drainBound: () => void;

  constructor(config: EngineConfig, opts: InProcessHostOptions = {}) {
    this.engine = opts.engine ?? new Engine(config);
    this.config = this.engine.spec.cfg;
    this.queueMax = opts.queueMax ?? QUEUE_MAX_DEFAULT;
    this.batchMax = opts.batchMax ?? BATCH_MAX_DEFAULT;
    assert(Number.isInteger(this.queueMax) && this.queueMax >= 1, 'queueMax ≥ 1');
    assert(Number.isInteger(this.batchMax) && this.batchMax >= 1, 'batchMax ≥ 1');
    this.cmds = new Array<Command | undefined>(this.queueMax).fill(undefined);
    this.waiters = new Array<Waiter | undefined>(this.queueMax).fill(undefined);
    this.projectionLimits = { ...PROJECTION_LIMITS_DEFAULT, ...opts.projections };
    this.projections = this.freshProjections();
    this.log = opts.log ?? ((line) => console.error(line));
    this.drainBound = () => this.drain();
    // One advance may cross at most maxFundingSettlementsPerAdvance funding times.
    const intervalMin = Math.min(...this.engine.symbols.map((s) => s.fundingIntervalMs));
    this.clockStepMaxMs = intervalMin * Math.max(1, this.engine.spec.maxFundingSettlementsPerAdvance - 1);
    this.clockNow = opts.clock?.now;
    if (opts.clock !== undefined) {
      const tickMs = opts.clock.tickMs ?? CLOCK_TICK_MS_DEFAULT;
      assert(tickMs >= 1, 'clock tickMs ≥ 1');
      this.tickClock();
      this.timer = setInterval(() => this.tickClock(), tickMs);
      this.timer.unref();
    }
  }

  // ---- ExchangeHost ------------------------------------------------------------------

  submit(command: Command): Promise<SubmitResult> {
    if (this.failure !== null) return Promise.reject(new HostError(HOST_OVERLOADED, 'Engine stopped after an internal error.'));
    if (this.closed) return Promise.reject(shuttingDownError());
    if (this.qLength >= this.queueMax) {
      return Promise.reject(overloadedError());
    }
    const w = Promise.withResolvers<SubmitResult>();
    const i = (this.qHead + this.qLength) % this.queueMax;
    this.cmds[i] = command;
    this.waiters[i] = w;
    this.qLength++;
    this.schedule();
    return w.promise;
  }

  query<K extends QueryType>(q: QueryOf<K>): Promise<QueryResult<K>> {
    try {
      return Promise.resolve(this.querySync(q));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  subscribe(listener: (applied: AppliedCommand) => void): () => void {
    assert(this.listeners.length < LISTENERS_MAX, `at most ${LISTENERS_MAX} subscribers`);
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.paused = false;
    while (this.qLength > 0 && this.failure === null) this.applyBatch();
  }

  // ---- extras (in-process only) ------------------------------------------------------

  /** Stop applying (queued commands wait; the queue still bounds them). For tests and maintenance. */
  pause(): void { this.paused = true; }
  resume(): void {
    this.paused = false;
    this.schedule();
  }

  status(): HostStatus {
    return {
      ready: this.failure === null && !this.closed, seq: this.seq, queueDepth: this.qLength, queueMax: this.queueMax,
      nowMs: this.engine.nowMs, clockStarted: this.engine.clockStarted, accounts: this.engine.accountCount,
    };
  }

  querySync<K extends QueryType>(q: QueryOf<K>): QueryResult<K> {
    return this.answer(q as HostQuery) as QueryResult<K>;
  }

  // ---- internals ---------------------------------------------------------------------

  private answer(q: HostQuery): unknown {
    const e = this.engine;
    const p = this.projections;
    switch (q.type) {
      case 'status': return this.status();
      case 'totals': return views.totals(e, this.seq);
      case 'stateHash': return { seq: this.seq, stateHash: e.stateHash() };
      case 'account': return views.accountView(e, p, q.accountId);
      case 'openOrders': return views.openOrders(e, q.accountId, q.symbolId, false);
      case 'openAlgoOrders': return views.openAlgoOrders(e, q.accountId, q.symbolId);
      case 'order': return views.findOrder(e, p, q);
      case 'algoOrder': return views.findAlgoOrder(e, p, q);
      case 'allOrders': return views.allOrders(e, p, q);
      case 'allAlgoOrders': return views.allAlgoOrders(e, p, q);
      case 'userTrades': return views.userTrades(e, p, q);
      case 'depth': return views.depthView(e, this.seq, q.symbolId, q.limit);
      case 'bookTicker': return views.bookTickers(e, this.seq, q.symbolId);
      case 'trades': return views.publicTrades(e, p, q.symbolId, q.limit);
      case 'ticker24h': return views.tickers(e, p, q.symbolId);
      case 'markPrice': return views.markViews(e, q.symbolId);
      case 'fundingHistory': return views.fundingHistory(e, p, q);
      default: throw new HostError(-1102, `unknown query ${String((q as { type?: unknown }).type)}`);
    }
  }

  private schedule(): void {
    if (this.scheduled || this.paused || this.qLength === 0) return;
    this.scheduled = true;
    setImmediate(this.drainBound);
  }

  private drain(): void {
    this.scheduled = false;
    if (this.paused) return;
    this.applyBatch();
    this.schedule();
  }

  /** Apply up to batchMax queued commands in order, resolving each waiter. */
  private applyBatch(): void {
    const n = Math.min(this.qLength, this.batchMax);
    for (let k = 0; k < n; k++) {
      const i = this.qHead;
      const cmd = this.cmds[i]!;
      const waiter = this.waiters[i]!;
      this.cmds[i] = undefined;
      this.waiters[i] = undefined;
      this.qHead = (this.qHead + 1) % this.queueMax;
      this.qLength--;
      let events;
      try {
        events = this.applyOne(cmd);
      } catch (err) {
        this.failStop(err, waiter);
        return;
      }
      const seq = ++this.seq;
      waiter.resolve({ seq, events });
      if (this.listeners.length > 0) this.notify({ seq, command: cmd, events, nowMs: this.engine.nowMs });
    }
  }

  /**
   * The state-machine step: apply to the engine, then feed the projections in the same
   * order. A journal plugs in here: make this the `apply` of the StateMachine the journal
   * drives (snapshot/restore/stateHash delegate to the engine) and resolve the waiter from
   * the journal's ack instead of right away.
   */
  /**
   * The engine thread's journal numbers the commands it applies through applyOne: it keeps this
   * host's sequence in step so status, totals and stateHash queries report the real seq.
   */
  noteSequenced(seq: number): void {
    this.seq = seq;
  }

  /**
   * Engine snapshot + projections (host-snapshot.ts). The engine part alone decides the state
   * hash; the projections ride along so order/trade history survives a restart.
   */
  snapshotState(): Uint8Array {
    return encodeHostSnapshot(this.engine.snapshot(), encodeProjections(this.projections));
  }

  /**
   * Restore snapshotState()'s bytes (or an engine-only snapshot). A projections section that
   * cannot be read leaves empty history rather than failing recovery (it is derived data):
   * the returned line says so; null when everything was restored.
   */
  restoreState(bytes: Uint8Array): string | null {
    const parts = decodeHostSnapshot(bytes);
    this.engine.restore(parts.engine);
    let warning: string | null = parts.projections === null ? 'engine-only snapshot: order/trade history before it is not restored' : null;
    let p = this.freshProjections();
    if (parts.projections !== null) {
      try {
        decodeProjectionsInto(p, parts.projections);
      } catch (err) {
        warning = `history not restored: ${(err as Error).message}`;
        p = this.freshProjections();
      }
    }
    this.projections = p;
    return warning;
  }

  applyOne(cmd: Command): EngineEvent[] {
    const events = this.engine.apply(cmd);
    this.projections.apply(events, this.engine.nowMs);
    return events;
  }

  private notify(applied: AppliedCommand): void {
    for (const l of this.listeners) {
      try {
        l(applied);
      } catch (err) {
        this.log(`host: subscriber failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }

  /** The engine threw (a bug): its state can no longer be trusted, so stop taking commands. */
  private failStop(err: unknown, waiter: Waiter): void {
    this.failure = err;
    this.log(`host: engine failed, no further commands accepted: ${(err as Error).stack ?? String(err)}`);
    waiter.reject(err);
    while (this.qLength > 0) {
      const i = this.qHead;
      this.waiters[i]!.reject(new HostError(HOST_OVERLOADED, 'Engine stopped after an internal error.'));
      this.cmds[i] = undefined;
      this.waiters[i] = undefined;
      this.qHead = (this.qHead + 1) % this.queueMax;
      this.qLength--;
    }
  }

  private tickClock(): void {
    const now = this.clockNow!();
    const from = Math.max(this.clockSubmittedMs, this.engine.nowMs);
    if (this.engine.clockStarted && now <= from) return;
    const target = this.engine.clockStarted ? Math.min(now, from + this.clockStepMaxMs) : now;
    if (this.qLength >= this.queueMax) return; // overloaded: the next tick catches up
    this.clockSubmittedMs = target;
    this.submit({ type: 'advanceTime', timeMs: target }).then(undefined, () => { this.clockSubmittedMs = this.engine.nowMs; });
  }

  private freshProjections(): Projections {
    const p = new Projections(this.engine.symbols.map((s) => s.unitsPerTickLot), this.projectionLimits);
    p.seedWaitingAlgos(this.openConditionalIds());
    return p;
  }

  private openConditionalIds(): number[] {
    const e = this.engine;
    const ids: number[] = [];
    for (let a = 0; a < e.accountCount; a++) {
      for (const r of e.openOrderSlots(a)) if ((e.orders.flags[r]! & F_CONDITIONAL) !== 0) ids.push(e.orders.id[r]!);
    }
    return ids;
  }
}
