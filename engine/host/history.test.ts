// BoundedHistory against a naive model: after any sequence of pushes it holds, per key,
// exactly the items the model keeps (last perKeyMax of the key, and only the newest
// totalMax overall counting per-key evictions as gone), evicting each item exactly once.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runParams } from '../core/test-params.ts';
import { BoundedHistory, Ring } from './history.ts';

describe('BoundedHistory', () => {
  it('rebuilt from forEachEntry (push / pushEvicted) it keeps and evicts exactly like the original', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 8 }), fc.array(fc.nat({ max: 4 }), { maxLength: 120 }), fc.array(fc.nat({ max: 4 }), { maxLength: 60 }),
      (perKey, extra, before, after) => {
        const original = new BoundedHistory<number>(perKey, perKey + extra);
        before.forEach((key, item) => original.push(key, item));
        const copy = new BoundedHistory<number>(perKey, perKey + extra);
        original.forEachEntry((key, item) => (item === null ? copy.pushEvicted(key) : copy.push(key, item)));
        expect(copy.entryCount()).toBe(original.entryCount());
        after.forEach((key, i) => {
          original.push(key, 1000 + i);
          copy.push(key, 1000 + i);
          for (let k = 0; k <= 4; k++) expect(copy.list(k), `key ${k} after push ${i}`).toEqual(original.list(k));
          expect(copy.size).toBe(original.size);
        });
      }), runParams(200));
  });

  it('matches the model and never exceeds its bounds', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 10 }), fc.array(fc.nat({ max: 4 }), { maxLength: 300 }), (perKey, extra, keys) => {
      const totalMax = perKey + extra;
      const evicted: number[] = [];
      const h = new BoundedHistory<number>(perKey, totalMax, (x) => evicted.push(x));
      // Model: items in insertion order with their key; a ring of the last totalMax pushes.
      const live: { key: number; item: number }[] = [];
      const ring: number[] = []; // item ids in push order, length ≤ totalMax
      keys.forEach((key, item) => {
        if (ring.length === totalMax) {
          const oldest = ring.shift()!;
          const i = live.findIndex((x) => x.item === oldest);
          if (i >= 0) live.splice(i, 1);
        }
        const mine = live.filter((x) => x.key === key);
        if (mine.length >= perKey) live.splice(live.indexOf(mine[0]!), 1);
        live.push({ key, item });
        ring.push(item);
        h.push(key, item);
        expect(h.size).toBe(live.length);
        expect(h.size).toBeLessThanOrEqual(totalMax);
      });
      for (let k = 0; k <= 4; k++) expect(h.list(k)).toEqual(live.filter((x) => x.key === k).map((x) => x.item));
      const kept = new Set(live.map((x) => x.item));
      expect(new Set(evicted).size).toBe(evicted.length); // each evicted once
      expect(evicted.length + kept.size).toBe(keys.length);
      for (const e of evicted) expect(kept.has(e)).toBe(false);
    }), runParams(500));
  });

  it('finds the newest matching item of a key', () => {
    const h = new BoundedHistory<{ id: number; tag: string }>(10, 100);
    h.push(1, { id: 1, tag: 'a' });
    h.push(1, { id: 2, tag: 'a' });
    h.push(2, { id: 3, tag: 'a' });
    expect(h.findLatest(1, (x) => x.tag === 'a')?.id).toBe(2);
    expect(h.findLatest(3, () => true)).toBeUndefined();
  });
});

describe('Ring', () => {
  it('keeps the newest capacity items in order', () => {
    const r = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.newest(10)).toEqual([3, 4, 5]);
    expect(r.newest(2)).toEqual([4, 5]);
    expect(r.at(0)).toBe(3);
  });
});
