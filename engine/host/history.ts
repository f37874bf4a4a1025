// Bounded, keyed history: the last `perKeyMax` items of each key (account) and at most
// `totalMax` items over all keys. Every push is O(1) amortized; the oldest item overall is
// evicted when the global ring is full, the oldest of a key when its own list is full.
// The global ring remembers (key, itemSeq) in insertion order; an entry whose item a
// per-key eviction already removed is simply skipped when it reaches the front.

import { assert } from '../core/int.ts';

/** A FIFO list with O(1) push and shift (head index + periodic compaction). */
class Deque<T> {
  items: T[] = [];
  seqs: number[] = [];
  head = 0;
  /** forEachEntry's position in this list (scratch: no per-entry map lookups). */
  cursor = 0;

  get length(): number { return this.items.length - this.head; }

  push(item: T, seq: number): void {
    this.items.push(item);
    this.seqs.push(seq);
  }

  oldestSeq(): number { return this.seqs[this.head]!; }

  shift(): T {
    assert(this.length > 0, 'shift of an empty deque');
    const item = this.items[this.head]!;
    this.head++;
    // Compact once the dead prefix is as long as the live part (amortized O(1)).
    if (this.head >= 64 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  at(i: number): T { return this.items[this.head + i]!; }
}

export class BoundedHistory<T> {
  readonly perKeyMax: number;
  readonly totalMax: number;
  private readonly lists = new Map<number, Deque<T>>();
  private readonly ringKey: Float64Array;
  private readonly ringSeq: Float64Array;
  private ringHead = 0;
  private ringLength = 0;
  private nextSeq = 1;
  /** Live items over all keys. */
  size = 0;
  private readonly onEvict: (item: T) => void;

  constructor(perKeyMax: number, totalMax: number, onEvict: (item: T) => void = () => {}) {
    assert(Number.isInteger(perKeyMax) && perKeyMax >= 1, 'perKeyMax ≥ 1');
    assert(Number.isInteger(totalMax) && totalMax >= perKeyMax, 'totalMax ≥ perKeyMax');
    this.perKeyMax = perKeyMax;
    this.totalMax = totalMax;
    this.ringKey = new Float64Array(totalMax);
    this.ringSeq = new Float64Array(totalMax);
    this.onEvict = onEvict;
  }

  push(key: number, item: T): void {
    // Global eviction first: it may empty (and drop) this very key's list.
    if (this.ringLength === this.totalMax) this.evictOldest();
    let list = this.lists.get(key);
    if (list === undefined) {
      list = new Deque<T>();
      this.lists.set(key, list);
    }
    if (list.length >= this.perKeyMax) this.evictFrom(list);
    const seq = this.nextSeq++;
    list.push(item, seq);
    const tail = (this.ringHead + this.ringLength) % this.totalMax;
    this.ringKey[tail] = key;
    this.ringSeq[tail] = seq;
    this.ringLength++;
    this.size++;
    assert(this.size <= this.totalMax && list.length <= this.perKeyMax, 'history bounds hold');
  }

  /** Items of a key, oldest first (a copy). */
  list(key: number): T[] {
    const list = this.lists.get(key);
    if (list === undefined) return [];
    const out: T[] = new Array<T>(list.length);
    for (let i = 0; i < list.length; i++) out[i] = list.at(i);
    return out;
  }

  /** Newest item of a key matching a predicate, or undefined. */
  findLatest(key: number, match: (item: T) => boolean): T | undefined {
    const list = this.lists.get(key);
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const item = list.at(i);
      if (match(item)) return item;
    }
    return undefined;
  }

  keyCount(): number { return this.lists.size; }

  /** Entries forEachEntry visits (kept items + entries of items already evicted per key). */
  entryCount(): number { return this.ringLength; }

  /**
   * Every global-ring entry, oldest first: (key, item) when the item is still kept, (key, null)
   * when a per-key eviction already removed it. Replaying these through push / pushEvicted
   * into an empty history rebuilds the same lists and the same future eviction order.
   */
  forEachEntry(visit: (key: number, item: T | null) => void): void {
    for (const list of this.lists.values()) list.cursor = 0;
    for (let i = 0; i < this.ringLength; i++) {
      const at = (this.ringHead + i) % this.totalMax;
      const key = this.ringKey[at]!;
      const seq = this.ringSeq[at]!;
      const list = this.lists.get(key);
      if (list !== undefined && list.cursor < list.length && list.seqs[list.head + list.cursor] === seq) {
        visit(key, list.at(list.cursor++));
      } else {
        visit(key, null);
      }
    }
  }

  /** Restore-only: a ring entry whose item was already evicted (see forEachEntry). */
  pushEvicted(key: number): void {
    if (this.ringLength === this.totalMax) this.evictOldest();
    const tail = (this.ringHead + this.ringLength) % this.totalMax;
    this.ringKey[tail] = key;
    this.ringSeq[tail] = this.nextSeq++; // matches no item: skipped when it reaches the front
    this.ringLength++;
  }

  private evictFrom(list: Deque<T>): void {
    this.onEvict(list.shift());
    this.size--;
  }

  /** Pop the global ring's front; evict its item unless a per-key eviction already did. */
  private evictOldest(): void {
    const key = this.ringKey[this.ringHead]!;
    const seq = this.ringSeq[this.ringHead]!;
    this.ringHead = (this.ringHead + 1) % this.totalMax;
    this.ringLength--;
    const list = this.lists.get(key);
    if (list === undefined || list.length === 0 || list.oldestSeq() !== seq) return;
    this.evictFrom(list);
    if (list.length === 0) this.lists.delete(key);
  }
}

/** A fixed-capacity ring of the most recent items. */
export class Ring<T> {
  readonly capacity: number;
  private readonly items: (T | undefined)[];
  private next = 0;
  length = 0;

  constructor(capacity: number) {
    assert(Number.isInteger(capacity) && capacity >= 1, 'ring capacity ≥ 1');
    this.capacity = capacity;
    this.items = new Array<T | undefined>(capacity).fill(undefined);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.length < this.capacity) this.length++;
  }

  /** i = 0 is the oldest kept item. */
  at(i: number): T {
    assert(i >= 0 && i < this.length, 'ring index in range');
    return this.items[(this.next - this.length + i + this.capacity) % this.capacity]!;
  }

  /** The newest `n` items, oldest first. */
  newest(n: number): T[] {
    const k = Math.min(n, this.length);
    const out: T[] = new Array<T>(k);
    for (let i = 0; i < k; i++) out[i] = this.at(this.length - k + i);
    return out;
  }
}
