// Deterministic simulation of the exchange core and its journal (after TigerBeetle's VOPR):
// the real Engine behind the real Journal, on the in-memory SimDisk, in one process, with no
// wall clock and no timers. One seed gives one exact run: every choice (the next command, the
// next fault, disk latency in event-loop turns, how a crash tears unsynced bytes, journal
// tuning) comes from streams derived from the seed.
//
// Each step draws one engine command (submitted to the journal) or one fault (crash, power
// loss, torn write, EIO/ENOSPC, fsync failure, graceful restart), then lets the event loop run
// 0..3 turns so group-commit batches overlap with new commands. After every recovery the
// checker compares the recovered engine against a shadow engine fed only acknowledged
// commands (plus the unacknowledged ones that survived, which recovery may keep):
//   - no acknowledged command lost, nothing recovered that was never submitted;
//   - recovered state hash == shadow hash (and, periodically, == a fresh replay of the log);
//   - Engine.validate() (conservation ledger, open interest, books, order margin) and the
//     ledger against the deposits/withdrawals the clients saw acknowledged;
//   - every acknowledgement's result == the shadow's result for that command.
// The first violation stops the run with its step and a one-line reason.

import type { Command } from '../../engine/core/commands.ts';
import type { Engine } from '../../engine/core/engine.ts';
import type { EngineEvent } from '../../engine/core/events.ts';
import { setupCommands, testConfig } from '../../engine/core/test-support.ts';
import { FaultyFileIO } from '../../engine/journal/faulty-io.ts';
import type { JournalError } from '../../engine/journal/errors.ts';
import { Journal } from '../../engine/journal/journal.ts';
import { SimDisk, type CrashOptions } from '../../engine/journal/sim-disk.ts';
import { binaryCommandCodec } from '../../engine/wire/command-codec.ts';
import { deriveSeed, Rng } from '../../harness/rng.ts';
import { CommandSource } from './command-source.ts';
import { armFault, disarm, FAULT_KINDS, isArmed, pickFault, zeroFaultCounts, type ArmablePlan, type FaultKind } from './faults.ts';
import { LaggyIO } from './laggy-io.ts';
import { checkOpenOrderLists } from './order-lists.ts';
import { dropRecord, engineFactory, type PlantedBug } from './planted-bugs.ts';

export const SIM_DIR = '/sim/perpx';
export const STEPS_MAX = 100_000_000;
export const PROGRESS_EVERY_STEPS = 10_000;
/** Engine commands encode to < 200 bytes; garbage ones are rejected before sequencing anyway. */
const SIM_RECORD_BYTES_MAX = 4096;
const SIM_STAGING_BYTES_MAX = 256 * 1024;

/** Seed streams (deriveSeed stream ids): one per concern so adding draws to one leaves the others alone. */
const STREAM_SCHEDULE = 1;
const STREAM_DISK_LAG = 2;
const STREAM_CRASH = 3;
const STREAM_FAULTY_IO = 4;
const STREAM_CONFIG = 5;

/** Per-seed journal tuning ("swarm testing": each seed exercises a different corner). */
export interface SimConfig {
  readonly segmentBytesMax: number;
  readonly snapshotEveryCommands: number;
  readonly snapshotEveryMs: number;
  readonly checkpointEveryCommands: number;
  readonly writeCommandsMax: number;
  readonly pendingCommandsMax: number;
  /** Probability that one side of a disk call waits 1..3 event-loop turns. */
  readonly lagProbability: number;
  /** Probability that a step is a fault rather than a command. */
  readonly faultProbability: number;
}

export interface SimOptions {
  readonly seed: number;
  readonly steps: number;
  /** Fault probability per step; default drawn from the seed (0.5%..3%). */
  readonly faultProbability?: number;
  readonly plantBug?: PlantedBug | null;
  /** Replay the whole committed log on a fresh engine at recoveries 1, 2, 4, 8, … (O(log n) replays) and at the end. */
  readonly fullReplays?: boolean;
  /** Live-engine Engine.validate() every N steps (default 100; 0 = never). */
  readonly validateEvery?: number;
  /** Called every PROGRESS_EVERY_STEPS steps (for a progress line on long runs). */
  readonly onProgress?: (stepsRun: number) => void;
}

export interface SimViolation {
  readonly step: number;
  readonly reason: string;
}

