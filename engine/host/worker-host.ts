// ExchangeHost backed by the engine thread (engine-thread.ts): commands go through an SPSC
// SharedArrayBuffer ring (binary, batched publish), replies, query results and applied
// events come back by postMessage in batches. A request resolves only after the journal
// acknowledged it (durable under the policy). Bounded: at most `pendingMax` requests in
// flight from this side; a full ring or pending table answers -1008 at once.

import { Worker } from 'node:worker_threads';
import type { Command } from '../core/commands.ts';
import type { EngineConfig } from '../core/config.ts';
import { COMMAND_BYTES_MAX, encodeCommandInto } from '../wire/command-codec.ts';
import { createRing, RingProducer } from '../wire/spsc-ring.ts';
import { HOST_OVERLOADED, HostError, overloadedError, shuttingDownError } from './host.ts';
import type { AppliedCommand, ExchangeHost, QueryOf, QueryResult, QueryType, SubmitResult } from './host.ts';
import type { ProjectionLimits } from './projections.ts';
import type { EngineThreadControl, EngineThreadData, EngineThreadMessage } from './engine-thread.ts';
import type { DiskChaosOp, DiskChaosPlan, DiskChaosStatus } from './chaos-io.ts';
import { createSlabHandle } from '../telemetry/slab.ts';
import type { SlabHandle } from '../telemetry/slab.ts';

export interface WorkerHostOptions {
  config: EngineConfig;
  dataDir: string;
  /** 'fsync' (default) | 'interval:<ms>' | 'none'. */
  policy?: string;
  /** Requests in flight from the gateway side (the journal bounds the engine side too). */
  pendingMax?: number;
  ringBytes?: number;
  snapshotEveryCommands?: number;
  snapshotEveryMs?: number;
  /** advanceTime(Date.now()) every this many ms on the engine thread; 0 = manual time. */
  clockTickMs?: number;
  /** History kept for queries (allOrders, userTrades …). */
  projections?: Partial<ProjectionLimits>;
  /** Engine-thread metrics into a slab (`telemetrySlab`, for the gateway's peerSlabs). Default true. */
  telemetry?: boolean;
  /** Journal I/O through a runtime fault wrapper, driven by `chaosDisk` (perpx serve --chaos). */
  chaos?: boolean;
}

export const WORKER_PENDING_MAX_DEFAULT = 16_384;
export const WORKER_RING_BYTES_DEFAULT = 1 << 22; // 4 MiB ≈ 50k commands in flight
const LISTENERS_MAX = 64;

interface Waiter {
  resolve: (v: never) => void;
  reject: (e: unknown) => void;
}

export class WorkerHost implements ExchangeHost {
  readonly config: EngineConfig;
  readonly policyLine: string;
  readonly recoveryLine: string;
  readonly recoveredSeq: number;
  readonly recoveredStateHash: string;
  /** The engine thread's metrics slab: pass it to startGateway({ telemetry: { peerSlabs: [it] } }). */
  readonly telemetrySlab: SlabHandle | null;
  private readonly worker: Worker;
  private readonly producer: RingProducer;
  private readonly pending = new Map<number, Waiter>();
  private readonly pendingMax: number;
  private nextId = 1;
  private publishScheduled = false;
  private readonly listeners: ((a: AppliedCommand) => void)[] = [];
  private closed = false;
  private failure: string | null = null;
  private closeWaiter: (() => void) | null = null;
  private readonly publishBound = () => this.publish();

  private constructor(config: EngineConfig, worker: Worker, producer: RingProducer, pendingMax: number, ready: Extract<EngineThreadMessage, { kind: 'ready' }>, telemetrySlab: SlabHandle | null) {
    this.config = config;
    this.telemetrySlab = telemetrySlab;
    this.worker = worker;
    this.producer = producer;
    this.pendingMax = pendingMax;
    this.policyLine = ready.policyLine;
    this.recoveryLine = ready.recoveryLine;
    this.recoveredSeq = ready.lastSeq;
    this.recoveredStateHash = ready.stateHash;
    worker.on('message', (batch: EngineThreadMessage[]) => this.onMessages(batch));
    worker.on('error', (e) => this.failAll(`engine thread crashed: ${e.message}`));
    worker.on('exit', (code) => {
      if (!this.closed) this.failAll(`engine thread exited (code ${code})`);
      this.closeWaiter?.();
    });
  }

