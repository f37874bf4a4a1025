// Journal: sequencer + group commit + snapshots in front of a StateMachine.
//
// Pipeline (one event-loop thread; I/O on libuv's pool through the injected FileIO):
//   submit(cmd) ─ encode ─ assign seq (gap-free) ─ apply to the machine ─ frame into the
//   staging buffer ─ (setImmediate) write lane: maybe snapshot/checkpoint, one write(2) of
//   everything staged ─ fsync lane (one fsync in flight, covering all bytes written before
//   it started) ─ release acks in seq order (policy fsync: after that fsync; interval/none:
//   after the write).
//
// Decision: apply-before-fsync. Commands are applied as they are sequenced (optimistic, like
// most exchange cores) and their results are HELD until the fsync covering them completes; a
// client never sees a result the disk does not have. While batch N is being fsynced, batch N+1
// is sequenced and applied, so matching does not wait for the disk. The price: after a
// write/fsync failure the in-memory machine is ahead of the disk, so the journal fail-stops
// (rejects every pending and future command) and only a restart + recovery gives a state again.

import type { StateMachine } from '../core/state-machine.ts';
import { jsonCodec, type Codec } from './codec.ts';
import { JournalError } from './errors.ts';
import { joinPath, writeFileDurably, writeFully, type FileIO } from './file-io.ts';
import { DEFAULT_POLICY, describePolicy, parsePolicy, type DurabilityPolicy } from './policy.ts';
import {
  parseSnapshotFileName,
  RECORD_BYTES_MAX_DEFAULT,
  RECORD_HEADER_BYTES,
  RECORD_KIND_CHECKPOINT,
  RECORD_KIND_COMMAND,
  readU32,
  segmentFileName,
  snapshotFileName,
  TEMP_SUFFIX,
  writeRecord,
} from './record.ts';
import { recover, type RecoverOptions, type RecoveryResult, type SegmentRef } from './recovery.ts';
import { encodeSnapshotHeader } from './snapshot-file.ts';

export interface Ack {
  readonly seq: number;
  readonly result: unknown;
}

/**
 * Called exactly once per accepted command: (null, seq, result) after the command is durable
 * under the policy, or (error, seq, undefined) if the journal fail-stopped first.
 */
export type AckCallback<Ctx> = (error: JournalError | null, seq: number, result: unknown, context: Ctx) => void;

export interface JournalOptions<C> extends Omit<RecoverOptions<C>, 'repair'> {
  /** 'fsync' (default) | 'interval:<ms>' | 'none', or a parsed policy. */
  readonly policy?: string | DurabilityPolicy;
  /** Sequenced but not yet acknowledged commands; beyond it submit rejects with -1008. */
  readonly pendingCommandsMax?: number;
  /** Bytes of framed records waiting for the next write (two such buffers exist). */
  readonly stagingBytesMax?: number;
  /** A segment is closed once the next batch would take it past this size. */
  readonly segmentBytesMax?: number;
  /** Take a snapshot after this many commands (0 = never by count). */
  readonly snapshotEveryCommands?: number;
  /** Take a snapshot when this much time passed and commands arrived (0 = never by time). */
  readonly snapshotEveryMs?: number;
  /** Snapshots kept; segments wholly covered by the oldest kept one are deleted. */
  readonly snapshotsKeep?: number;
  /** Write a state-hash checkpoint record after this many commands (0 = only with snapshots and at close). */
  readonly checkpointEveryCommands?: number;
  /** Commands per write(2); more staged commands go in the next write, covered by the next fsync. */
  readonly writeCommandsMax?: number;
}

export interface JournalStats {
  appliedSeq: number;
  writtenSeq: number;
  durableSeq: number;
  ackedSeq: number;
  batches: number;
  batchCommandsMax: number;
  bytesWritten: number;
  fsyncs: number;
  segmentsCreated: number;
  checkpointsWritten: number;
  snapshotsTaken: number;
  snapshotsWritten: number;
  snapshotFailures: number;
  snapshotPauseMsMax: number;
  snapshotPauseMsLast: number;
  overloadRejections: number;
}

