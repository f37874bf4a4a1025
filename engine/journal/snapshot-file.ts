// Snapshot file format: a self-checking header followed by the machine's snapshot bytes.
//
//   0  magic "PXSNAP01" (8 bytes)
//   8  u32 headerBytes          (offset of the payload)
//  12  u32 headerCrc32c         (over bytes [16, headerBytes))
//  16  u64 seq                  (state after applying commands 1..seq)
//  24  u64 payloadBytes
//  32  u32 payloadCrc32c
//  36  u16 hashBytes, then the ASCII stateHash() of that state
//
// The header's stateHash lets recovery prove restore(payload) reproduced the state exactly.

import { crc32c, crc32cUpdate } from './crc32c.ts';
import { readU32, readU64, writeU32, writeU64 } from './record.ts';

const MAGIC = 'PXSNAP01';
const FIXED_HEADER_BYTES = 38;
/** A state hash longer than this is not a hash: reject rather than allocate. */
const STATE_HASH_BYTES_MAX = 256;

export interface SnapshotContents {
  readonly seq: number;
  readonly stateHash: string;
  readonly payload: Uint8Array;
}

export function encodeSnapshotHeader(seq: number, stateHash: string, payload: Uint8Array): Uint8Array {
  const hash = Buffer.from(stateHash, 'latin1');
  if (hash.length > STATE_HASH_BYTES_MAX) throw new RangeError(`state hash of ${hash.length} bytes is too long`);
  const headerBytes = FIXED_HEADER_BYTES + hash.length;
  const h = new Uint8Array(headerBytes);
  for (let i = 0; i < MAGIC.length; i++) h[i] = MAGIC.charCodeAt(i);
  writeU32(h, 8, headerBytes);
  writeU64(h, 16, seq);
  writeU64(h, 24, payload.length);
  writeU32(h, 32, crc32c(payload));
  h[36] = hash.length & 0xff;
  h[37] = hash.length >>> 8;
  h.set(hash, FIXED_HEADER_BYTES);
  writeU32(h, 12, crc32cUpdate(0, h, 16, headerBytes));
  return h;
}

/** Parses and verifies a whole snapshot file; throws an Error saying what is wrong. */
export function decodeSnapshot(bytes: Uint8Array): SnapshotContents {
  if (bytes.length < FIXED_HEADER_BYTES) throw new Error(`file of ${bytes.length} bytes is shorter than a header`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC.charCodeAt(i)) throw new Error('bad magic (not a perpx snapshot)');
  }
  const headerBytes = readU32(bytes, 8);
  if (headerBytes < FIXED_HEADER_BYTES || headerBytes > FIXED_HEADER_BYTES + STATE_HASH_BYTES_MAX || headerBytes > bytes.length) {
    throw new Error(`bad header length ${headerBytes}`);
  }
  if (crc32cUpdate(0, bytes, 16, headerBytes) !== readU32(bytes, 12)) throw new Error('header checksum mismatch');
  const hashBytes = bytes[36]! | (bytes[37]! << 8);
  if (FIXED_HEADER_BYTES + hashBytes !== headerBytes) throw new Error('header hash length inconsistent');
  const seq = readU64(bytes, 16);
  const payloadBytes = readU64(bytes, 24);
  if (headerBytes + payloadBytes !== bytes.length) {
    throw new Error(`file has ${bytes.length} bytes, header says ${headerBytes + payloadBytes} (truncated or padded)`);
  }
  const payload = bytes.subarray(headerBytes);
  if (crc32c(payload) !== readU32(bytes, 32)) throw new Error('payload checksum mismatch');
  const stateHash = Buffer.from(bytes.buffer, bytes.byteOffset + FIXED_HEADER_BYTES, hashBytes).toString('latin1');
  return { seq, stateHash, payload };
}
