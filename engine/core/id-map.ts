// Order id → slot, as an open-addressing hash table in preallocated typed arrays: linear
// probing, backward-shift deletion (no tombstones, so it never degrades or rehashes).
// Replaces a Map<number, number> on the book's hot path: no allocation after start-up
// (a Map re-allocates its table as it churns, which showed up as GC in the profile) and
// 12 bytes per slot at a load factor ≤ 1/2.

/** vals holds slot + 1, so a zeroed table is empty without being filled (no page faults at startup). */
const EMPTY = 0;
const ABSENT = -1;

export class IdSlotMap {
  private readonly keys: Float64Array;
  private readonly vals: Int32Array;
  private readonly mask: number;
  private readonly shift: number;
  private count = 0;
  readonly capacity: number;

  /** Holds up to maxEntries ids (table sized to twice that, rounded up to a power of two). */
  constructor(maxEntries: number) {
    let size = 16;
    let bits = 4;
    while (size < maxEntries * 2) {
      size *= 2;
      bits++;
    }
    this.capacity = maxEntries;
    this.keys = new Float64Array(size);
    this.vals = new Int32Array(size);
    this.mask = size - 1;
    this.shift = 32 - bits;
  }

  get size(): number { return this.count; }

  private home(id: number): number {
    // Fibonacci hashing of both 32-bit halves (ids are sequential integers < 2^53).
    const lo = id >>> 0;
    const hi = (id / 4294967296) >>> 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** Slot of id, or -1. */
  get(id: number): number {
    const mask = this.mask;
    for (let i = this.home(id); ; i = (i + 1) & mask) {
      const v = this.vals[i]!;
      if (v === EMPTY) return ABSENT;
      if (this.keys[i] === id) return v - 1;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== ABSENT;
  }

  /** Insert a new id (must be absent). Returns false when full. */
  insert(id: number, slot: number): boolean {
    if (this.count >= this.capacity) return false;
    const mask = this.mask;
    let i = this.home(id);
    while (this.vals[i] !== EMPTY) {
      if (this.keys[i] === id) throw new Error(`id ${id} already present`);
      i = (i + 1) & mask;
    }
    this.keys[i] = id;
    this.vals[i] = slot + 1;
    this.count++;
    return true;
  }

  /** Remove id; returns its slot or -1. */
  delete(id: number): number {
    const mask = this.mask;
    let i = this.home(id);
    for (;;) {
      const v = this.vals[i]!;
      if (v === EMPTY) return ABSENT;
      if (this.keys[i] === id) break;
      i = (i + 1) & mask;
    }
    const removed = this.vals[i]! - 1;
    // Backward-shift: pull later members of the probe run into the hole.
    let hole = i;
    let j = (i + 1) & mask;
    while (this.vals[j] !== EMPTY) {
      const h = this.home(this.keys[j]!);
      // j's entry may move into the hole iff its home is not in (hole, j] cyclically.
      const inRange = hole <= j ? h > hole && h <= j : h > hole || h <= j;
      if (!inRange) {
        this.keys[hole] = this.keys[j]!;
        this.vals[hole] = this.vals[j]!;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    this.vals[hole] = EMPTY;
    this.count--;
    return removed;
  }
}