/** Everything here is a function of (seed, steps, options): two runs print the same. */
export interface SimSummary {
  seed: number;
  steps: number;
  stepsRun: number;
  plantedBug: PlantedBug | null;
  config: SimConfig;
  commands: {
    submitted: number;
    sequenced: number;
    acked: number;
    /** Rejected before sequencing: overload (-1008), unencodable, or the journal had stopped. */
    rejectedBeforeSequencing: number;
    /** Sequenced, then failed by a fail-stop (outcome unknown to the client, like a timeout). */
    failedByFailStop: number;
    /** Never acknowledged, kept by recovery anyway (allowed: they were on disk). */
    survivedUnacked: number;
    /** Never acknowledged, gone after a crash (allowed). */
    lostUnacked: number;
  };
  faults: Record<FaultKind, number>;
  /** Disk faults that actually fired (an armed fault can be overtaken by a crash). */
  faultsFired: number;
  failStops: number;
  crashes: number;
  recoveries: number;
  recoveriesFromSnapshot: number;
  tornTailsTruncated: number;
  fullReplays: number;
  finalSeq: number;
  stateHash: string;
  violation: SimViolation | null;
}

export interface SimTiming {
  elapsedMs: number;
  stepsPerS: number;
}

export interface SimRun {
  summary: SimSummary;
  timing: SimTiming;
}

function drawConfig(seed: number, faultProbability: number | undefined): SimConfig {
  const rng = new Rng(deriveSeed(seed, STREAM_CONFIG));
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  return {
    segmentBytesMax: pick([2048, 8192, 65_536]),
    snapshotEveryCommands: pick([64, 256, 1024]),
    snapshotEveryMs: pick([0, 2000]),
    checkpointEveryCommands: pick([0, 16, 100]),
    writeCommandsMax: pick([4, 64, 8192]),
    pendingCommandsMax: pick([32, 16_384]),
    lagProbability: pick([0, 0.3, 0.6]),
    faultProbability: faultProbability ?? pick([0.005, 0.01, 0.03]),
  };
}

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

function ledgerDelta(events: readonly EngineEvent[]): number {
  let delta = 0;
  for (const e of events) if (e.type === 'balance' && (e.reason === 'DEPOSIT' || e.reason === 'WITHDRAW')) delta += e.deltaUnits;
  return delta;
}

/** Events are flat objects of primitives: a shallow field-by-field compare (≈10× cheaper than JSON). */
function sameEvents(a: unknown, b: readonly EngineEvent[]): boolean {
  if (!Array.isArray(a) || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) {
    const x = a[i] as Record<string, unknown>;
    const y = b[i] as unknown as Record<string, unknown>;
    let fields = 0;
    for (const k in y) {
      if (x[k] !== y[k]) return false;
      fields++;
    }
    for (const _ in x) fields--;
    if (fields !== 0) return false;
  }
  return true;
}

/** "3 events, first reject -5021" style: enough to see how two results part. */
function describeEvents(events: readonly EngineEvent[]): string {
  const first = events[0];
  if (first === undefined) return 'no events';
  const head = first.type === 'reject' ? `reject ${first.code}` : first.type === 'order' ? `order ${first.execType}` : first.type;
  return `${events.length} event${events.length === 1 ? '' : 's'}, first ${head}`;
}

function errorMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** Errors FaultyFileIO injects (ECRASHED: the torn-write crash). */
function isInjectedIoError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EIO' || code === 'ENOSPC' || code === 'ECRASHED';
}

class Violation extends Error {}

export class Simulator {
  readonly options: SimOptions;
  readonly config: SimConfig;
  private readonly bug: PlantedBug | null;
  private readonly createEngine: () => Engine;
  private readonly schedule: Rng;
  private readonly lagRng: Rng;
  private readonly crashRng: Rng;
  private readonly faultyRng: Rng;
  private readonly commands: CommandSource;
  private readonly onAckBound: (error: JournalError | null, seq: number, result: unknown, epoch: number) => void;

  // The "process": disk, fault layer, journal; epoch counts restarts, a dead epoch's acks are dropped.
  private disk = new SimDisk();
  private faulty!: FaultyFileIO;
  private plan: ArmablePlan = {};
  private journal!: Journal<Command>;
  private epoch = 0;
  private processDead = false;
  private clockMs = 0;

