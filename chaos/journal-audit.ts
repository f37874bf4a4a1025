// The durability check: every order the load generator saw acknowledged (history `ok` on a
// place) must be a `place` command in the journal (captured segments) — or at least known to
// the server's API. An order in neither is lost. Orders only the journal still has are counted
// apart: they exist (their fills are in the balances) but GET allOrders no longer shows them,
// because the gateway's order history is rebuilt only from events seen since the last start.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRecordAt, recordKind, RECORD_HEADER_BYTES, RECORD_KIND_COMMAND, RECORD_BYTES_MAX_DEFAULT, parseSegmentFileName } from '../engine/journal/record.ts';
import { binaryCommandCodec } from '../engine/wire/command-codec.ts';
import type { HistoryOp } from '../harness/checker.ts';

export interface JournalPlaces {
  /** `${accountId}\0${clientOrderId}` of every place command. */
  keys: Set<string>;
  commands: number;
  segments: number;
}

export function placeKey(accountId: number, clientOrderId: string): string {
  return `${accountId}\u0000${clientOrderId}`;
}

/** Reads every whole record of every journal segment in `dir`; a torn tail ends a segment. */
export function readJournalPlaces(dir: string): JournalPlaces {
  const out: JournalPlaces = { keys: new Set(), commands: 0, segments: 0 };
  const names = readdirSync(dir).filter((n) => parseSegmentFileName(n) !== null).sort();
  for (const name of names) {
    const bytes = new Uint8Array(readFileSync(join(dir, name)));
    out.segments++;
    let off = 0;
    while (off < bytes.length) {
      const len = checkRecordAt(bytes, off, bytes.length, RECORD_BYTES_MAX_DEFAULT);
      if (len < 0) break;
      if (recordKind(bytes, off) === RECORD_KIND_COMMAND) {
        out.commands++;
        const cmd = binaryCommandCodec.decode(bytes.subarray(off + RECORD_HEADER_BYTES + 1, off + RECORD_HEADER_BYTES + len));
        if (cmd.type === 'place') out.keys.add(placeKey(cmd.accountId, cmd.clientOrderId));
      }
      off += RECORD_HEADER_BYTES + len;
    }
  }
  return out;
}

export interface DurabilityResult {
  acked: number;
  inApi: number;
  journalOnly: number;
  lost: { clientOrderId: string; account: number; ops: HistoryOp[] }[];
}

/**
 * `accountIds[i]` is the engine account id of the load's account index i; `apiKnown` holds
 * `${accountIndex}\0${clientOrderId}` of every order the API showed (open or history).
 */
export function checkAckedDurable(ops: readonly HistoryOp[], accountIds: readonly number[], journal: ReadonlySet<string>, apiKnown: ReadonlySet<string>): DurabilityResult {
  const invokes = new Map<string, HistoryOp>();
  const res: DurabilityResult = { acked: 0, inApi: 0, journalOnly: 0, lost: [] };
  for (const op of ops) {
    const key = `${op.w}:${op.id}`;
    if (op.type === 'invoke') {
      if (op.f === 'place' || op.f === 'close') invokes.set(key, op); // closes are reduce-only places
      continue;
    }
    const inv = invokes.get(key);
    if (inv === undefined || op.type !== 'ok') continue;
    res.acked++;
    const account = Number(inv.value?.account);
    const cid = String(inv.value?.newClientOrderId ?? '');
    if (apiKnown.has(`${account}\u0000${cid}`)) res.inApi++;
    else if (accountIds[account] !== undefined && journal.has(placeKey(accountIds[account], cid))) res.journalOnly++;
    else res.lost.push({ clientOrderId: cid, account, ops: [inv, op] });
  }
  return res;
}
