// Proves the exact integer helpers against BigInt arithmetic (random operands, including ones
// whose products leave the safe-integer range), that overflow is an OverflowError naming the
// operands, and that the saturating variant used for rankings clamps with the right sign.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mulDivFloor, mulDivFloorSaturating, OverflowError } from './int.ts';

const MAX = Number.MAX_SAFE_INTEGER;
const safe = fc.integer({ min: -MAX, max: MAX });

function bigFloorDiv(p: bigint, d: bigint): bigint {
  const q = p / d;
  return p % d !== 0n && (p < 0n) !== (d < 0n) ? q - 1n : q;
}

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