  // What the clients know: the committed log (seq = index + 1), this epoch's sequenced commands,
  // the shadow engine fed acknowledged commands in seq order, and the deposits − withdrawals
  // they saw (ledgerNet[seq] after seq).
  private log: Command[] = [];
  private inflight: Command[] = [];
  private epochBase = 0;
  private shadow: Engine;
  private shadowSeq = 0;
  private ackedSeq = 0;
  private ledgerNet: number[] = [0];

  private step = 0;
  private violation: SimViolation | null = null;
  private readonly s: SimSummary;

  constructor(options: SimOptions) {
    if (!(Number.isSafeInteger(options.seed) && options.seed >= 0 && options.seed <= 0xffffffff)) {
      throw new RangeError(`seed must be an integer in [0, 4294967295], got ${options.seed}`);
    }
    if (!(Number.isSafeInteger(options.steps) && options.steps >= 0 && options.steps <= STEPS_MAX)) {
      throw new RangeError(`steps must be an integer in [0, ${STEPS_MAX}], got ${options.steps}`);
    }
    if (options.faultProbability !== undefined && !(options.faultProbability >= 0 && options.faultProbability <= 1)) {
      throw new RangeError(`fault probability must be in [0, 1], got ${options.faultProbability}`);
    }
    this.options = options;
    this.bug = options.plantBug ?? null;
    this.config = drawConfig(options.seed, options.faultProbability);
    this.createEngine = engineFactory(testConfig(), this.bug);
    this.schedule = new Rng(deriveSeed(options.seed, STREAM_SCHEDULE));
    this.lagRng = new Rng(deriveSeed(options.seed, STREAM_DISK_LAG));
    this.crashRng = new Rng(deriveSeed(options.seed, STREAM_CRASH));
    this.faultyRng = new Rng(deriveSeed(options.seed, STREAM_FAULTY_IO));
    this.commands = new CommandSource(options.seed);
    this.shadow = this.createEngine();
    this.onAckBound = (error, seq, result, epoch) => this.onAck(error, seq, result, epoch);
    this.s = {
      seed: options.seed,
      steps: options.steps,
      stepsRun: 0,
      plantedBug: this.bug,
      config: this.config,
      commands: { submitted: 0, sequenced: 0, acked: 0, rejectedBeforeSequencing: 0, failedByFailStop: 0, survivedUnacked: 0, lostUnacked: 0 },
      faults: zeroFaultCounts(),
      faultsFired: 0,
      failStops: 0,
      crashes: 0,
      recoveries: 0,
      recoveriesFromSnapshot: 0,
      tornTailsTruncated: 0,
      fullReplays: 0,
      finalSeq: 0,
      stateHash: '',
      violation: null,
    };
  }

  async run(): Promise<SimRun> {
    const t0 = performance.now();
    try {
      await this.openProcess(this.disk, 'start');
      for (const c of setupCommands()) this.submit(c);
      await this.journal.flush();
      this.failIf(this.ackedSeq !== this.log.length + this.inflight.length, `setup commands not acknowledged (${this.ackedSeq})`);
      for (this.step = 1; this.step <= this.options.steps; this.step++) {
        await this.runStep();
        this.s.stepsRun = this.step;
        if (this.step % PROGRESS_EVERY_STEPS === 0) this.options.onProgress?.(this.step);
      }
      this.step = this.options.steps + 1; // the final check is reported as the step after the last
      await this.finish();
    } catch (err) {
      if (!(err instanceof Violation)) this.violation ??= { step: this.step, reason: `simulator error: ${errorMessage(err)}` };
      this.s.stepsRun = Math.min(this.step, this.options.steps);
    }
    this.s.violation = this.violation;
    this.s.finalSeq = this.epochBase + this.inflight.length;
    this.s.stateHash = this.violation === null ? this.s.stateHash : '';
    const elapsedMs = performance.now() - t0;
    return { summary: this.s, timing: { elapsedMs, stepsPerS: elapsedMs > 0 ? (this.s.stepsRun * 1000) / elapsedMs : 0 } };
  }

  private fail(reason: string): never {
    this.violation ??= { step: this.step, reason };
    throw new Violation(reason);
  }

  private failIf(condition: boolean, reason: string): void {
    if (condition) this.fail(reason);
  }

