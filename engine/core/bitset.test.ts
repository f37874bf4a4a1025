// Proves HierBitset answers every query exactly like a plain Set of integers: random
// set/clear/has/highestAtOrBelow/lowestAtOrAbove sequences run against both, over sizes
// that sit on and around the 32-bit word and summary-level boundaries. Indices are drawn
// mostly near 0, size-1 and word edges, where off-by-one errors live; queries also go
// out of range to check the clamping the order book relies on.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HierBitset } from './bitset.ts';
import { DEEP_FACTOR, runParams } from './test-params.ts';

const SIZES = [1, 31, 32, 33, 1025, 40000] as const;

type Op =
  | { kind: 'set'; i: number }
  | { kind: 'clear'; i: number }
  | { kind: 'below'; i: number }
  | { kind: 'above'; i: number };

function modelBelow(model: Set<number>, i: number): number {
  let best = -1;
  for (const v of model) if (v <= i && v > best) best = v;
  return best;
}

function modelAbove(model: Set<number>, i: number): number {
  let best = -1;
  for (const v of model) if (v >= i && (best === -1 || v < best)) best = v;
  return best;
}

/** An index in [0, size): uniform, at an edge (0, size-1, word boundaries), or in a dense cluster. */
function indexArb(size: number): fc.Arbitrary<number> {
  const edges = [0, 1, 30, 31, 32, 33, 63, 64, 1023, 1024, 1025, size - 2, size - 1].filter((v) => v >= 0 && v < size);
  const mid = size >>> 1;
  const cluster = fc.integer({ min: Math.max(0, mid - 70), max: Math.min(size - 1, mid + 70) }); // dense words side by side
  return fc.oneof(fc.integer({ min: 0, max: size - 1 }), fc.constantFrom(...edges), cluster);
}

function opArb(size: number): fc.Arbitrary<Op> {
  const idx = indexArb(size);
  const queryIdx = fc.oneof({ weight: 4, arbitrary: idx }, { weight: 1, arbitrary: fc.integer({ min: -3, max: size + 3 }) });
  return fc.oneof(
    { weight: 4, arbitrary: idx.map((i): Op => ({ kind: 'set', i })) },
    { weight: 3, arbitrary: idx.map((i): Op => ({ kind: 'clear', i })) },
    { weight: 2, arbitrary: queryIdx.map((i): Op => ({ kind: 'below', i })) },
    { weight: 2, arbitrary: queryIdx.map((i): Op => ({ kind: 'above', i })) },
  );
}

function runOps(size: number, ops: Op[]): void {
  const bits = new HierBitset(size);
  const model = new Set<number>();
  for (const op of ops) {
    if (op.kind === 'set') {
      bits.set(op.i);
      model.add(op.i);
    } else if (op.kind === 'clear') {
      bits.clear(op.i);
      model.delete(op.i);
    } else if (op.kind === 'below') {
      expect(bits.highestAtOrBelow(op.i), `highestAtOrBelow(${op.i})`).toBe(modelBelow(model, op.i));
    } else {
      expect(bits.lowestAtOrAbove(op.i), `lowestAtOrAbove(${op.i})`).toBe(modelAbove(model, op.i));
    }
    if (op.i >= 0 && op.i < size) expect(bits.has(op.i)).toBe(model.has(op.i));
  }
  // Whole-range sweep at the end: every query at every edge agrees.
  for (const v of [-1, 0, 31, 32, size - 1, size, ...model]) {
    expect(bits.highestAtOrBelow(v)).toBe(modelBelow(model, v));
    expect(bits.lowestAtOrAbove(v)).toBe(modelAbove(model, v));
  }
}

describe('HierBitset', () => {
  it('rejects a non-positive or fractional size', () => {
    expect(() => new HierBitset(0)).toThrow();
    expect(() => new HierBitset(-1)).toThrow();
    expect(() => new HierBitset(2.5)).toThrow();
  });

  it('is empty when new and finds a single bit from either direction', () => {
    for (const size of SIZES) {
      const bits = new HierBitset(size);
      expect(bits.highestAtOrBelow(size - 1)).toBe(-1);
      expect(bits.lowestAtOrAbove(0)).toBe(-1);
      const i = size - 1;
      bits.set(i);
      expect(bits.highestAtOrBelow(size + 100)).toBe(i);
      expect(bits.lowestAtOrAbove(-5)).toBe(i);
      expect(bits.highestAtOrBelow(i - 1)).toBe(-1);
      expect(bits.lowestAtOrAbove(i + 1)).toBe(-1);
      bits.clear(i);
      expect(bits.lowestAtOrAbove(0)).toBe(-1);
    }
  });

  it('agrees with an exhaustive scan for every index after filling every third bit', () => {
    for (const size of [1, 31, 32, 33, 1025]) {
      const bits = new HierBitset(size);
      const model = new Set<number>();
      for (let i = 0; i < size; i += 3) {
        bits.set(i);
        model.add(i);
      }
      for (let i = -1; i <= size; i++) {
        expect(bits.highestAtOrBelow(i)).toBe(modelBelow(model, i));
        expect(bits.lowestAtOrAbove(i)).toBe(modelAbove(model, i));
      }
    }
  });

  for (const size of SIZES) {
    it(`property: matches a Set under random set/clear/queries (size ${size})`, () => {
      fc.assert(
        fc.property(fc.array(opArb(size), { minLength: 1, maxLength: 200, size: 'max' }), (ops) => runOps(size, ops)),
        runParams(size >= 1025 ? 150 : 100),
      );
    }, 60_000 * DEEP_FACTOR);
  }
});
