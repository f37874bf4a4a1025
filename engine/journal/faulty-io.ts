// A FileIO wrapper that injects the failures a disk really produces: fsync latency, EIO and
// ENOSPC on write or fsync (by probability or at the Nth call), short writes, and a torn write
// followed by a "crash" (every later call fails, as if the process had died mid-write). All
// randomness comes from the Random passed in, so a failing chaos run replays from its seed.

import type { FileIO, OpenMode } from './file-io.ts';
import type { Random } from './random.ts';

export type InjectedErrorCode = 'EIO' | 'ENOSPC';

export interface FaultPlan {
  /** Only calls on these paths are faulted (e.g. only journal segments). Default: every path. */
  readonly appliesTo?: (filePath: string) => boolean;
  /** Extra latency added to each faulted fsync, fixed part + uniform random part (µs). */
  readonly fsyncLatencyUs?: number;
  readonly fsyncLatencyJitterUs?: number;
  readonly writeErrorProbability?: number;
  readonly fsyncErrorProbability?: number;
  /** Error code for probabilistic failures; default EIO. */
  readonly errorCode?: InjectedErrorCode;
  /** 1-based index among faulted write calls that fails. */
  readonly failWriteAtCall?: { readonly call: number; readonly code: InjectedErrorCode };
  /** 1-based index among faulted fsync calls that fails. */
  readonly failFsyncAtCall?: { readonly call: number; readonly code: InjectedErrorCode };
  /** Probability that a write persists only a random non-empty strict prefix and reports it. */
  readonly shortWriteProbability?: number;
  /** 1-based faulted write call that persists a random prefix and then "crashes" the IO. */
  readonly tornWriteCrashAtCall?: number;
}

export interface InjectedFault {
  readonly op: 'write' | 'fsync' | 'crash';
  readonly call: number;
  readonly filePath: string;
  readonly what: string;
}

/** Bound on the fault log so a long chaos soak does not grow memory without limit. */
const INJECTED_FAULTS_LOGGED_MAX = 1024;

function ioError(code: string, syscall: string, filePath: string): NodeJS.ErrnoException {
  const messages: Record<string, string> = {
    EIO: 'i/o error',
    ENOSPC: 'no space left on device',
    ECRASHED: 'simulated crash: process is dead',
  };
  const err: NodeJS.ErrnoException = new Error(`${code}: ${messages[code] ?? code}, ${syscall} '${filePath}'`);
  err.code = code;
  err.syscall = syscall;
  err.path = filePath;
  return err;
}

function sleepUs(us: number): Promise<void> {
  // setTimeout has millisecond granularity; sub-millisecond latencies round up to one tick.
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.round(us / 1000))));
}

export class FaultyFileIO implements FileIO {
  readonly inner: FileIO;
  readonly plan: FaultPlan;
  readonly random: Random;
  readonly injected: InjectedFault[] = [];
  writeCalls = 0;
  fsyncCalls = 0;
  crashed = false;
  private readonly fdPaths = new Map<number, string>();

  constructor(inner: FileIO, random: Random, plan: FaultPlan) {
    this.inner = inner;
    this.random = random;
    this.plan = plan;
  }

  private applies(filePath: string): boolean {
    return this.plan.appliesTo === undefined || this.plan.appliesTo(filePath);
  }

  private note(fault: InjectedFault): void {
    if (this.injected.length < INJECTED_FAULTS_LOGGED_MAX) this.injected.push(fault);
  }

  private alive(syscall: string, filePath: string): void {
    if (this.crashed) throw ioError('ECRASHED', syscall, filePath);
  }