  private failIfStopped(what: string): void {
    const failure: JournalError | null = this.journal.failed;
    if (failure !== null) this.fail(`${what} failed: ${errorMessage(failure)}`);
  }

  private get live(): Engine {
    return this.journal.machine as Engine;
  }

  private async runStep(): Promise<void> {
    this.clockMs += this.schedule.int(8);
    if (this.schedule.float() < this.config.faultProbability) {
      await this.fault(pickFault(this.schedule.float()));
    } else {
      // Checked after every command: resolving the next one (openOrderIds) would loop forever on a corrupted list.
      if (this.submit(this.commands.nextCommand(this.live))) this.checkOrderLists(this.live, 'live engine');
    }
    const u = this.schedule.float();
    const turns = u < 0.3 ? 0 : u < 0.8 ? 1 : 2 + this.schedule.int(2);
    for (let i = 0; i < turns; i++) await nextTurn();
    if (this.violation !== null) throw new Violation(this.violation.reason); // raised inside an ack callback
    if (this.journal.failed !== null || this.faulty.crashed) await this.restartAfterFailStop();
    const every = this.options.validateEvery ?? 100;
    if (every > 0 && this.step % every === 0) this.checkInvariants(this.live, 'live engine');
  }

  /** True if the journal sequenced (and so applied) the command. */
  private submit(command: Command): boolean {
    this.s.commands.submitted++;
    const err = this.journal.trySubmit(command, this.onAckBound, this.epoch);
    if (err !== null) {
      this.s.commands.rejectedBeforeSequencing++;
      return false;
    }
    this.s.commands.sequenced++;
    this.inflight.push(command);
    return true;
  }

  private onAck(error: JournalError | null, seq: number, result: unknown, epoch: number): void {
    if (epoch !== this.epoch || this.processDead || this.faulty.crashed) return; // a dead process acknowledges nothing
    if (this.violation !== null) return;
    if (error !== null) {
      this.s.commands.failedByFailStop++;
      return;
    }
    if (seq !== this.shadowSeq + 1) {
      this.violation = { step: this.step, reason: `acknowledgement out of order: seq ${seq} after seq ${this.shadowSeq}` };
      return;
    }
    const events = this.applyToShadow(seq);
    this.ackedSeq = seq;
    this.s.commands.acked++;
    if (!sameEvents(result, events)) {
      const command = this.inflight[seq - this.epochBase - 1]!;
      this.violation = {
        step: this.step,
        reason: `acknowledged result of seq ${seq} differs from the shadow replay of the same command (${command.type}: ` +
          `acknowledged ${describeEvents(result as EngineEvent[])}, shadow ${describeEvents(events)})`,
      };
    }
  }

  /** Feeds command `seq` (which must be shadowSeq + 1 and in this epoch) to the shadow. */
  private applyToShadow(seq: number): EngineEvent[] {
    const command = this.inflight[seq - this.epochBase - 1]!;
    const events = this.shadow.apply(command);
    this.shadowSeq = seq;
    this.ledgerNet.push(this.ledgerNet[seq - 1]! + ledgerDelta(events));
    return events;
  }

  // ---- faults ----

  private async fault(kind: FaultKind): Promise<void> {
    this.s.faults[kind]++;
    if (isArmed(kind)) {
      if (!this.faulty.crashed && this.journal.failed === null) armFault(this.faulty, this.plan, kind);
      return;
    }
    switch (kind) {
      case 'power-loss':
        return this.crash('power-loss');
      case 'process-crash':
        return this.crash('process-crash');
      case 'restart':
        return this.gracefulRestart();
    }
  }

  private crashOptions(): CrashOptions {
    const r = this.crashRng;
    return {
      keepUnsyncedProbability: [0, 0.5, 1][r.int(3)]!,
      garbageProbability: [0, 0.3, 0.8][r.int(3)]!,
      keepUnsyncedDirProbability: [0, 0, 0.5][r.int(3)]!,
    };
  }

  /** The disk a restarted process sees, and the old process killed. */
  private survivorOf(kind: 'power-loss' | 'process-crash'): SimDisk {
    this.processDead = true;
    if (kind === 'power-loss') return this.disk.crash(() => this.crashRng.float(), this.crashOptions());
    const survivor = this.disk.clone();
    this.disk.dead = true; // the old journal's in-flight calls now fail, as in a dead process
    return survivor;
  }