export const PENDING_COMMANDS_MAX_DEFAULT = 16_384;
export const STAGING_BYTES_MAX_DEFAULT = 4 << 20;
export const SEGMENT_BYTES_MAX_DEFAULT = 64 << 20;
export const SNAPSHOT_EVERY_COMMANDS_DEFAULT = 1_000_000;
export const SNAPSHOTS_KEEP_DEFAULT = 2;
export const WRITE_COMMANDS_MAX_DEFAULT = 8192;

interface PendingSnapshot {
  readonly seq: number;
  readonly stateHash: string;
  readonly payload: Uint8Array;
}

function settlePromise(error: JournalError | null, seq: number, result: unknown, ctx: PromiseWithResolvers<Ack>): void {
  if (error !== null) ctx.reject(error);
  else ctx.resolve({ seq, result });
}

function positiveInt(name: string, value: number, min: number): number {
  if (!(Number.isSafeInteger(value) && value >= min)) throw new RangeError(`journal option ${name}=${value} must be an integer >= ${min}`);
  return value;
}

export class Journal<C> {
  readonly machine: StateMachine<C>;
  readonly recovery: RecoveryResult<C>;
  readonly policy: DurabilityPolicy;
  readonly stats: JournalStats;

  private readonly io: FileIO;
  private readonly dir: string;
  private readonly codec: Codec<C>;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  private readonly pendingCommandsMax: number;
  private readonly stagingBytesMax: number;
  private readonly recordBytesMax: number;
  private readonly segmentBytesMax: number;
  private readonly snapshotEveryCommands: number;
  private readonly snapshotEveryMs: number;
  private readonly snapshotsKeep: number;
  private readonly checkpointEveryCommands: number;
  private readonly writeCommandsMax: number;

  // Sequencer and watermarks: ackedSeq <= durableSeq/writtenSeq <= appliedSeq.
  private appliedSeq: number;
  private writtenSeq: number;
  private durableSeq: number;
  private ackedSeq: number;

  // Ring of pending acks, indexed by seq % pendingCommandsMax.
  private readonly ackCallbacks: (AckCallback<never> | null)[];
  private readonly ackContexts: unknown[];
  private readonly ackResults: unknown[];

  // Double-buffered staging: submit frames into `stage` while the writer writes `spare`.
  private stage: Uint8Array;
  private spare: Uint8Array;
  private stageLenBytes = 0;
  private stageFirstSeq = 0;
  private stageLastSeq = 0;
  private stageStartsWithCommand = false;
  private stageCommands = 0;

  private segments: SegmentRef[];
  private segmentFd = -1;
  private segmentName = '';
  private segmentBytes = 0;
  /** Monotonic byte counters: an fsync covers writtenBytesTotal as of its start. */
  private writtenBytesTotal = 0;
  private syncedBytesTotal = 0;
  private fsyncInFlight: Promise<void> | null = null;
  private rotating = false;
  private lastFsyncMs: number;
  private fsyncTimer: ReturnType<typeof setTimeout> | null = null;
  private fsyncRequested = false;

  private writing = false;
  private writerRunning: Promise<void> | null = null;
  private writerScheduled = false;
  private currentOp = 'write';
  private failure: JournalError | null = null;
  private closing = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  private lastSnapshotSeq: number;
  private lastSnapshotMs: number;
  private lastCheckpointSeq: number;
  private snapshotRequested = false;
  private pendingSnapshot: PendingSnapshot | null = null;
  private snapshotWriting: Promise<void> | null = null;

  private readonly overloaded: JournalError;
  private readonly runWriterBound: () => void;
  private readonly onFsyncTimerBound: () => void;

  /** Recovers the state in opts.dir, then returns a journal accepting commands after the last recovered seq. */
  static async open<C>(opts: JournalOptions<C>): Promise<Journal<C>> {
    const policy = typeof opts.policy === 'string' ? parsePolicy(opts.policy) : (opts.policy ?? DEFAULT_POLICY);
    const recovery = await recover(opts);
    const journal = new Journal(opts, policy, recovery);
    const log = opts.log ?? (() => {});
    if (policy.kind !== 'fsync') log(`journal: non-default durability policy ${describePolicy(policy)}`);
    log(`journal: open in ${opts.dir} at seq ${recovery.lastSeq}, policy ${policy.kind === 'interval' ? `interval:${policy.intervalMs}` : policy.kind}`);
    return journal;
  }

