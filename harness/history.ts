// Jepsen-style operation history: every operation is an `invoke` line when it is sent and one
// completion line — `ok` (2xx), `fail` (a definite rejection: 4xx with a Binance code) or `info`
// (indeterminate: timeout, network error, 5xx — the operation may or may not have happened).
// Append-only NDJSON, one file per worker, merged by time at the end of the run.
//
// Memory is bounded: lines are buffered up to flushBytes (64 KiB) and then written with one
// synchronous write to the page cache (≈ 20–50 µs; measured cost is in the worker's schedule-lag
// histogram). Synchronous writes keep the file strictly in append order and never let the
// buffer grow, so a slow disk shows up as generator lag instead of memory growth or lost lines.
//
// Every line starts with `{"t":<ms since run start>,` so the merge reads times without parsing.

import { openSync, writeSync, closeSync, createReadStream, createWriteStream, unlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';

export interface HistoryWriterOptions {
  flushBytes?: number;
}

export interface HistoryStats {
  lines: number;
  bytes: number;
  flushes: number;
}

export const maxHistoryFlushBytes = 16 * 1024 * 1024;

export class HistoryWriter {
  private readonly fd: number;
  private chunks: string[] = [];
  private bufferedChars = 0;
  private closed = false;
  private readonly flushBytes: number;
  readonly stats: HistoryStats = { lines: 0, bytes: 0, flushes: 0 };

  constructor(path: string, options: HistoryWriterOptions = {}) {
    this.flushBytes = options.flushBytes ?? 64 * 1024;
    if (!(this.flushBytes > 0 && this.flushBytes <= maxHistoryFlushBytes)) throw new Error(`history: flushBytes must be in (0, ${maxHistoryFlushBytes}]`);
    this.fd = openSync(path, 'a');
  }

  /** Appends one line (without the newline). */
  append(line: string): void {
    if (this.closed) throw new Error('history: append after close');
    this.chunks.push(line);
    this.bufferedChars += line.length + 1;
    this.stats.lines++;
    if (this.bufferedChars >= this.flushBytes) this.flush();
  }

  /** Characters buffered (never more than flushBytes + one line). */
  get pendingChars(): number {
    return this.bufferedChars;
  }

  flush(): void {
    if (this.chunks.length === 0) return;
    this.chunks.push('');
    const text = this.chunks.join('\n');
    this.chunks = [];
    this.bufferedChars = 0;
    const buf = Buffer.from(text);
    // A regular-file write is normally whole; loop anyway so a short write cannot lose a line.
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off, buf.length - off);
    this.stats.bytes += buf.length;
    this.stats.flushes++;
  }

  /** Writes what is buffered and closes the file. */
  close(): HistoryStats {
    if (this.closed) return this.stats;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
    return this.stats;
  }
}

/** The time field of a history line (`{"t":12.345,...`). */
export function lineTimeMs(line: string): number {
  const comma = line.indexOf(',');
  return Number(line.slice(5, comma));
}

/**
 * Merges per-worker history files (each already in time order) into one file in time order,
 * streaming (memory: one pending line per input). Deletes the inputs when `removeInputs`.
 */
export async function mergeHistoryFiles(inputs: readonly string[], output: string, removeInputs = true): Promise<number> {
  const out = createWriteStream(output);
  const iters = inputs.map((p) => createInterface({ input: createReadStream(p), crlfDelay: Infinity })[Symbol.asyncIterator]());
  const heads: (string | null)[] = await Promise.all(iters.map(async (it) => ((await it.next()).value as string | undefined) ?? null));
  let lines = 0;
  for (;;) {
    let best = -1;
    let bestT = Infinity;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h === null || h === undefined) continue;
      const t = lineTimeMs(h);
      if (best < 0 || t < bestT) {
        best = i;
        bestT = t;
      }
    }
    if (best < 0) break;
    if (!out.write(heads[best] + '\n')) await once(out, 'drain');
    lines++;
    const next = await iters[best]!.next();
    heads[best] = next.done === true ? null : (next.value as string);
  }
  out.end();
  await once(out, 'finish');
  if (removeInputs) for (const p of inputs) unlinkSync(p);
  return lines;
}