  private async crash(kind: 'power-loss' | 'process-crash'): Promise<void> {
    this.s.crashes++;
    await this.openProcess(this.survivorOf(kind), kind);
  }

  private async restartAfterFailStop(): Promise<void> {
    // Only an injected disk error may stop the journal; anything else (apply() threw, a journal
    // bug) is a violation: the engine's contract is that apply never throws.
    const failure: JournalError | null = this.journal.failed;
    if (failure !== null && !isInjectedIoError(failure.cause)) {
      this.fail(`journal fail-stopped without an injected fault: ${errorMessage(failure.cause ?? failure)}`);
    }
    this.s.faultsFired++;
    if (this.journal.failed !== null) this.s.failStops++;
    this.s.crashes++;
    // A torn write is a crash: the page cache may survive (process) or not (power). After EIO
    // the process restarts itself: its page cache survives.
    const kind = this.faulty.crashed && this.crashRng.float() < 0.5 ? 'power-loss' : 'process-crash';
    await this.openProcess(this.survivorOf(kind), this.faulty.crashed ? `torn write + ${kind}` : 'fail-stop restart');
  }

  private async gracefulRestart(): Promise<void> {
    disarm(this.plan);
    if (this.faulty.crashed || this.journal.failed !== null) return this.restartAfterFailStop();
    await this.journal.close();
    this.failIfStopped('graceful close');
    const sequenced = this.epochBase + this.inflight.length;
    // Everything sequenced is now acknowledged (shadowSeq also counts survivors of an earlier crash).
    this.failIf(this.shadowSeq !== sequenced, `graceful close returned with seq ${this.shadowSeq} acknowledged or recovered of ${sequenced} sequenced`);
    this.processDead = true;
    await this.openProcess(this.disk, 'restart');
  }

  // ---- recovery and its checks ----

  private async openProcess(disk: SimDisk, reason: string): Promise<void> {
    if (this.bug === 'drop-last-acked' && reason !== 'start' && reason !== 'restart' && reason !== 'final') {
      await dropRecord(disk, SIM_DIR, this.ackedSeq);
    }
    this.epoch++;
    this.processDead = false;
    this.disk = disk;
    this.plan = {};
    this.faulty = new FaultyFileIO(disk, () => this.faultyRng.float(), this.plan);
    const io = new LaggyIO(this.faulty, { random: () => this.lagRng.float(), lagProbability: this.config.lagProbability, fsyncLies: this.bug === 'fsync-lies' });
    let journal: Journal<Command>;
    try {
      journal = await Journal.open<Command>({
        dir: SIM_DIR,
        io,
        createMachine: this.createEngine,
        codec: binaryCommandCodec,
        policy: 'fsync',
        now: () => this.clockMs,
        segmentBytesMax: this.config.segmentBytesMax,
        snapshotEveryCommands: this.config.snapshotEveryCommands,
        snapshotEveryMs: this.config.snapshotEveryMs,
        checkpointEveryCommands: this.config.checkpointEveryCommands,
        writeCommandsMax: this.config.writeCommandsMax,
        pendingCommandsMax: this.config.pendingCommandsMax,
        // Small buffers: the defaults (1 MiB records, 2 × 4 MiB staging) cost more to allocate
        // and collect at every simulated restart than the whole recovery.
        recordBytesMax: SIM_RECORD_BYTES_MAX,
        stagingBytesMax: SIM_STAGING_BYTES_MAX,
      });
    } catch (err) {
      this.fail(`recovery after ${reason} failed: ${errorMessage(err)}`);
    }
    this.journal = journal;
    if (reason === 'start') return;
    this.s.recoveries++;
    if (journal.recovery.snapshotFile !== null) this.s.recoveriesFromSnapshot++;
    if (journal.recovery.truncated !== null) this.s.tornTailsTruncated++;
    this.checkRecovery(reason);
  }

