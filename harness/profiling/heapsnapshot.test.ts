import { describe, expect, it } from 'vitest';
import { writeHeapSnapshot } from 'node:v8';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffHeap, readHeapSnapshotSummary, summarizeHeapSnapshot } from './heapsnapshot.ts';

/** A two-field snapshot: node = [type, name, self_size]. */
function snap(nodes: [type: number, name: number, size: number][]) {
  return {
    snapshot: { meta: { node_fields: ['type', 'name', 'self_size'], node_types: [['hidden', 'array', 'string', 'object', 'code', 'closure']] } },
    nodes: nodes.flat(),
    strings: ['', 'Order', 'Map', 'onTick'],
  };
}

describe('heap snapshot summary and diff', () => {
  it('groups objects by constructor, other nodes by type, and sorts growth first', () => {
    const before = summarizeHeapSnapshot(snap([[3, 1, 64], [3, 2, 100], [2, 0, 30], [5, 3, 32]]));
    const after = summarizeHeapSnapshot(snap([[3, 1, 64], [3, 1, 64], [3, 1, 64], [3, 2, 50], [2, 0, 30], [2, 0, 40], [5, 3, 32]]));
    expect(before.bytes).toBe(226);
    expect(before.groups.get('onTick()')).toEqual({ name: 'onTick()', count: 1, bytes: 32 });
    const rows = diffHeap(before, after);
    expect(rows.map((r) => r.name)).toEqual(['Order', '(string)', 'onTick()', 'Map']);
    expect(rows[0]).toEqual({ name: 'Order', countBefore: 1, countAfter: 3, bytesBefore: 64, bytesAfter: 192 });
    expect(rows.at(-1)).toEqual({ name: 'Map', countBefore: 1, countAfter: 1, bytesBefore: 100, bytesAfter: 50 });
  });

  it('reads a real V8 snapshot and sees objects allocated between two snapshots', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perpx-heap-'));
    try {
      class GrowthMarker { readonly i: number; constructor(i: number) { this.i = i; } }
      const a = writeHeapSnapshot(join(dir, 'a.heapsnapshot'));
      const keep = Array.from({ length: 5_000 }, (_, i) => new GrowthMarker(i));
      const b = writeHeapSnapshot(join(dir, 'b.heapsnapshot'));
      const rows = diffHeap(await readHeapSnapshotSummary(a), await readHeapSnapshotSummary(b), 50);
      const row = rows.find((r) => r.name === 'GrowthMarker');
      expect(row, `rows: ${rows.map((r) => r.name).join(', ')}`).toBeDefined();
      expect(row!.countAfter - row!.countBefore).toBe(keep.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