  private constructor(opts: JournalOptions<C>, policy: DurabilityPolicy, recovery: RecoveryResult<C>) {
    this.io = opts.io;
    this.dir = opts.dir;
    this.codec = opts.codec ?? jsonCodec<C>();
    this.log = opts.log ?? (() => {});
    this.now = opts.now ?? (() => performance.now());
    this.policy = policy;
    this.recovery = recovery;
    this.machine = recovery.machine;
    this.pendingCommandsMax = positiveInt('pendingCommandsMax', opts.pendingCommandsMax ?? PENDING_COMMANDS_MAX_DEFAULT, 1);
    this.recordBytesMax = positiveInt('recordBytesMax', opts.recordBytesMax ?? RECORD_BYTES_MAX_DEFAULT, RECORD_HEADER_BYTES + 2);
    this.stagingBytesMax = positiveInt('stagingBytesMax', opts.stagingBytesMax ?? STAGING_BYTES_MAX_DEFAULT, this.recordBytesMax);
    this.segmentBytesMax = positiveInt('segmentBytesMax', opts.segmentBytesMax ?? SEGMENT_BYTES_MAX_DEFAULT, 1);
    this.snapshotEveryCommands = positiveInt('snapshotEveryCommands', opts.snapshotEveryCommands ?? SNAPSHOT_EVERY_COMMANDS_DEFAULT, 0);
    this.snapshotEveryMs = positiveInt('snapshotEveryMs', opts.snapshotEveryMs ?? 0, 0);
    this.snapshotsKeep = positiveInt('snapshotsKeep', opts.snapshotsKeep ?? SNAPSHOTS_KEEP_DEFAULT, 1);
    this.checkpointEveryCommands = positiveInt('checkpointEveryCommands', opts.checkpointEveryCommands ?? 0, 0);
    this.writeCommandsMax = positiveInt('writeCommandsMax', opts.writeCommandsMax ?? WRITE_COMMANDS_MAX_DEFAULT, 1);

    const seq = recovery.lastSeq;
    this.appliedSeq = seq;
    this.writtenSeq = seq;
    this.durableSeq = seq;
    this.ackedSeq = seq;
    this.ackCallbacks = new Array<AckCallback<never> | null>(this.pendingCommandsMax).fill(null);
    this.ackContexts = new Array<unknown>(this.pendingCommandsMax).fill(undefined);
    this.ackResults = new Array<unknown>(this.pendingCommandsMax).fill(undefined);
    this.stage = new Uint8Array(this.stagingBytesMax);
    this.spare = new Uint8Array(this.stagingBytesMax);
    this.segments = [...recovery.segments];
    this.lastFsyncMs = this.now();
    this.lastSnapshotSeq = recovery.snapshotSeq;
    this.lastSnapshotMs = this.now();
    this.lastCheckpointSeq = seq;
    this.stats = {
      appliedSeq: seq,
      writtenSeq: seq,
      durableSeq: seq,
      ackedSeq: seq,
      batches: 0,
      batchCommandsMax: 0,
      bytesWritten: 0,
      fsyncs: 0,
      segmentsCreated: 0,
      checkpointsWritten: 0,
      snapshotsTaken: 0,
      snapshotsWritten: 0,
      snapshotFailures: 0,
      snapshotPauseMsMax: 0,
      snapshotPauseMsLast: 0,
      overloadRejections: 0,
    };
    this.overloaded = new JournalError('overloaded', `more than ${this.pendingCommandsMax} commands pending or staging buffer full`);
    this.runWriterBound = () => {
      this.writerRunning = this.writerCycle().finally(() => {
        this.writerRunning = null;
      });
    };
    this.onFsyncTimerBound = () => this.onFsyncTimer();
  }

  describePolicy(): string {
    return describePolicy(this.policy);
  }

  /** The fail-stop error, or null while healthy. */
  get failed(): JournalError | null {
    return this.failure;
  }

  get lastAppliedSeq(): number {
    return this.appliedSeq;
  }

  /** Promise form of trySubmit: resolves after the command is durable (per policy). */
  submit(command: C): Promise<Ack> {
    const p = Promise.withResolvers<Ack>();
    const err = this.trySubmit(command, settlePromise, p);
    if (err !== null) p.reject(err);
    return p.promise;
  }