  private checkRecovery(reason: string): void {
    const r = this.journal.recovery;
    const lastSeq = r.lastSeq;
    const sequenced = this.epochBase + this.inflight.length;
    const after = `after ${reason}`;
    this.failIf(
      lastSeq < this.ackedSeq,
      `acknowledged command lost ${after}: acknowledged through seq ${this.ackedSeq}, recovered through seq ${lastSeq}`,
    );
    this.failIf(lastSeq > sequenced, `phantom commands ${after}: recovered through seq ${lastSeq}, only ${sequenced} ever sequenced`);
    this.failIf(reason === 'restart' && lastSeq !== sequenced, `graceful restart recovered seq ${lastSeq}, ${sequenced} were written`);

    // Commands an earlier recovery served (and new commands then built on) must stay: recovery
    // makes what it replayed durable before accepting commands (finding 1 in the README).
    this.failIf(
      lastSeq < this.epochBase,
      `recovered state went back ${after}: seq ${lastSeq + 1}..${this.epochBase} were recovered and served earlier, now gone`,
    );
    const survivors = lastSeq - this.epochBase;
    for (let seq = this.shadowSeq + 1; seq <= lastSeq; seq++) {
      this.applyToShadow(seq);
      this.s.commands.survivedUnacked++;
    }
    this.s.commands.lostUnacked += this.inflight.length - survivors;
    for (let i = 0; i < survivors; i++) this.log.push(this.inflight[i]!);
    this.inflight = [];
    this.epochBase = lastSeq;
    this.failIf(this.shadowSeq !== lastSeq, `simulator bug: shadow at seq ${this.shadowSeq}, recovered ${lastSeq}`);

    const recovered = this.live;
    const hash = recovered.stateHash();
    const shadowHash = this.shadow.stateHash();
    this.failIf(hash !== r.stateHash, `recovery reported state hash ${r.stateHash.slice(0, 12)} but the engine hashes to ${hash.slice(0, 12)}`);
    this.failIf(
      hash !== shadowHash,
      `recovered state hash ${hash.slice(0, 12)} ≠ shadow replay of the acknowledged log ${shadowHash.slice(0, 12)} at seq ${lastSeq} ${after}`,
    );
    this.checkInvariants(recovered, `recovered engine ${after}`);
    const n = this.s.recoveries;
    if (this.options.fullReplays !== false && (n & (n - 1)) === 0) this.checkFullReplay(hash, after);
  }

  /** Engine.validate(), and the ledger against what clients saw when the engine holds exactly the shadow's commands. */
  private checkInvariants(engine: Engine, what: string): void {
    this.checkOrderLists(engine, what); // first: validate() would loop forever on a cyclic list
    try {
      engine.validate();
    } catch (err) {
      this.fail(`invariant violated in ${what}: ${errorMessage(err)}`);
    }
    // The live engine may also hold unacknowledged commands; then only validate() applies.
    if (engine === this.live && this.journal.lastAppliedSeq !== this.shadowSeq) return;
    const netUnits = this.ledgerNet[this.shadowSeq]!;
    const ledger = engine.ledgerUnits();
    this.failIf(
      ledger !== netUnits,
      `conservation in ${what}: ledger ${ledger} units ≠ acknowledged deposits − withdrawals ${netUnits} units at seq ${this.shadowSeq}`,
    );
  }

  private checkOrderLists(engine: Engine, what: string): void {
    const bad = checkOpenOrderLists(engine);
    if (bad !== null) this.fail(`invariant violated in ${what}: ${bad}`);
  }

  /** A fresh engine replaying the whole committed log must land on `hash`. */
  private checkFullReplay(hash: string, after: string): void {
    this.s.fullReplays++;
    const fresh = this.createEngine();
    for (const c of this.log) fresh.apply(c);
    const freshHash = fresh.stateHash();
    this.failIf(freshHash !== hash, `recovered state hash ${hash.slice(0, 12)} ≠ fresh replay of ${this.log.length} commands ${freshHash.slice(0, 12)} ${after}`);
  }

  /** Graceful close + reopen + full replay: the run ends durable and checked. */
  private async finish(): Promise<void> {
    disarm(this.plan);
    if (this.faulty.crashed || this.journal.failed !== null) await this.restartAfterFailStop();
    await this.journal.close();
    this.failIfStopped('final close');
    this.processDead = true;
    await this.openProcess(this.disk, 'restart');
    this.checkFullReplay(this.live.stateHash(), 'at the end');
    this.s.stateHash = this.live.stateHash();
    await this.journal.close();
  }
}

export async function runSimulation(options: SimOptions): Promise<SimRun> {
  return new Simulator(options).run();
}

export { FAULT_KINDS };
