// Runtime-controllable disk faults for `perpx serve --chaos`. The engine thread wraps its node
// FileIO in one FaultyFileIO (engine/journal/faulty-io.ts) from the start, so every open file
// is known to it, and points that wrapper at a plan whose fields are read on every call: the
// gateway changes the plan at runtime (admin route → engine-thread message → `set`/`clear`).
// With the empty plan each write/fsync costs a few property reads and no random draw.
//
// What the journal does with an injected failure is its own business (fail-stop, -1001 → 503;
// restart to recover): this module only makes the disk misbehave on request.

import { FaultyFileIO } from '../journal/faulty-io.ts';
import type { FaultPlan, InjectedErrorCode } from '../journal/faulty-io.ts';
import type { FileIO } from '../journal/file-io.ts';
import { seededRandom } from '../journal/random.ts';
import type { Random } from '../journal/random.ts';
import { parseSegmentFileName } from '../journal/record.ts';

/** What the admin route sends (all optional; an empty plan = no faults). */
export interface DiskChaosPlan {
  /** 'journal' (default): only journal segments; 'all': snapshots too. */
  target?: 'journal' | 'all';
  /** Added to every faulted fsync: fixed + uniform random part. */
  fsyncLatencyMs?: number;
  fsyncJitterMs?: number;
  /** Error code for the failures below (default EIO). */
  errorCode?: InjectedErrorCode;
  /** Each faulted write / fsync fails with this probability. */
  writeErrorProbability?: number;
  fsyncErrorProbability?: number;
  /** The Nth faulted write / fsync from now fails (1 = the next one). */
  failWriteAfterCalls?: number;
  failFsyncAfterCalls?: number;
  /**
   * Torn write at crash: the next faulted write persists a random prefix (possibly empty) of its bytes,
   * then the whole process is SIGKILLed (no fsync, no ack, no cleanup), like a power cut.
   */
  tornWriteCrash?: boolean;
  /** Seed of the probability draws and jitter (default 1). */
  seed?: number;
}

export interface DiskChaosStatus {
  active: boolean;
  plan: DiskChaosPlan;
  writeCalls: number;
  fsyncCalls: number;
  injectedCount: number;
  /** The last few injected failures, newest last. */
  injected: string[];
  /** The journal's fail-stop message once it stopped (set by the engine thread), else null. */
  journalFailed: string | null;
}

export type DiskChaosOp = 'set' | 'clear' | 'status';

/** What the gateway's chaos routes need from the host (WorkerHost with `chaos: true`). */
export interface GatewayChaos {
  /** null: no journal in this process (--in-process), disk faults are unavailable. */
  disk: ((op: DiskChaosOp, plan: DiskChaosPlan) => Promise<DiskChaosStatus>) | null;
}

/** A fsync is never made slower than this by chaos (bounded, like every fault). */
export const CHAOS_FSYNC_LATENCY_MS_MAX = 10_000;
const INJECTED_SHOWN = 8;

function basename(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i < 0 ? p : p.slice(i + 1);
}

const isJournalSegment = (filePath: string): boolean => parseSegmentFileName(basename(filePath)) !== null;

function checkNumber(v: unknown, name: string, min: number, max: number, integer = false): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new Error(`${name} must be ${integer ? 'an integer ' : ''}in ${min}..${max}`);
  }
  return v;
}

