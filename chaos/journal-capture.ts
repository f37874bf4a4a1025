// Keeps a copy of the server's journal segments while an experiment runs. The journal prunes
// segments once a snapshot covers them, but the durability check needs every command ever
// journaled: it proves "acknowledged ⇒ in the journal" independently of what the gateway's
// order history (rebuilt only from events seen since the process started) still shows.
//
// Segments are append-only, so a poll copies only the new bytes — unless the file shrank or
// the bytes just before the copied end changed: then recovery cut a torn (never acknowledged)
// tail and wrote on, and the whole segment is copied again.

import { closeSync, copyFileSync, mkdirSync, openSync, readSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseSegmentFileName } from '../engine/journal/record.ts';

export interface JournalCapture {
  /** Copy whatever changed now. */
  captureNow(): void;
  /** Final copy and stop the timer. */
  stop(): void;
  readonly dir: string;
  /** Bytes copied so far (whole-file recopies included). */
  readonly bytesCopied: number;
}

const TAIL_CHECK_BYTES = 256;

function readRange(path: string, from: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, from + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

export function startJournalCapture(dataDir: string, captureDir: string, everyMs = 200): JournalCapture {
  mkdirSync(captureDir, { recursive: true });
  const captured = new Map<string, number>();
  let bytesCopied = 0;
  const copySegment = (name: string): void => {
    const src = join(dataDir, name);
    const dst = join(captureDir, name);
    const size = statSync(src).size;
    const have = captured.get(name) ?? 0;
    if (size === have) return;
    if (size > have && have > 0) {
      const check = Math.min(TAIL_CHECK_BYTES, have);
      if (readRange(src, have - check, check).equals(readRange(dst, have - check, check))) {
        const fresh = readRange(src, have, size - have);
        const fd = openSync(dst, 'a');
        try {
          writeSync(fd, fresh);
        } finally {
          closeSync(fd);
        }
        captured.set(name, have + fresh.length);
        bytesCopied += fresh.length;
        return;
      }
    }
    copyFileSync(src, dst);
    const now = statSync(dst).size;
    captured.set(name, now);
    bytesCopied += now;
  };
  const captureNow = (): void => {
    let names: string[];
    try {
      names = readdirSync(dataDir);
    } catch {
      return;
    }
    for (const name of names) {
      if (parseSegmentFileName(name) === null) continue;
      try {
        copySegment(name);
      } catch {
        // pruned between readdir and copy: it was copied at an earlier tick
      }
    }
  };
  const timer = setInterval(captureNow, everyMs);
  captureNow();
  return { captureNow, dir: captureDir, get bytesCopied() { return bytesCopied; }, stop() { clearInterval(timer); captureNow(); } };
}