  /**
   * Sequences and applies `command` now; `callback` runs later, exactly once, when the command
   * is durable or the journal fail-stopped. Returns an error instead (and never calls the
   * callback) when the command is rejected before sequencing: overloaded (-1008), too large,
   * unencodable, closed, or already stopped. Callback and context are passed by reference so
   * the hot path allocates no closure.
   */
  trySubmit<Ctx>(command: C, callback: AckCallback<Ctx>, context: Ctx): JournalError | null {
    if (this.failure !== null) return this.failure;
    if (this.closing) return new JournalError('closed', 'journal is closing or closed');
    if (this.appliedSeq - this.ackedSeq >= this.pendingCommandsMax) {
      this.stats.overloadRejections++;
      return this.overloaded;
    }
    let body: Uint8Array;
    try {
      body = this.codec.encode(command);
    } catch (err) {
      return new JournalError('unencodable', (err as Error).message);
    }
    const recordBytes = RECORD_HEADER_BYTES + 1 + body.length;
    if (recordBytes > this.recordBytesMax) {
      return new JournalError('recordTooLarge', `${recordBytes} bytes > recordBytesMax ${this.recordBytesMax}`);
    }
    if (this.stageLenBytes + recordBytes > this.stagingBytesMax) {
      this.stats.overloadRejections++;
      return this.overloaded;
    }
    const seq = this.appliedSeq + 1;
    let result: unknown;
    try {
      result = this.machine.apply(command);
    } catch (err) {
      // The contract says apply never throws; if it does, state may be half-mutated.
      this.failStop(`apply of seq ${seq}`, err);
      return this.failure;
    }
    this.stageLenBytes = writeRecord(this.stage, this.stageLenBytes, seq, RECORD_KIND_COMMAND, body);
    if (this.stageFirstSeq === 0) {
      this.stageFirstSeq = seq;
      if (this.stageLenBytes === recordBytes) this.stageStartsWithCommand = true;
    }
    this.stageLastSeq = seq;
    this.stageCommands++;
    this.appliedSeq = seq;
    this.stats.appliedSeq = seq;
    const i = seq % this.pendingCommandsMax;
    this.ackCallbacks[i] = callback as AckCallback<never>;
    this.ackContexts[i] = context;
    this.ackResults[i] = result;
    this.scheduleWriter();
    return null;
  }

  /** Ask for a snapshot at the next writer cycle (also runs when idle). */
  snapshotNow(): void {
    this.snapshotRequested = true;
    this.scheduleWriter();
  }

  /** Resolves when everything submitted so far has been written (and synced per policy). */
  flush(): Promise<void> {
    return this.whenIdle();
  }

