// Shared pieces for the journal tests (not a test file itself): command generators, a model
// that replays commands into a fresh LedgerMachine, and a reader that lists framed records.

import fc from 'fast-check';
import type { FileIO } from './file-io.ts';
import { joinPath } from './file-io.ts';
import {
  checkRecordAt,
  parseSegmentFileName,
  RECORD_BYTES_MAX_DEFAULT,
  RECORD_HEADER_BYTES,
  RECORD_KIND_COMMAND,
  recordKind,
  recordSeq,
} from './record.ts';
import { LedgerMachine, type LedgerCommand } from './test-machine.ts';

/** Few accounts and small amounts so transfers and withdrawals often reject. */
export const TEST_ACCOUNTS = 6;

export function ledgerCommandArb(): fc.Arbitrary<LedgerCommand> {
  const account = fc.integer({ min: 0, max: TEST_ACCOUNTS - 1 });
  const amount = fc.integer({ min: 0, max: 60 }); // 0 is a bad_amount rejection
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ type: fc.constant('deposit' as const), account, amount }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('withdraw' as const), account, amount }) },
    { weight: 3, arbitrary: fc.record({ type: fc.constant('transfer' as const), from: account, to: account, amount }) },
  );
}

/** hashes[k] = stateHash after applying commands[0..k) to a fresh machine (hashes[0] = empty). */
export function modelHashes(commands: readonly LedgerCommand[]): string[] {
  const m = new LedgerMachine();
  const hashes = [m.stateHash()];
  for (const c of commands) {
    m.apply(c);
    hashes.push(m.stateHash());
  }
  return hashes;
}

export interface RecordInfo {
  readonly file: string;
  readonly offsetBytes: number;
  readonly endBytes: number;
  readonly seq: number;
  readonly isCommand: boolean;
}

/** Every valid record of every segment, in file order (stops at the first invalid one per file). */
export async function listRecords(io: FileIO, dir: string): Promise<RecordInfo[]> {
  const names = (await io.list(dir)).filter((n) => parseSegmentFileName(n) !== null).sort();
  const out: RecordInfo[] = [];
  for (const file of names) {
    const bytes = await io.readFile(joinPath(dir, file));
    let o = 0;
    while (o < bytes.length) {
      const payloadBytes = checkRecordAt(bytes, o, bytes.length, RECORD_BYTES_MAX_DEFAULT);
      if (payloadBytes < 0) break;
      const end = o + RECORD_HEADER_BYTES + payloadBytes;
      out.push({ file, offsetBytes: o, endBytes: end, seq: recordSeq(bytes, o), isCommand: recordKind(bytes, o) === RECORD_KIND_COMMAND });
      o = end;
    }
  }
  return out;
}

/** A log sink that keeps lines for assertions. */
export function captureLog(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line: string) => void lines.push(line) };
}

export const TEST_DIR = '/sim/journal';
