// Journal record framing and file naming.
//
// Record: [u32 LE payloadBytes][u32 LE crc32c][u64 LE seq][payload]
//   payload = [u8 kind][body]; kind 0 = command (body = codec bytes), kind 1 = checkpoint
//   (body = ASCII state hash after applying every command up to and including `seq`).
//   crc32c covers the length field, the seq field and the payload, so a damaged length is
//   caught too. Command seqs are gap-free (+1 each); a checkpoint repeats the seq it covers.
// Segment file: journal-<first seq, 20 digits>.log, holding whole records only.

import { crc32cUpdate } from './crc32c.ts';

export const RECORD_HEADER_BYTES = 16;
export const RECORD_KIND_COMMAND = 0;
export const RECORD_KIND_CHECKPOINT = 1;
/** Default bound on one record (header + payload): a command larger than this is rejected. */
export const RECORD_BYTES_MAX_DEFAULT = 1 << 20;

/** checkRecordAt results (negative = not a valid record). */
export const RECORD_TRUNCATED = -1;
export const RECORD_BAD_LENGTH = -2;
export const RECORD_BAD_CRC = -3;

const TWO_POW_32 = 4294967296;
const SEQ_DIGITS = 20; // u64 max has 20 decimal digits, so names sort like numbers

export function describeRecordStatus(status: number): string {
  switch (status) {
    case RECORD_TRUNCATED:
      return 'record runs past end of file';
    case RECORD_BAD_LENGTH:
      return 'record length field out of range';
    case RECORD_BAD_CRC:
      return 'record checksum mismatch';
    default:
      return `record status ${status}`;
  }
}

export function readU64(bytes: Uint8Array, offset: number): number {
  const lo = (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
  const hi = (bytes[offset + 4]! | (bytes[offset + 5]! << 8) | (bytes[offset + 6]! << 16) | (bytes[offset + 7]! << 24)) >>> 0;
  return hi * TWO_POW_32 + lo;
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

export function writeU64(bytes: Uint8Array, offset: number, value: number): void {
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`u64 out of safe range: ${value}`);
  writeU32(bytes, offset, value % TWO_POW_32);
  writeU32(bytes, offset + 4, Math.floor(value / TWO_POW_32));
}

/**
 * Frames one record at `offset`. The body (bytes[bodyStart, bodyEnd)) is copied after the kind
 * byte. Returns the offset just past the record.
 */
export function writeRecord(
  out: Uint8Array,
  offset: number,
  seq: number,
  kind: number,
  body: Uint8Array,
): number {
  const payloadBytes = 1 + body.length;
  const end = offset + RECORD_HEADER_BYTES + payloadBytes;
  if (end > out.length) throw new RangeError(`record of ${payloadBytes} payload bytes does not fit at ${offset}`);
  writeU32(out, offset, payloadBytes);
  writeU64(out, offset + 8, seq);
  out[offset + RECORD_HEADER_BYTES] = kind;
  out.set(body, offset + RECORD_HEADER_BYTES + 1);
  const crc = crc32cUpdate(crc32cUpdate(0, out, offset, offset + 4), out, offset + 8, end);
  writeU32(out, offset + 4, crc);
  return end;
}

/**
 * Validates the record at bytes[offset..). Returns its payload length (> 0) or a negative
 * RECORD_* status. No allocation: replay calls this once per record.
 */
export function checkRecordAt(bytes: Uint8Array, offset: number, endBytes: number, recordBytesMax: number): number {
  if (endBytes - offset < RECORD_HEADER_BYTES) return RECORD_TRUNCATED;
  const payloadBytes = readU32(bytes, offset);
  if (payloadBytes < 1 || payloadBytes + RECORD_HEADER_BYTES > recordBytesMax) return RECORD_BAD_LENGTH;
  const end = offset + RECORD_HEADER_BYTES + payloadBytes;
  if (end > endBytes) return RECORD_TRUNCATED;
  const crc = crc32cUpdate(crc32cUpdate(0, bytes, offset, offset + 4), bytes, offset + 8, end);
  if (crc !== readU32(bytes, offset + 4)) return RECORD_BAD_CRC;
  return payloadBytes;
}

export function recordSeq(bytes: Uint8Array, offset: number): number {
  return readU64(bytes, offset + 8);
}

export function recordKind(bytes: Uint8Array, offset: number): number {
  return bytes[offset + RECORD_HEADER_BYTES]!;
}

function padSeq(seq: number): string {
  if (!(Number.isSafeInteger(seq) && seq >= 0)) throw new RangeError(`bad seq ${seq}`);
  return String(seq).padStart(SEQ_DIGITS, '0');
}

export function segmentFileName(firstSeq: number): string {
  return `journal-${padSeq(firstSeq)}.log`;
}

export function snapshotFileName(seq: number): string {
  return `snapshot-${padSeq(seq)}.snap`;
}

const SEGMENT_RE = /^journal-(\d{20})\.log$/;
const SNAPSHOT_RE = /^snapshot-(\d{20})\.snap$/;

export function parseSegmentFileName(name: string): number | null {
  const m = SEGMENT_RE.exec(name);
  return m === null ? null : Number(m[1]);
}

export function parseSnapshotFileName(name: string): number | null {
  const m = SNAPSHOT_RE.exec(name);
  return m === null ? null : Number(m[1]);
}

/** Suffix of files being written atomically; recovery deletes leftovers. */
export const TEMP_SUFFIX = '.tmp';