  async mkdirp(dir: string): Promise<void> {
    this.alive('mkdir', dir);
    return this.inner.mkdirp(dir);
  }
  async list(dir: string): Promise<string[]> {
    this.alive('readdir', dir);
    return this.inner.list(dir);
  }
  async stat(filePath: string): Promise<{ sizeBytes: number } | null> {
    this.alive('stat', filePath);
    return this.inner.stat(filePath);
  }
  async readFile(filePath: string): Promise<Uint8Array> {
    this.alive('read', filePath);
    return this.inner.readFile(filePath);
  }
  async open(filePath: string, mode: OpenMode): Promise<number> {
    this.alive('open', filePath);
    const fd = await this.inner.open(filePath, mode);
    this.fdPaths.set(fd, filePath);
    return fd;
  }
  async close(fd: number): Promise<void> {
    const filePath = this.fdPaths.get(fd) ?? `fd ${fd}`;
    this.fdPaths.delete(fd);
    this.alive('close', filePath);
    return this.inner.close(fd);
  }
  async truncate(filePath: string, sizeBytes: number): Promise<void> {
    this.alive('truncate', filePath);
    return this.inner.truncate(filePath, sizeBytes);
  }
  async rename(fromPath: string, toPath: string): Promise<void> {
    this.alive('rename', fromPath);
    return this.inner.rename(fromPath, toPath);
  }
  async unlink(filePath: string): Promise<void> {
    this.alive('unlink', filePath);
    return this.inner.unlink(filePath);
  }
  async fsyncDir(dir: string): Promise<void> {
    this.alive('fsync', dir);
    return this.inner.fsyncDir(dir);
  }

  async write(fd: number, bytes: Uint8Array, offsetBytes: number, lengthBytes: number): Promise<number> {
    const filePath = this.fdPaths.get(fd) ?? `fd ${fd}`;
    this.alive('write', filePath);
    if (!this.applies(filePath)) return this.inner.write(fd, bytes, offsetBytes, lengthBytes);
    const call = ++this.writeCalls;
    const plan = this.plan;
    if (plan.tornWriteCrashAtCall === call) {
      const keepBytes = Math.floor(this.random() * lengthBytes);
      if (keepBytes > 0) await this.inner.write(fd, bytes, offsetBytes, keepBytes);
      this.crashed = true;
      this.note({ op: 'crash', call, filePath, what: `torn write: kept ${keepBytes} of ${lengthBytes} bytes, then crash` });
      throw ioError('ECRASHED', 'write', filePath);
    }
    if (plan.failWriteAtCall?.call === call) {
      this.note({ op: 'write', call, filePath, what: plan.failWriteAtCall.code });
      throw ioError(plan.failWriteAtCall.code, 'write', filePath);
    }
    if (plan.writeErrorProbability !== undefined && this.random() < plan.writeErrorProbability) {
      const code = plan.errorCode ?? 'EIO';
      this.note({ op: 'write', call, filePath, what: code });
      throw ioError(code, 'write', filePath);
    }
    if (lengthBytes > 1 && plan.shortWriteProbability !== undefined && this.random() < plan.shortWriteProbability) {
      const shortBytes = 1 + Math.floor(this.random() * (lengthBytes - 1));
      this.note({ op: 'write', call, filePath, what: `short write ${shortBytes}/${lengthBytes}` });
      return this.inner.write(fd, bytes, offsetBytes, shortBytes);
    }
    return this.inner.write(fd, bytes, offsetBytes, lengthBytes);
  }

  async fsync(fd: number): Promise<void> {
    const filePath = this.fdPaths.get(fd) ?? `fd ${fd}`;
    this.alive('fsync', filePath);
    if (!this.applies(filePath)) return this.inner.fsync(fd);
    const call = ++this.fsyncCalls;
    const plan = this.plan;
    const latencyUs = (plan.fsyncLatencyUs ?? 0) + (plan.fsyncLatencyJitterUs ?? 0) * this.random();
    if (latencyUs > 0) await sleepUs(latencyUs);
    if (plan.failFsyncAtCall?.call === call) {
      this.note({ op: 'fsync', call, filePath, what: plan.failFsyncAtCall.code });
      throw ioError(plan.failFsyncAtCall.code, 'fsync', filePath);
    }
    if (plan.fsyncErrorProbability !== undefined && this.random() < plan.fsyncErrorProbability) {
      const code = plan.errorCode ?? 'EIO';
      this.note({ op: 'fsync', call, filePath, what: code });
      throw ioError(code, 'fsync', filePath);
    }
    return this.inner.fsync(fd);
  }
}
