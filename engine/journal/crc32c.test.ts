// CRC32C against published check values and a bit-at-a-time reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cUpdate } from './crc32c.ts';

function reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  it('matches the standard check values', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43); // RFC 3720 B.4: 32 bytes of 0xff
  });

  it('equals the bitwise reference for any bytes, and chains over any split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, k) => {
        const split = bytes.length === 0 ? 0 : k % (bytes.length + 1);
        expect(crc32c(bytes)).toBe(reference(bytes));
        expect(crc32cUpdate(crc32cUpdate(0, bytes, 0, split), bytes, split, bytes.length)).toBe(reference(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('rejects an out-of-range slice instead of reading undefined bytes', () => {
    expect(() => crc32cUpdate(0, new Uint8Array(4), 2, 9)).toThrow(RangeError);
  });
});
