// Proves the history writer keeps memory bounded (never more than flushBytes buffered), writes
// every line in order, and that per-worker files merge into one file ordered by time.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryWriter, mergeHistoryFiles, lineTimeMs } from './history.ts';

function line(t: number, w: number, type: string): string {
  return `{"t":${t.toFixed(3)},"type":"${type}","w":${w},"id":${Math.round(t * 1000)},"f":"get","value":null}`;
}

describe('history', () => {
  it('buffers at most flushBytes (+ one line) and loses nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'perpx-hist-'));
    try {
      const w = new HistoryWriter(join(dir, 'h.ndjson'), { flushBytes: 1024 });
      let maxPending = 0;
      for (let i = 0; i < 5000; i++) {
        w.append(line(i, 0, 'invoke'));
        maxPending = Math.max(maxPending, w.pendingChars);
      }
      const stats = w.close();
      expect(maxPending).toBeLessThanOrEqual(1024 + 100);
      expect(stats.lines).toBe(5000);
      expect(stats.flushes).toBeGreaterThan(100);
      const lines = readFileSync(join(dir, 'h.ndjson'), 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(5000);
      lines.forEach((l, i) => expect(lineTimeMs(l)).toBe(i));
      expect(() => w.append('x')).toThrow(/after close/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('merges per-worker files by time and removes the inputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perpx-hist-'));
    try {
      const inputs = [0, 1, 2].map((w) => {
        const path = join(dir, `history.w${w}.ndjson`);
        const writer = new HistoryWriter(path, { flushBytes: 512 });
        for (let i = 0; i < 300; i++) writer.append(line(i * 3 + w * 0.5 + (i % 7) * 0.01, w, i % 2 === 0 ? 'invoke' : 'ok'));
        writer.close();
        return path;
      });
      const out = join(dir, 'history.ndjson');
      expect(await mergeHistoryFiles(inputs, out)).toBe(900);
      const times = readFileSync(out, 'utf8').trimEnd().split('\n').map(lineTimeMs);
      expect(times).toHaveLength(900);
      for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
      expect(inputs.some(existsSync)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
