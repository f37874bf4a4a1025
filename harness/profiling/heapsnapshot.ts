// Heap snapshot (.heapsnapshot, V8's JSON format) → objects and bytes by constructor, and the
// diff of two snapshots (what grew). Objects and closures are grouped by constructor / function
// name, everything else by V8's node type: "(string)", "(array)", "(code)", "(hidden)" …
// Sizes are shallow (self) sizes, as in the DevTools Summary view's "Shallow Size".

import { readFile, stat } from 'node:fs/promises';

/** Snapshots above this are not parsed (a JSON.parse of the file would need several times its size). */
export const HEAP_SNAPSHOT_PARSE_MAX_BYTES = 400 * 1024 * 1024;

export interface HeapGroup {
  name: string;
  count: number;
  bytes: number;
}

export interface HeapSummary {
  nodes: number;
  bytes: number;
  groups: Map<string, HeapGroup>;
}

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: (string[] | string)[] } };
  nodes: number[];
  strings: string[];
}

export function summarizeHeapSnapshot(json: SnapshotJson): HeapSummary {
  const fields = json.snapshot.meta.node_fields;
  const stride = fields.length;
  const typeIdx = fields.indexOf('type');
  const nameIdx = fields.indexOf('name');
  const sizeIdx = fields.indexOf('self_size');
  const typeNames = json.snapshot.meta.node_types[typeIdx] as string[];
  const groups = new Map<string, HeapGroup>();
  let bytes = 0;
  const n = json.nodes;
  for (let i = 0; i < n.length; i += stride) {
    const type = typeNames[n[i + typeIdx]!] ?? 'unknown';
    const size = n[i + sizeIdx]!;
    const name = type === 'object' || type === 'closure' ? (json.strings[n[i + nameIdx]!] ?? '?') : `(${type})`;
    const key = type === 'closure' ? `${name}()` : name;
    let g = groups.get(key);
    if (g === undefined) {
      g = { name: key, count: 0, bytes: 0 };
      groups.set(key, g);
    }
    g.count++;
    g.bytes += size;
    bytes += size;
  }
  return { nodes: n.length / stride, bytes, groups };
}

export async function readHeapSnapshotSummary(path: string): Promise<HeapSummary> {
  const s = await stat(path);
  if (s.size > HEAP_SNAPSHOT_PARSE_MAX_BYTES) throw new Error(`${path} is ${(s.size / 1e6).toFixed(0)} MB: too large to parse here (limit ${HEAP_SNAPSHOT_PARSE_MAX_BYTES / 1e6} MB); open it in Chrome DevTools`);
  return summarizeHeapSnapshot(JSON.parse(await readFile(path, 'utf8')) as SnapshotJson);
}

export interface HeapGrowthRow {
  name: string;
  countBefore: number;
  countAfter: number;
  bytesBefore: number;
  bytesAfter: number;
}

/** Groups by growth in bytes (largest first), then those that shrank most, `topN` in all. */
export function diffHeap(before: HeapSummary, after: HeapSummary, topN = 15): HeapGrowthRow[] {
  const names = new Set([...before.groups.keys(), ...after.groups.keys()]);
  const rows: HeapGrowthRow[] = [];
  for (const name of names) {
    const b = before.groups.get(name);
    const a = after.groups.get(name);
    rows.push({ name, countBefore: b?.count ?? 0, countAfter: a?.count ?? 0, bytesBefore: b?.bytes ?? 0, bytesAfter: a?.bytes ?? 0 });
  }
  rows.sort((x, y) => (y.bytesAfter - y.bytesBefore) - (x.bytesAfter - x.bytesBefore));
  return rows.slice(0, topN);
}
