// Proves the exact integer helpers against BigInt arithmetic (random operands, including ones
// whose products leave the safe-integer range), that overflow is an OverflowError naming the
// operands, and that the saturating variant used for rankings clamps with the right sign.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { floorDiv, floorMod, mulDivFloor, mulDivFloorSaturating, OverflowError } from './int.ts';

const MAX = Number.MAX_SAFE_INTEGER;
const safe = fc.integer({ min: -MAX, max: MAX });

function bigFloorDiv(p: bigint, d: bigint): bigint {
  const q = p / d;
  return p % d !== 0n && (p < 0n) !== (d < 0n) ? q - 1n : q;
}

describe('floorDiv and floorMod', () => {
  it('equal BigInt floor division and modulus over the whole safe range', () => {
    fc.assert(fc.property(safe, fc.integer({ min: 1, max: MAX }), (a, d) => {
      const q = bigFloorDiv(BigInt(a), BigInt(d));
      expect(floorDiv(a, d) === Number(q)).toBe(true);
      expect(floorMod(a, d) === Number(BigInt(a) - q * BigInt(d))).toBe(true);
    }), { numRuns: 5_000 });
  });

  it('stay exact where q·d leaves the safe range (the CI counterexample: -9007199254740962 / 35)', () => {
    expect(floorDiv(-9007199254740962, 35)).toBe(-257348550135457);
    expect(floorMod(-9007199254740962, 35)).toBe(33);
    expect(floorDiv(-MAX, 2)).toBe(-4503599627370496);
    expect(floorDiv(MAX, 2)).toBe(4503599627370495);
  });
});

describe('mulDivFloor', () => {
  it('equals floor(a·b/d) computed with BigInt, or throws OverflowError when that is unsafe', () => {
    fc.assert(fc.property(safe, safe, fc.integer({ min: 1, max: MAX }), (a, b, d) => {
      const exact = bigFloorDiv(BigInt(a) * BigInt(b), BigInt(d));
      if (exact > BigInt(MAX) || exact < BigInt(-MAX)) {
        expect(() => mulDivFloor(a, b, d)).toThrow(OverflowError);
      } else {
        expect(mulDivFloor(a, b, d) === Number(exact)).toBe(true); // === : a zero may come back as -0
      }
    }), { numRuns: 2_000 });
  });

  it('the CI counterexample: -9007199254740962 × 18 / 35 (the split path used an inexact remainder)', () => {
    expect(mulDivFloor(-9007199254740962, 18, 35)).toBe(-4632273902438210);
  });

  it('the ADL case that overflowed: 5,299,779 × 6,055,126,000 / 1', () => {
    expect(() => mulDivFloor(5_299_779, 6_055_126_000, 1)).toThrow(/integer overflow: 5299779 \* 6055126000 \/ 1/);
  });
});

describe('mulDivFloorSaturating', () => {
  it('is mulDivFloor where that is safe, and ±MAX_SAFE_INTEGER with the sign of the result where not', () => {
    fc.assert(fc.property(safe, safe, fc.integer({ min: 1, max: MAX }), (a, b, d) => {
      const exact = bigFloorDiv(BigInt(a) * BigInt(b), BigInt(d));
      const expected = exact > BigInt(MAX) ? MAX : exact < BigInt(-MAX) ? -MAX : Number(exact);
      expect(mulDivFloorSaturating(a, b, d) === expected).toBe(true);
    }), { numRuns: 2_000 });
    expect(mulDivFloorSaturating(5_299_779, 6_055_126_000, 1)).toBe(MAX);
    expect(mulDivFloorSaturating(-5_299_779, 6_055_126_000, 1)).toBe(-MAX);
  });
});