  /** Flushes, writes a final checkpoint, fsyncs (every policy), waits for a snapshot in flight, closes the segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    await this.whenIdle();
    if (this.failure === null && this.segmentFd >= 0) {
      if (this.appliedSeq > this.lastCheckpointSeq) this.stageCheckpoint(this.machine.stateHash());
      this.fsyncRequested = true; // every policy ends durable on a clean close
      this.scheduleWriter();
      await this.whenIdle();
    }
    if (this.fsyncTimer !== null) clearTimeout(this.fsyncTimer);
    this.fsyncTimer = null;
    // After a fail-stop a write or fsync may still be running on the fd: let it end first.
    if (this.writerRunning !== null) await this.writerRunning;
    if (this.fsyncInFlight !== null) await this.fsyncInFlight;
    if (this.snapshotWriting !== null) await this.snapshotWriting;
    if (this.segmentFd >= 0) {
      const fd = this.segmentFd;
      this.segmentFd = -1;
      try {
        await this.io.close(fd);
      } catch (err) {
        this.log(`journal: close of ${this.segmentName} failed: ${(err as Error).message}`);
      }
    }
    this.closed = true;
    this.log(`journal: closed at seq ${this.appliedSeq} (durable ${this.durableSeq})${this.failure ? ' after fail-stop' : ''}`);
  }

  // ---- write lane: one write in flight; fsync lane: one fsync in flight ----
  //
  // The lanes overlap: commands staged while an fsync runs are written at once, and the next
  // fsync covers everything written by the time it starts (never more is acknowledged).
  // Measured on this machine (ext4 on a shared VM disk, fsync ≈ 0.25–0.3 ms when idle): cutting
  // a crowd of 256 closed-loop producers into writes of 128 so one group's CPU overlaps the
  // other's fsync did NOT help (212k vs 235k cmds/s): back-to-back fsyncs slowed to ≈ 0.6 ms,
  // the device tops out near 1,650 flushes/s, so the biggest group per fsync wins. Hence
  // writeCommandsMax is only a bound on one write, default 8192.

  private scheduleWriter(): void {
    if (this.writerScheduled || this.writing || this.failure !== null) return;
    this.writerScheduled = true;
    // setImmediate, not a microtask: every submit of this event-loop turn (e.g. all producers
    // whose acks were just released) joins the batch.
    setImmediate(this.runWriterBound);
  }

  private async writerCycle(): Promise<void> {
    this.writerScheduled = false;
    if (this.writing || this.failure !== null) return;
    this.writing = true;
    try {
      this.maybeSnapshotOrCheckpoint();
      if (this.stageLenBytes > 0) {
        await this.writeStaged();
        if (this.policy.kind !== 'fsync') this.releaseAcks(this.writtenSeq);
      }
    } catch (err) {
      this.failStop(this.currentOp, err);
    } finally {
      this.writing = false;
    }
    if (this.failure !== null) return;
    this.maybeStartFsync();
    this.maybeStartSnapshotWrite();
    if (this.stageLenBytes > 0 || this.snapshotRequested) this.scheduleWriter();
    else this.notifyIdleIfIdle();
  }

  /** Byte offset just past the first `commands` command records of the stage (checkpoints ride along). */
  private stageCutAfter(commands: number): number {
    let o = 0;
    let n = 0;
    while (n < commands) {
      if (this.stage[o + RECORD_HEADER_BYTES] === RECORD_KIND_COMMAND) n++;
      o += RECORD_HEADER_BYTES + readU32(this.stage, o);
    }
    return o;
  }

  private async writeStaged(): Promise<void> {
    const buf = this.stage;
    const firstSeq = this.stageFirstSeq;
    const startsWithCommand = this.stageStartsWithCommand;
    let lenBytes = this.stageLenBytes;
    let lastSeq = this.stageLastSeq;
    let commands = this.stageCommands;
    let restBytes = 0;
    if (commands > this.writeCommandsMax) {
      lenBytes = this.stageCutAfter(this.writeCommandsMax);
      commands = this.writeCommandsMax;
      lastSeq = firstSeq + commands - 1;
      restBytes = this.stageLenBytes - lenBytes;
      // The spare buffer is free: the previous write completed before this one started.
      this.spare.set(buf.subarray(lenBytes, lenBytes + restBytes), 0);
    }
    this.stage = this.spare;
    this.spare = buf;
    this.stageLenBytes = restBytes;
    this.stageCommands -= commands;
    this.stageFirstSeq = this.stageCommands > 0 ? lastSeq + 1 : 0;
    if (this.stageCommands === 0) this.stageLastSeq = 0;
    this.stageStartsWithCommand = restBytes > 0 && this.stage[RECORD_HEADER_BYTES] === RECORD_KIND_COMMAND;

    await this.ensureSegment(firstSeq, lenBytes, startsWithCommand);
    this.currentOp = `write to ${this.segmentName}`;
    await writeFully(this.io, this.segmentFd, buf, 0, lenBytes);
    this.segmentBytes += lenBytes;
    this.writtenBytesTotal += lenBytes;
    this.stats.bytesWritten += lenBytes;
    this.stats.batches++;
    if (commands > 0) {
      if (commands > this.stats.batchCommandsMax) this.stats.batchCommandsMax = commands;
      this.writtenSeq = lastSeq;
      this.stats.writtenSeq = lastSeq;
    }
  }

  private fsyncDue(): boolean {
    return (
      this.policy.kind === 'fsync' ||
      this.fsyncRequested ||
      (this.policy.kind === 'interval' && this.now() - this.lastFsyncMs >= this.policy.intervalMs)
    );
  }

