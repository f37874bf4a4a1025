// Record framing: round trip, and every single-bit flip anywhere in a record is detected.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkRecordAt,
  parseSegmentFileName,
  parseSnapshotFileName,
  RECORD_BAD_CRC,
  RECORD_BAD_LENGTH,
  RECORD_HEADER_BYTES,
  RECORD_KIND_CHECKPOINT,
  RECORD_TRUNCATED,
  recordKind,
  recordSeq,
  segmentFileName,
  snapshotFileName,
  writeRecord,
} from './record.ts';
import { decodeSnapshot, encodeSnapshotHeader } from './snapshot-file.ts';

describe('record framing', () => {
  it('round-trips seq, kind and body; any bit flip is rejected', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(),
        (seq, body, flip) => {
          const out = new Uint8Array(RECORD_HEADER_BYTES + 1 + body.length);
          const end = writeRecord(out, 0, seq, RECORD_KIND_CHECKPOINT, body);
          expect(end).toBe(out.length);
          expect(checkRecordAt(out, 0, end, 1 << 20)).toBe(1 + body.length);
          expect(recordSeq(out, 0)).toBe(seq);
          expect(recordKind(out, 0)).toBe(RECORD_KIND_CHECKPOINT);
          const bit = flip % (out.length * 8);
          out[bit >> 3] ^= 1 << (bit & 7);
          expect(checkRecordAt(out, 0, end, 1 << 20)).toBeLessThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('classifies truncated, bad-length and bad-crc records', () => {
    const out = new Uint8Array(64);
    const end = writeRecord(out, 0, 9, 0, Buffer.from('hello'));
    expect(checkRecordAt(out, 0, end - 1, 1 << 20)).toBe(RECORD_TRUNCATED);
    expect(checkRecordAt(out, 0, 10, 1 << 20)).toBe(RECORD_TRUNCATED);
    expect(checkRecordAt(new Uint8Array(32), 0, 32, 1 << 20)).toBe(RECORD_BAD_LENGTH);
    expect(checkRecordAt(out, 0, end, 8)).toBe(RECORD_BAD_LENGTH);
    out[end - 1] ^= 1;
    expect(checkRecordAt(out, 0, end, 1 << 20)).toBe(RECORD_BAD_CRC);
  });

  it('names sort like numbers and parse back', () => {
    expect(segmentFileName(42)).toBe('journal-00000000000000000042.log');
    expect(parseSegmentFileName(segmentFileName(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseSnapshotFileName(snapshotFileName(7))).toBe(7);
    expect(parseSegmentFileName('journal-1.log')).toBeNull();
    expect(segmentFileName(9) < segmentFileName(10)).toBe(true);
  });
});

describe('snapshot file', () => {
  it('round-trips and rejects any damaged byte', () => {
    fc.assert(
      fc.property(fc.nat(), fc.uint8Array({ maxLength: 300 }), fc.nat(), (seq, payload, at) => {
        const header = encodeSnapshotHeader(seq, 'ab'.repeat(32), payload);
        const file = new Uint8Array(header.length + payload.length);
        file.set(header);
        file.set(payload, header.length);
        expect(decodeSnapshot(file)).toMatchObject({ seq, stateHash: 'ab'.repeat(32) });
        const i = at % file.length;
        file[i] ^= 0x10;
        expect(() => decodeSnapshot(file)).toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
