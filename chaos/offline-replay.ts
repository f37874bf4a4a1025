// An independent replay of the journal: the captured segments (every command since seq 1,
// chaos/journal-capture.ts) applied in this process to a fresh Engine built from the server's
// own config file, with the state hash taken at the seqs asked for. It owes nothing to the
// server's snapshots or recovery code path, so "the server's recovered hash at seq R equals
// this replay's hash at seq R" proves both recovery and replay determinism, and the running
// server's hash can be located at a seq even though the server keeps journaling clock ticks.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRecordAt, recordKind, recordSeq, RECORD_HEADER_BYTES, RECORD_KIND_COMMAND, RECORD_BYTES_MAX_DEFAULT, parseSegmentFileName } from '../engine/journal/record.ts';
import { binaryCommandCodec } from '../engine/wire/command-codec.ts';
import { Engine } from '../engine/core/engine.ts';
import { loadServeConfig } from '../engine/gateway/serve-config.ts';

export interface OfflineReplayResult {
  /** State hash after applying every command up to and including the seq (0 = empty state). */
  hashes: Map<number, string>;
  lastSeq: number;
  commands: number;
  /** A seq gap or an unreadable record stops the replay: why. */
  stoppedBecause: string | null;
}

/** Replays `captureDir` with the engine config of `configFile`; hashes at `seqs` and in [fromSeq, toSeq]. */
export function offlineReplay(captureDir: string, configFile: string, seqs: ReadonlySet<number>, window: { fromSeq: number; toSeq: number } | null = null): OfflineReplayResult {
  const engine = new Engine(loadServeConfig(configFile).engine);
  const out: OfflineReplayResult = { hashes: new Map(), lastSeq: 0, commands: 0, stoppedBecause: null };
  const want = (seq: number): boolean => seqs.has(seq) || (window !== null && seq >= window.fromSeq && seq <= window.toSeq);
  if (want(0)) out.hashes.set(0, engine.stateHash());
  const names = readdirSync(captureDir).filter((n) => parseSegmentFileName(n) !== null).sort((a, b) => parseSegmentFileName(a)! - parseSegmentFileName(b)!);
  for (const name of names) {
    const bytes = new Uint8Array(readFileSync(join(captureDir, name)));
    let off = 0;
    while (off < bytes.length) {
      const len = checkRecordAt(bytes, off, bytes.length, RECORD_BYTES_MAX_DEFAULT);
      if (len < 0) break; // a torn tail: the next segment continues after it
      const seq = recordSeq(bytes, off);
      if (recordKind(bytes, off) === RECORD_KIND_COMMAND) {
        if (seq <= out.lastSeq) {
          off += RECORD_HEADER_BYTES + len;
          continue; // already applied (a segment copied before and after a rewrite)
        }
        if (seq !== out.lastSeq + 1) {
          out.stoppedBecause = `seq gap in ${name}: expected ${out.lastSeq + 1}, found ${seq}`;
          return out;
        }
        engine.replay(binaryCommandCodec.decode(bytes.subarray(off + RECORD_HEADER_BYTES + 1, off + RECORD_HEADER_BYTES + len)));
        out.lastSeq = seq;
        out.commands++;
        if (want(seq)) out.hashes.set(seq, engine.stateHash());
      }
      off += RECORD_HEADER_BYTES + len;
    }
  }
  return out;
}

/** The seq of the last whole command record in a captured journal (headers and CRCs only, no replay). */
export function lastCommandSeq(captureDir: string): number {
  let last = 0;
  const names = readdirSync(captureDir).filter((n) => parseSegmentFileName(n) !== null);
  for (const name of names) {
    const bytes = new Uint8Array(readFileSync(join(captureDir, name)));
    for (let off = 0; off < bytes.length;) {
      const len = checkRecordAt(bytes, off, bytes.length, RECORD_BYTES_MAX_DEFAULT);
      if (len < 0) break;
      if (recordKind(bytes, off) === RECORD_KIND_COMMAND) last = Math.max(last, recordSeq(bytes, off));
      off += RECORD_HEADER_BYTES + len;
    }
  }
  return last;
}

/** Every "recovered to seq N, state hash H" line of a server log, in start order. */
export function recoveryLines(logText: string): { seq: number; hash: string }[] {
  const out: { seq: number; hash: string }[] = [];
  for (const m of logText.matchAll(/recovered to seq (\d+), state hash (\S+)/g)) out.push({ seq: Number(m[1]), hash: m[2]! });
  return out;
}