  private maybeStartFsync(): void {
    if (this.fsyncInFlight !== null || this.rotating || this.failure !== null || this.segmentFd < 0) return;
    if (this.writtenBytesTotal === this.syncedBytesTotal) {
      this.fsyncRequested = false;
      return;
    }
    if (!this.fsyncDue()) {
      if (this.policy.kind === 'interval') this.armFsyncTimer(this.policy.intervalMs);
      return;
    }
    this.fsyncRequested = false;
    this.fsyncInFlight = this.runFsync();
  }

  /** Never rejects: a failure fail-stops the journal. */
  private async runFsync(): Promise<void> {
    const name = this.segmentName;
    try {
      await this.fsyncSegment();
    } catch (err) {
      this.failStop(`fsync of ${name}`, err);
    } finally {
      this.fsyncInFlight = null;
    }
    if (this.failure !== null) return;
    if (this.policy.kind === 'fsync') this.releaseAcks(this.durableSeq);
    this.maybeStartSnapshotWrite();
    this.maybeStartFsync(); // whatever was written meanwhile
    this.notifyIdleIfIdle();
  }

  /** Covers exactly what was written before it started. */
  private async fsyncSegment(): Promise<void> {
    const throughSeq = this.writtenSeq;
    const throughBytes = this.writtenBytesTotal;
    await this.io.fsync(this.segmentFd);
    if (throughSeq > this.durableSeq) this.durableSeq = throughSeq;
    if (throughBytes > this.syncedBytesTotal) this.syncedBytesTotal = throughBytes;
    this.stats.durableSeq = this.durableSeq;
    this.lastFsyncMs = this.now();
    this.stats.fsyncs++;
  }

  /** Opens the first segment, or rotates at a batch that starts with a command and would overflow. */
  private async ensureSegment(firstSeq: number, batchBytes: number, startsWithCommand: boolean): Promise<void> {
    if (this.segmentFd >= 0) {
      const overflow = this.segmentBytes > 0 && this.segmentBytes + batchBytes > this.segmentBytesMax;
      if (!(overflow && startsWithCommand)) return;
      // A finished segment is made durable before the next one gets data, so every segment
      // but the last is complete on disk under every policy: damage there is corruption.
      this.rotating = true;
      try {
        while (this.fsyncInFlight !== null) await this.fsyncInFlight;
        if (this.failure !== null) throw this.failure;
        this.currentOp = `fsync of ${this.segmentName}`;
        if (this.writtenBytesTotal > this.syncedBytesTotal) await this.fsyncSegment();
        this.currentOp = `close of ${this.segmentName}`;
        const fd = this.segmentFd;
        this.segmentFd = -1;
        await this.io.close(fd);
      } finally {
        this.rotating = false;
      }
      if (this.policy.kind === 'fsync') this.releaseAcks(this.durableSeq);
    }
    if (!startsWithCommand || firstSeq <= 0) throw new Error(`journal bug: new segment must start with a command (seq ${firstSeq})`);
    const name = segmentFileName(firstSeq);
    const filePath = joinPath(this.dir, name);
    this.currentOp = `create of ${name}`;
    const existing = await this.io.stat(filePath);
    if (existing !== null && existing.sizeBytes > 0) {
      throw new Error(`journal bug: segment ${name} already holds ${existing.sizeBytes} bytes`);
    }
    this.segmentFd = await this.io.open(filePath, 'append');
    this.segmentName = name;
    this.segmentBytes = 0;
    this.currentOp = `fsync of directory for ${name}`;
    await this.io.fsyncDir(this.dir);
    if (this.segments.length === 0 || this.segments[this.segments.length - 1]!.firstSeq !== firstSeq) {
      this.segments.push({ firstSeq, name });
    }
    this.stats.segmentsCreated++;
  }

  private releaseAcks(throughSeq: number): void {
    const cap = this.pendingCommandsMax;
    while (this.ackedSeq < throughSeq) {
      const seq = ++this.ackedSeq;
      const i = seq % cap;
      const callback = this.ackCallbacks[i] as AckCallback<unknown>;
      const context = this.ackContexts[i];
      const result = this.ackResults[i];
      this.ackCallbacks[i] = null;
      this.ackContexts[i] = undefined;
      this.ackResults[i] = undefined;
      this.stats.ackedSeq = seq;
      this.invoke(callback, null, seq, result, context);
    }
  }