/** Validates a plan from the wire; throws a one-line Error. Returns a clean copy. */
export function validateDiskChaosPlan(p: DiskChaosPlan): DiskChaosPlan {
  if (p.target !== undefined && p.target !== 'journal' && p.target !== 'all') throw new Error('target must be journal or all');
  if (p.errorCode !== undefined && p.errorCode !== 'EIO' && p.errorCode !== 'ENOSPC') throw new Error('errorCode must be EIO or ENOSPC');
  const out: DiskChaosPlan = {
    target: p.target ?? 'journal',
    fsyncLatencyMs: checkNumber(p.fsyncLatencyMs, 'fsyncLatencyMs', 0, CHAOS_FSYNC_LATENCY_MS_MAX),
    fsyncJitterMs: checkNumber(p.fsyncJitterMs, 'fsyncJitterMs', 0, CHAOS_FSYNC_LATENCY_MS_MAX),
    errorCode: p.errorCode ?? 'EIO',
    writeErrorProbability: checkNumber(p.writeErrorProbability, 'writeErrorProbability', 0, 1),
    fsyncErrorProbability: checkNumber(p.fsyncErrorProbability, 'fsyncErrorProbability', 0, 1),
    failWriteAfterCalls: checkNumber(p.failWriteAfterCalls, 'failWriteAfterCalls', 1, 1e9, true),
    failFsyncAfterCalls: checkNumber(p.failFsyncAfterCalls, 'failFsyncAfterCalls', 1, 1e9, true),
    seed: checkNumber(p.seed, 'seed', 0, 2 ** 32 - 1, true),
    tornWriteCrash: p.tornWriteCrash === undefined || p.tornWriteCrash === false ? undefined : true,
  };
  if (p.tornWriteCrash !== undefined && typeof p.tornWriteCrash !== 'boolean') throw new Error('tornWriteCrash must be true or false');
  for (const k of Object.keys(out) as (keyof DiskChaosPlan)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** The FaultPlan the FaultyFileIO reads on every call; fields follow the current chaos plan. */
class LivePlan implements FaultPlan {
  plan: DiskChaosPlan = {};
  /** failWrite/FsyncAfterCalls converted to absolute call numbers of the wrapper's counters. */
  writeFailCall = 0;
  fsyncFailCall = 0;
  tornCall = 0;
  get tornWriteCrashAtCall(): number | undefined {
    return this.tornCall > 0 ? this.tornCall : undefined;
  }
  get appliesTo(): ((filePath: string) => boolean) | undefined {
    return this.plan.target === 'all' ? undefined : isJournalSegment;
  }
  get fsyncLatencyUs(): number | undefined {
    return this.plan.fsyncLatencyMs === undefined ? undefined : this.plan.fsyncLatencyMs * 1000;
  }
  get fsyncLatencyJitterUs(): number | undefined {
    return this.plan.fsyncJitterMs === undefined ? undefined : this.plan.fsyncJitterMs * 1000;
  }
  get writeErrorProbability(): number | undefined { return this.plan.writeErrorProbability; }
  get fsyncErrorProbability(): number | undefined { return this.plan.fsyncErrorProbability; }
  get errorCode(): InjectedErrorCode | undefined { return this.plan.errorCode; }
  get failWriteAtCall(): { call: number; code: InjectedErrorCode } | undefined {
    return this.writeFailCall > 0 ? { call: this.writeFailCall, code: this.plan.errorCode ?? 'EIO' } : undefined;
  }
  get failFsyncAtCall(): { call: number; code: InjectedErrorCode } | undefined {
    return this.fsyncFailCall > 0 ? { call: this.fsyncFailCall, code: this.plan.errorCode ?? 'EIO' } : undefined;
  }
}

/**
 * The FileIO methods as a plain object (wrappers that spread `...io` keep them). A write that
 * ends in the wrapper's simulated crash (torn write) kills the real process on the spot.
 */
function plainFileIO(io: FileIO): FileIO {
  const crashOnTorn = (err: unknown): never => {
    if ((err as { code?: unknown }).code === 'ECRASHED') process.kill(process.pid, 'SIGKILL');
    throw err;
  };
  return {
    mkdirp: (dir) => io.mkdirp(dir),
    list: (dir) => io.list(dir),
    stat: (filePath) => io.stat(filePath),
    readFile: (filePath) => io.readFile(filePath),
    open: (filePath, mode) => io.open(filePath, mode),
    write: (fd, bytes, offsetBytes, lengthBytes) => io.write(fd, bytes, offsetBytes, lengthBytes).catch(crashOnTorn),
    fsync: (fd) => io.fsync(fd),
    close: (fd) => io.close(fd),
    truncate: (filePath, sizeBytes) => io.truncate(filePath, sizeBytes),
    rename: (fromPath, toPath) => io.rename(fromPath, toPath),
    unlink: (filePath) => io.unlink(filePath),
    fsyncDir: (dir) => io.fsyncDir(dir),
  };
}

export class ChaosDisk {
  /** Give this to the Journal instead of the node FileIO. */
  readonly io: FileIO;
  private readonly faulty: FaultyFileIO;
  private readonly live = new LivePlan();
  private random: Random = seededRandom(1);

  constructor(inner: FileIO) {
    this.faulty = new FaultyFileIO(inner, () => this.random(), this.live);
    this.io = plainFileIO(this.faulty);
  }

  set(plan: DiskChaosPlan): DiskChaosStatus {
    const p = validateDiskChaosPlan(plan);
    this.random = seededRandom(p.seed ?? 1);
    this.live.plan = p;
    this.live.writeFailCall = p.failWriteAfterCalls === undefined ? 0 : this.faulty.writeCalls + p.failWriteAfterCalls;
    this.live.fsyncFailCall = p.failFsyncAfterCalls === undefined ? 0 : this.faulty.fsyncCalls + p.failFsyncAfterCalls;
    this.live.tornCall = p.tornWriteCrash === true ? this.faulty.writeCalls + 1 : 0;
    return this.status();
  }

  clear(): DiskChaosStatus {
    this.live.plan = {};
    this.live.writeFailCall = 0;
    this.live.fsyncFailCall = 0;
    this.live.tornCall = 0;
    return this.status();
  }

  status(): DiskChaosStatus {
    const inj = this.faulty.injected;
    return {
      active: Object.keys(this.live.plan).length > 0,
      plan: { ...this.live.plan },
      writeCalls: this.faulty.writeCalls,
      fsyncCalls: this.faulty.fsyncCalls,
      injectedCount: inj.length,
      injected: inj.slice(-INJECTED_SHOWN).map((f) => `${f.op} #${f.call} ${basename(f.filePath)}: ${f.what}`),
      journalFailed: null,
    };
  }
}