  /** Start the engine thread; resolves once recovery finished and the engine is ready. */
  static async start(opts: WorkerHostOptions): Promise<WorkerHost> {
    const ring = createRing(opts.ringBytes ?? WORKER_RING_BYTES_DEFAULT);
    const data: EngineThreadData = {
      config: opts.config,
      ring,
      dataDir: opts.dataDir,
      policy: opts.policy ?? 'fsync',
      pendingCommandsMax: opts.pendingMax ?? WORKER_PENDING_MAX_DEFAULT,
      snapshotEveryCommands: opts.snapshotEveryCommands ?? 1_000_000,
      snapshotEveryMs: opts.snapshotEveryMs ?? 0,
      clockTickMs: opts.clockTickMs ?? 0,
      projections: opts.projections ?? {},
      telemetrySlab: opts.telemetry === false ? null : createSlabHandle('engine'),
      chaos: opts.chaos === true,
    };
    const worker = new Worker(new URL('./engine-thread.ts', import.meta.url), { workerData: data });
    const ready = await new Promise<Extract<EngineThreadMessage, { kind: 'ready' }>>((resolve, reject) => {
      const onMsg = (batch: EngineThreadMessage[]) => {
        for (const m of batch) {
          if (m.kind === 'ready') {
            worker.off('message', onMsg);
            resolve(m);
            return;
          }
          if (m.kind === 'failed') {
            worker.off('message', onMsg);
            void worker.terminate();
            reject(new Error(m.message));
            return;
          }
        }
      };
      worker.on('message', onMsg);
      worker.once('error', reject);
    });
    return new WorkerHost(opts.config, worker, new RingProducer(ring), opts.pendingMax ?? WORKER_PENDING_MAX_DEFAULT, ready, data.telemetrySlab ?? null);
  }

  submit(command: Command): Promise<SubmitResult> {
    if (this.failure !== null) return Promise.reject(new HostError(HOST_OVERLOADED, `Engine stopped: ${this.failure}`));
    if (this.closed) return Promise.reject(shuttingDownError());
    if (this.pending.size >= this.pendingMax) return Promise.reject(overloadedError());
    const p = this.producer;
    const off = p.reserve(COMMAND_BYTES_MAX + 4);
    if (off < 0) return Promise.reject(overloadedError());
    const id = this.nextId++;
    const n = encodeCommandInto(command, p.view, p.bytes, off + 4, COMMAND_BYTES_MAX);
    if (n < 0) return Promise.reject(new HostError(-1102, 'Command too large.'));
    p.view.setUint32(off, id, true);
    p.commit(off, n + 4);
    const w = Promise.withResolvers<SubmitResult>();
    this.pending.set(id, w as unknown as Waiter);
    if (!this.publishScheduled) {
      // Publish once per turn: every request handled in this turn rides one Atomics.store.
      this.publishScheduled = true;
      queueMicrotask(this.publishBound);
    }
    return w.promise;
  }

  query<K extends QueryType>(q: QueryOf<K>): Promise<QueryResult<K>> {
    if (this.failure !== null) return Promise.reject(new HostError(HOST_OVERLOADED, `Engine stopped: ${this.failure}`));
    if (this.pending.size >= this.pendingMax) return Promise.reject(overloadedError());
    const id = this.nextId++;
    const w = Promise.withResolvers<QueryResult<K>>();
    this.pending.set(id, w as unknown as Waiter);
    this.post({ kind: 'query', id, query: q as never });
    return w.promise;
  }

  /** Set, clear or read the engine thread's disk faults (rejects -1020 unless started with chaos). */
  chaosDisk(op: DiskChaosOp, plan: DiskChaosPlan): Promise<DiskChaosStatus> {
    if (this.failure !== null) return Promise.reject(new HostError(HOST_OVERLOADED, `Engine stopped: ${this.failure}`));
    const id = this.nextId++;
    const w = Promise.withResolvers<DiskChaosStatus>();
    this.pending.set(id, w as unknown as Waiter);
    this.post({ kind: 'chaos-disk', id, op, plan });
    return w.promise;
  }

  subscribe(listener: (applied: AppliedCommand) => void): () => void {
    if (this.listeners.length >= LISTENERS_MAX) throw new Error(`at most ${LISTENERS_MAX} subscribers`);
    this.listeners.push(listener);
    if (this.listeners.length === 1) this.post({ kind: 'subscribe', on: true });
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
      if (this.listeners.length === 0) this.post({ kind: 'subscribe', on: false });
    };
  }

  /** Stop accepting; the engine thread drains, fsyncs, snapshots and closes the journal. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.publish();
    const done = new Promise<void>((resolve) => { this.closeWaiter = resolve; });
    this.post({ kind: 'close' });
    await done;
    await this.worker.terminate();
  }

  private publish(): void {
    this.publishScheduled = false;
    this.producer.publish();
  }

  private post(m: EngineThreadControl): void {
    this.worker.postMessage(m);
  }

  private onMessages(batch: EngineThreadMessage[]): void {
    for (const m of batch) {
      if (m.kind === 'reply') {
        const w = this.pending.get(m.id);
        if (w === undefined) continue;
        this.pending.delete(m.id);
        if (m.ok) w.resolve(m.result as never);
        else w.reject(new HostError(m.code, m.message));
      } else if (m.kind === 'applied') {
        const a: AppliedCommand = { seq: m.seq, command: m.command, events: m.events, nowMs: m.nowMs };
        for (const l of this.listeners) {
          try { l(a); } catch (err) { console.error(`host: subscriber failed: ${(err as Error).stack ?? String(err)}`); }
        }
      } else if (m.kind === 'failed') {
        this.failAll(m.message);
      } else if (m.kind === 'closed') {
        this.closeWaiter?.();
      }
    }
  }

  private failAll(message: string): void {
    this.failure = message;
    for (const w of this.pending.values()) w.reject(new HostError(HOST_OVERLOADED, `Engine stopped: ${message}`));
    this.pending.clear();
  }
}