  private invoke(callback: AckCallback<unknown>, error: JournalError | null, seq: number, result: unknown, context: unknown): void {
    try {
      callback(error, seq, result, context);
    } catch (err) {
      // A throwing client callback must not take the writer (and every other ack) down.
      this.log(`journal: ack callback for seq ${seq} threw: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /** Fail-stop: reject everything pending and everything later; never ack the unpersisted. */
  private failStop(op: string, err: unknown): void {
    if (this.failure !== null) return;
    const firstUnacked = this.ackedSeq + 1;
    const lastUnacked = this.appliedSeq;
    const pending = lastUnacked - this.ackedSeq;
    const cause = (err as Error)?.message ?? String(err);
    this.failure = new JournalError(
      'stopped',
      `${op} failed: ${cause}. ${pending} unacknowledged command(s)` +
        `${pending > 0 ? ` (seq ${firstUnacked}..${lastUnacked})` : ''} rejected; acknowledged through seq ${this.ackedSeq}. ` +
        'No further commands are accepted; restart to recover from disk.',
      { cause: err },
    );
    this.log(`journal: FAIL-STOP: ${this.failure.message}`);
    if (this.fsyncTimer !== null) clearTimeout(this.fsyncTimer);
    this.fsyncTimer = null;
    this.stageLenBytes = 0;
    this.stageFirstSeq = 0;
    this.stageLastSeq = 0;
    this.stageCommands = 0;
    this.pendingSnapshot = null;
    const cap = this.pendingCommandsMax;
    for (let seq = firstUnacked; seq <= lastUnacked; seq++) {
      const i = seq % cap;
      const callback = this.ackCallbacks[i] as AckCallback<unknown> | null;
      const context = this.ackContexts[i];
      this.ackCallbacks[i] = null;
      this.ackContexts[i] = undefined;
      this.ackResults[i] = undefined;
      if (callback !== null) this.invoke(callback, this.failure, seq, undefined, context);
    }
    this.notifyIdleIfIdle();
  }

  private isIdle(): boolean {
    return (
      this.failure !== null ||
      (!this.writing &&
        !this.writerScheduled &&
        this.fsyncInFlight === null &&
        this.stageLenBytes === 0 &&
        !this.snapshotRequested &&
        (this.writtenBytesTotal === this.syncedBytesTotal || !this.fsyncDue()))
    );
  }

  private whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdleIfIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private armFsyncTimer(intervalMs: number): void {
    if (this.fsyncTimer !== null) return;
    const delayMs = Math.max(0, intervalMs - (this.now() - this.lastFsyncMs));
    this.fsyncTimer = setTimeout(this.onFsyncTimerBound, delayMs);
  }

  private onFsyncTimer(): void {
    this.fsyncTimer = null;
    if (this.failure !== null || this.closed) return;
    this.fsyncRequested = true;
    this.maybeStartFsync();
  }

  // ---- snapshots and checkpoints ----

  private maybeSnapshotOrCheckpoint(): void {
    const sinceSnapshot = this.appliedSeq - this.lastSnapshotSeq;
    if (sinceSnapshot === 0) this.snapshotRequested = false; // nothing new since the last one
    const due =
      this.snapshotRequested ||
      (this.snapshotEveryCommands > 0 && sinceSnapshot >= this.snapshotEveryCommands) ||
      (this.snapshotEveryMs > 0 && sinceSnapshot > 0 && this.now() - this.lastSnapshotMs >= this.snapshotEveryMs);
    // One snapshot in flight at most: a slow disk delays the next snapshot, never piles them up.
    if (due && this.pendingSnapshot === null && this.snapshotWriting === null) {
      this.snapshotRequested = false;
      this.takeSnapshot();
      return;
    }
    if (this.checkpointEveryCommands > 0 && this.appliedSeq - this.lastCheckpointSeq >= this.checkpointEveryCommands) {
      this.stageCheckpoint(this.machine.stateHash());
    }
  }

  /** The pause: snapshot() + stateHash() run here, between batches; the file write happens later, off this path. */
  private takeSnapshot(): void {
    const t0 = this.now();
    const payload = this.machine.snapshot();
    const stateHash = this.machine.stateHash();
    const pauseMs = this.now() - t0;
    this.stats.snapshotsTaken++;
    this.stats.snapshotPauseMsLast = pauseMs;
    if (pauseMs > this.stats.snapshotPauseMsMax) this.stats.snapshotPauseMsMax = pauseMs;
    this.lastSnapshotSeq = this.appliedSeq;
    this.lastSnapshotMs = t0;
    this.pendingSnapshot = { seq: this.appliedSeq, stateHash, payload };
    this.stageCheckpoint(stateHash);
  }

  private stageCheckpoint(stateHash: string): void {
    const body = Buffer.from(stateHash, 'latin1');
    const recordBytes = RECORD_HEADER_BYTES + 1 + body.length;
    // A checkpoint cannot open a segment (segments are named by their first command), and it
    // is only an extra check: skip it rather than overflow the staging buffer.
    if (this.stageLenBytes === 0 && this.segmentFd < 0) return;
    if (this.stageLenBytes + recordBytes > this.stagingBytesMax) return;
    this.stageLenBytes = writeRecord(this.stage, this.stageLenBytes, this.appliedSeq, RECORD_KIND_CHECKPOINT, body);
    this.lastCheckpointSeq = this.appliedSeq;
    this.stats.checkpointsWritten++;
  }

  private maybeStartSnapshotWrite(): void {
    const snap = this.pendingSnapshot;
    if (snap === null || this.snapshotWriting !== null) return;
    // Only once the journal holds everything the snapshot contains: a snapshot must never be
    // ahead of the journal it will be combined with.
    const readySeq = this.policy.kind === 'none' ? this.writtenSeq : this.durableSeq;
    if (readySeq < snap.seq) return;
    this.pendingSnapshot = null;
    this.snapshotWriting = this.writeSnapshot(snap).finally(() => {
      this.snapshotWriting = null;
    });
  }

  /** Never rejects: a failed snapshot is logged and counted, the journal stays the source of truth. */
  private async writeSnapshot(snap: PendingSnapshot): Promise<void> {
    const name = snapshotFileName(snap.seq);
    const tmpPath = joinPath(this.dir, name + TEMP_SUFFIX);
    try {
      const header = encodeSnapshotHeader(snap.seq, snap.stateHash, snap.payload);
      await writeFileDurably(this.io, tmpPath, [header, snap.payload]);
      await this.io.rename(tmpPath, joinPath(this.dir, name));
      await this.io.fsyncDir(this.dir);
      this.stats.snapshotsWritten++;
      this.log(
        `journal: snapshot ${name} written (${header.length + snap.payload.length} bytes, pause ${this.stats.snapshotPauseMsLast.toFixed(2)} ms)`,
      );
      await this.prune();
    } catch (err) {
      this.stats.snapshotFailures++;
      this.log(
        `journal: snapshot ${name} failed: ${(err as Error).message}; continuing, the journal still holds every command (snapshots only shorten recovery)`,
      );
      try {
        await this.io.unlink(tmpPath);
      } catch {
        // The temp file may not exist; recovery deletes leftovers anyway.
      }
    }
  }

  /** Keep the newest snapshotsKeep snapshots; delete segments wholly covered by the oldest kept one. */
  private async prune(): Promise<void> {
    const names = await this.io.list(this.dir);
    const snaps = names
      .map(parseSnapshotFileName)
      .filter((s): s is number => s !== null)
      .sort((a, b) => b - a);
    let removed = 0;
    for (const seq of snaps.slice(this.snapshotsKeep)) {
      await this.io.unlink(joinPath(this.dir, snapshotFileName(seq)));
      removed++;
    }
    const oldestKept = snaps[Math.min(this.snapshotsKeep, snaps.length) - 1];
    // segments[0] covers seqs [first0, first1 - 1]; the last segment (the open one) always stays.
    while (oldestKept !== undefined && this.segments.length > 1 && this.segments[1]!.firstSeq - 1 <= oldestKept) {
      await this.io.unlink(joinPath(this.dir, this.segments[0]!.name));
      this.segments.shift();
      removed++;
    }
    if (removed > 0) {
      await this.io.fsyncDir(this.dir);
      this.log(`journal: pruned ${removed} file(s) covered by snapshot seq ${oldestKept}`);
    }
  }
}
