// What the engine thread, the host and the journal call with plain numbers. Each call is a
// few array stores into the thread's slab (no OpenTelemetry, no allocation); with telemetry
// off the host gets NOOP_RECORDER, whose methods do nothing.
//
// Wiring (engine thread): build once from the SlabHandle the main thread passed in
// workerData: `const rec = engineRecorder(handle)`, then
//   rec.batch(n)                 after taking n commands off the ring for one apply batch
//   rec.journalBatch(n, bytes)   after each group-commit write (n commands, bytes written)
//   rec.fsync(ms)                after each fsync, with its duration in ms
// and start `startRuntimeSampler(slab)` (runtime.ts) for that thread's event loop, GC, heap.

import {
  COUNT_BOUNDS, ENGINE_BATCH_BASE, ENGINE_LIQUIDATIONS, JOURNAL_BATCH_BASE, JOURNAL_BYTES, JOURNAL_FSYNC_BASE, observe, PAUSE_BOUNDS_S, Slab,
} from './slab.ts';
import type { SlabHandle } from './slab.ts';

export interface EngineRecorder {
  /** One engine apply batch of `commands` commands (≥ 1). */
  batch(commands: number): void;
  /** One journal group commit: `commands` records, `bytes` written. */
  journalBatch(commands: number, bytes: number): void;
  /** One fsync (or fdatasync) and how long it took, in ms. */
  fsync(durationMs: number): void;
  /** `accounts` accounts were liquidated by the command just applied. */
  liquidations(accounts: number): void;
}

function noop(): void {}

export const NOOP_RECORDER: EngineRecorder = Object.freeze({ batch: noop, journalBatch: noop, fsync: noop, liquidations: noop });

class SlabRecorder implements EngineRecorder {
  private readonly a: Float64Array;

  constructor(slab: Slab) {
    this.a = slab.a;
  }

  batch(commands: number): void {
    observe(this.a, ENGINE_BATCH_BASE, COUNT_BOUNDS, commands);
  }

  journalBatch(commands: number, bytes: number): void {
    observe(this.a, JOURNAL_BATCH_BASE, COUNT_BOUNDS, commands);
    this.a[JOURNAL_BYTES] += bytes;
  }

  fsync(durationMs: number): void {
    observe(this.a, JOURNAL_FSYNC_BASE, PAUSE_BOUNDS_S, durationMs / 1000);
  }

  liquidations(accounts: number): void {
    this.a[ENGINE_LIQUIDATIONS] += accounts;
  }
}

/** A recorder writing into this slab (its thread must be the slab's only writer). */
export function engineRecorder(slab: Slab | SlabHandle | null): EngineRecorder {
  if (slab === null) return NOOP_RECORDER;
  return new SlabRecorder(slab instanceof Slab ? slab : new Slab(slab));
}
