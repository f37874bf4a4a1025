// An indexed binary heap of small integer ids (accounts, order slots) keyed by a number,
// with O(log n) insert/update/remove by id. Ordering is total — (key, tie, id) — so the pop
// sequence depends only on the set of entries, never on insertion history: a heap rebuilt
// from a snapshot pops in the same order as the live one (determinism across restore).
// When ids are pool slots (which restore() hands out afresh), pass `tie`: a stable value
// per id (e.g. a view on the order ids), so equal keys pop by it, not by slot.

export class IndexedHeap {
  /** +1: smallest key first; -1: largest key first. */
  private readonly dir: number;
  private readonly heap: Int32Array;
  private readonly pos: Int32Array; // id → index in heap, -1 if absent
  private readonly key: Float64Array;
  private readonly tie: Float64Array | null;
  private n = 0;

  /** tie: optional secondary key per id (ascending among equal keys in both directions), read live. */
  constructor(capacity: number, direction: 'min' | 'max', tie: Float64Array | null = null) {
    if (tie !== null && tie.length < capacity) throw new Error(`heap tie array holds ${tie.length} < capacity ${capacity}`);
    this.dir = direction === 'min' ? 1 : -1;
    this.tie = tie;
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
    this.key = new Float64Array(capacity);
  }

  get size(): number { return this.n; }
  has(id: number): boolean { return this.pos[id]! >= 0; }
  keyOf(id: number): number { return this.key[id]!; }
  topId(): number { return this.n === 0 ? -1 : this.heap[0]!; }
  topKey(): number { return this.key[this.heap[0]!]!; }
  /** The ids currently held, in heap order (not sorted). */
  ids(): number[] { return Array.from(this.heap.subarray(0, this.n)); }

  /** Insert or re-key. */
  set(id: number, key: number): void {
    const i = this.pos[id]!;
    if (i < 0) {
      if (this.n >= this.heap.length) throw new Error('heap capacity exceeded');
      this.key[id] = key;
      this.heap[this.n] = id;
      this.pos[id] = this.n;
      this.n++;
      this.up(this.n - 1);
      return;
    }
    this.key[id] = key;
    this.up(i);
    this.down(this.pos[id]!);
  }

  remove(id: number): void {
    const i = this.pos[id]!;
    if (i < 0) return;
    this.n--;
    const last = this.heap[this.n]!;
    this.pos[id] = -1;
    if (i === this.n) return;
    this.heap[i] = last;
    this.pos[last] = i;
    this.up(i);
    this.down(this.pos[last]!);
  }

  pop(): number {
    const id = this.heap[0]!;
    this.remove(id);
    return id;
  }

  // a strictly before b (by key, then tie, then id) in pop order
  private less(a: number, b: number): boolean {
    const ka = this.key[a]!;
    const kb = this.key[b]!;
    if (ka !== kb) return (ka < kb) === (this.dir === 1);
    const tie = this.tie;
    if (tie !== null) {
      const ta = tie[a]!;
      const tb = tie[b]!;
      if (ta !== tb) return ta < tb;
    }
    return a < b;
  }

  private up(i: number): void {
    const heap = this.heap;
    const id = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pid = heap[parent]!;
      if (!this.less(id, pid)) break;
      heap[i] = pid;
      this.pos[pid] = i;
      i = parent;
    }
    heap[i] = id;
    this.pos[id] = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = this.n;
    const id = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(heap[r]!, heap[l]!) ? r : l;
      const cid = heap[c]!;
      if (!this.less(cid, id)) break;
      heap[i] = cid;
      this.pos[cid] = i;
      i = c;
    }
    heap[i] = id;
    this.pos[id] = i;
  }
}
