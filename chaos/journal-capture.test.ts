// The journal copy follows appends incrementally and recopies a segment whose tail was cut
// and rewritten (recovery truncating a torn record), so the copy always equals the source.

import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJournalCapture } from './journal-capture.ts';
import { segmentFileName } from '../engine/journal/record.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('journal capture', () => {
  it('appends new bytes and recopies after a cut-and-rewrite of the tail', () => {
    const data = mkdtempSync(join(tmpdir(), 'perpx-jc-data-'));
    const copy = mkdtempSync(join(tmpdir(), 'perpx-jc-copy-'));
    dirs.push(data, copy);
    const name = segmentFileName(1);
    const src = join(data, name);
    writeFileSync(src, Buffer.alloc(1000, 1));
    writeFileSync(join(data, 'unrelated.txt'), 'x');
    const cap = startJournalCapture(data, copy, 60_000);
    try {
      appendFileSync(src, Buffer.alloc(500, 2));
      cap.captureNow();
      expect(readFileSync(join(copy, name)).equals(readFileSync(src))).toBe(true);
      expect(cap.bytesCopied).toBe(1500); // 1000 at start + 500 appended, no recopy
      // A torn tail (bytes 1400..1500) is cut and other bytes are written in its place and beyond.
      truncateSync(src, 1400);
      appendFileSync(src, Buffer.alloc(300, 3));
      cap.captureNow();
      expect(readFileSync(join(copy, name)).equals(readFileSync(src))).toBe(true);
      expect(cap.bytesCopied).toBe(1500 + 1700);
    } finally {
      cap.stop();
    }
  });
});
