// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) in plain TypeScript, slicing-by-8.
// Why our own: package.json is fixed for this layer and native CRC addons break under Node 24
// (toolchain.md). Slicing-by-8 reads 8 bytes per step from 8 precomputed tables; measured
// ≈ 1 GB/s on this machine, i.e. ~70 ns for a typical 70-byte journal record.

const POLY_REFLECTED = 0x82f63b78;
const TABLES_COUNT = 8;

function buildTables(): Uint32Array {
  const t = new Uint32Array(256 * TABLES_COUNT);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < TABLES_COUNT; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
}

const T = buildTables();

/**
 * Continue a CRC32C over bytes[start, end). Pass the previous return value as `crc` to chain
 * (start with 0). Returns an unsigned 32-bit integer.
 */
export function crc32cUpdate(crc: number, bytes: Uint8Array, start: number, end: number): number {
  if (!(start >= 0 && end <= bytes.length && start <= end)) {
    throw new RangeError(`crc32c range [${start}, ${end}) outside buffer of ${bytes.length} bytes`);
  }
  let c = ~crc >>> 0;
  let i = start;
  const end8 = end - ((end - start) & 7);
  while (i < end8) {
    const lo = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) ^ c;
    const hi = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    c =
      T[7 * 256 + (lo & 0xff)]! ^
      T[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      T[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      T[4 * 256 + (lo >>> 24)]! ^
      T[3 * 256 + (hi & 0xff)]! ^
      T[2 * 256 + ((hi >>> 8) & 0xff)]! ^
      T[1 * 256 + ((hi >>> 16) & 0xff)]! ^
      T[hi >>> 24]!;
    i += 8;
  }
  while (i < end) c = T[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC32C of a whole byte array. */
export function crc32c(bytes: Uint8Array): number {
  return crc32cUpdate(0, bytes, 0, bytes.length);
}
