// Telemetry of the engine thread (engine/host/engine-thread.ts), written into the slab the
// main thread created for it (the gateway's /metrics reads it as a peer slab):
//   - runtime: event-loop delay/utilization, GC pauses, heap, bytes allocated (thread="engine")
//   - perpx_engine_batch_size: commands taken off the ring per drain
//   - perpx_journal_fsync_duration_seconds: each fsync of the journal segment, timed around
//     the FileIO call (no change to the journal)
//   - perpx_journal_batch_size / perpx_journal_written_bytes_total: commands and bytes each
//     fsync made durable (= one group commit under the fsync policy; the `interval`/`none`
//     policies fsync rarely or never, so these stay flat there)
//   - perpx_liquidations_total: liquidation events applied
// Without a slab every hook is a no-op.

import type { EngineEvent } from '../core/events.ts';
import type { FileIO } from '../journal/file-io.ts';
import { engineRecorder, NOOP_RECORDER } from './recorder.ts';
import type { EngineRecorder } from './recorder.ts';
import { startRuntimeSampler } from './runtime.ts';
import type { RuntimeSampler } from './runtime.ts';
import { Slab } from './slab.ts';
import type { SlabHandle } from './slab.ts';

/** What the journal has written so far (JournalStats fields), read at each fsync. */
export interface JournalCoverage {
  writtenSeq: number;
  bytesWritten: number;
}

export interface EngineThreadTelemetry {
  readonly recorder: EngineRecorder;
  /** The same FileIO with fsync timed (group commits are counted once attachJournal was called). */
  instrumentIO(io: FileIO): FileIO;
  /** The open journal's live stats object (JournalStats is updated in place). */
  attachJournal(stats: JournalCoverage): void;
  /** After each applied command: counts liquidations (one scan of a short array). */
  onApplied(events: readonly EngineEvent[]): void;
  stop(): void;
}

const NOOP: EngineThreadTelemetry = Object.freeze({
  recorder: NOOP_RECORDER,
  instrumentIO: (io: FileIO) => io,
  attachJournal() {},
  onApplied() {},
  stop() {},
});

export function engineThreadTelemetry(handle: SlabHandle | null | undefined): EngineThreadTelemetry {
  if (handle === null || handle === undefined) return NOOP;
  const slab = new Slab(handle);
  const recorder = engineRecorder(slab);
  const runtime: RuntimeSampler = startRuntimeSampler(slab);
  let journal: JournalCoverage | null = null;
  let seqLast = 0;
  let bytesLast = 0;
  return {
    recorder,
    attachJournal(stats) {
      journal = stats;
      seqLast = stats.writtenSeq;
      bytesLast = stats.bytesWritten;
    },
    instrumentIO(io) {
      // A Proxy, not {...io}: spreading drops a class-based FileIO's prototype methods (the
      // chaos FaultyFileIO wrapper); every other call goes to `io` itself, bound to it.
      const fsync = async (fd: number): Promise<void> => {
        // The journal fsyncs exactly what was written before the call (journal.ts fsyncSegment).
        const seq = journal?.writtenSeq ?? 0;
        const bytes = journal?.bytesWritten ?? 0;
        const t0 = performance.now();
        await io.fsync(fd);
        recorder.fsync(performance.now() - t0);
        if (journal === null || seq <= seqLast) return;
        recorder.journalBatch(seq - seqLast, bytes - bytesLast);
        seqLast = seq;
        bytesLast = bytes;
      };
      return new Proxy(io, {
        get(target, prop) {
          if (prop === 'fsync') return fsync;
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
    onApplied(events) {
      let n = 0;
      for (let i = 0; i < events.length; i++) if (events[i]!.type === 'liquidation') n++;
      if (n > 0) recorder.liquidations(n);
    },
    stop() {
      runtime.stop();
    },
  };
}
