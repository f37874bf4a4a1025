// A FileIO layer that makes the simulated disk take time, deterministically: write, fsync and
// fsyncDir wait a seeded number of event-loop turns (setImmediate, FIFO, no wall clock) before
// and after the call underneath. Without it every SimDisk call settles in one microtask chain,
// so a whole group-commit batch (write → fsync → ack) would finish inside one turn and a crash
// could never land between a write and its fsync. With it, batches overlap the way they do on
// a real disk and crashes cut them at every stage. No timers: same seed, same interleaving.
//
// It also carries the planted "lying fsync" bug (fsync reports success, makes nothing durable)
// the simulator's own tests use to prove the checker catches lost acknowledgements.

import type { FileIO, FileStat, OpenMode } from '../../engine/journal/file-io.ts';

/** Upper bound on turns one call waits on each side; keeps a step's work bounded. */
export const LAG_TURNS_MAX = 3;

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}

export interface LaggyIOOptions {
  /** Seeded uniform [0, 1) source; one draw per side of each delayed call. */
  readonly random: () => number;
  /** Probability that a side of a call waits at all (then 1..LAG_TURNS_MAX turns). */
  readonly lagProbability: number;
  /** Planted bug: fsync does nothing but reports success. */
  readonly fsyncLies?: boolean;
}

export class LaggyIO implements FileIO {
  readonly inner: FileIO;
  private readonly random: () => number;
  private readonly lagProbability: number;
  private readonly fsyncLies: boolean;

  constructor(inner: FileIO, options: LaggyIOOptions) {
    this.inner = inner;
    this.random = options.random;
    this.lagProbability = options.lagProbability;
    this.fsyncLies = options.fsyncLies ?? false;
  }

  private lag(): Promise<void> | null {
    if (this.random() >= this.lagProbability) return null;
    return turns(1 + Math.floor(this.random() * LAG_TURNS_MAX));
  }

  private async delayed<T>(call: () => Promise<T>): Promise<T> {
    const before = this.lag();
    if (before !== null) await before;
    const result = await call();
    const after = this.lag();
    if (after !== null) await after;
    return result;
  }

  mkdirp(dir: string): Promise<void> {
    return this.inner.mkdirp(dir);
  }
  list(dir: string): Promise<string[]> {
    return this.inner.list(dir);
  }
  stat(filePath: string): Promise<FileStat | null> {
    return this.inner.stat(filePath);
  }
  readFile(filePath: string): Promise<Uint8Array> {
    return this.inner.readFile(filePath);
  }
  open(filePath: string, mode: OpenMode): Promise<number> {
    return this.inner.open(filePath, mode);
  }
  close(fd: number): Promise<void> {
    return this.inner.close(fd);
  }
  truncate(filePath: string, sizeBytes: number): Promise<void> {
    return this.inner.truncate(filePath, sizeBytes);
  }
  rename(fromPath: string, toPath: string): Promise<void> {
    return this.inner.rename(fromPath, toPath);
  }
  unlink(filePath: string): Promise<void> {
    return this.inner.unlink(filePath);
  }
  write(fd: number, bytes: Uint8Array, offsetBytes: number, lengthBytes: number): Promise<number> {
    return this.delayed(() => this.inner.write(fd, bytes, offsetBytes, lengthBytes));
  }
  fsync(fd: number): Promise<void> {
    if (this.fsyncLies) return this.delayed(() => Promise.resolve()); // planted bug: nothing made durable
    return this.delayed(() => this.inner.fsync(fd));
  }
  fsyncDir(dir: string): Promise<void> {
    return this.delayed(() => this.inner.fsyncDir(dir));
  }
}
