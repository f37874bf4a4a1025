// End to end: a short crash-restart under light load (3 SIGKILLs, each followed by a restart
// on the same journal) must lose no acknowledged order and end with the running state hash
// equal to a fresh replay's; a loss planted into the real history must be caught against the
// real captured journal; and no server process may be left. PERPX_DEEP=1: >= 100 kills.

import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmbeddedServer } from '../../harness/embedded-server.ts';
import { readHistory } from '../../harness/campaign.ts';
import type { HistoryOp } from '../../harness/checker.ts';
import { checkAckedDurable, readJournalPlaces } from '../journal-audit.ts';
import { alive, describeOutcome, processesMentioning, runTracked } from './support-process.ts';

const deep = process.env.PERPX_DEEP === '1';
const runsDir = mkdtempSync(join(tmpdir(), 'perpx-chaos-crash-'));
const servers: EmbeddedServer[] = [];

afterAll(async () => {
  for (const s of servers) await s.kill().catch(() => {});
  rmSync(runsDir, { recursive: true, force: true });
});

describe('chaos crash-restart (end to end)', () => {
  it(`${deep ? '>= 100 kills (full load)' : '3 kills, light load'}: 0 acknowledged orders lost, replay hash equal, a planted loss is caught, no process left`, async () => {
    const { out, pids } = await runTracked('crash-restart', runsDir, servers, { kills: deep ? 100 : 3 }, !deep);
    const msg = describeOutcome(out);
    console.log(msg);
    // On a loaded box a restart can take longer than its slot: the later kills then fall
    // after the load's end and are not injected (the timeline says so). At least 2 must land.
    expect(out.faultsInjected, msg).toBeGreaterThanOrEqual(deep ? 100 : 2);
    expect(out.result.chaos?.events.filter((e) => e.kind === 'inject').length, msg).toBe(out.faultsInjected);
    expect(out.lostAckedOrders, msg).toBe(0);
    expect(out.replay?.ok, msg).toBe(true);
    expect(out.invariantsOk, msg).toBe(true);
    // The load really ran and was acknowledged (otherwise "0 lost" proves nothing).
    const ops: HistoryOp[] = await readHistory(join(out.dir, 'history.ndjson'));
    const acked = ops.filter((o) => o.type === 'ok' && o.f === 'place').length;
    expect(acked, msg).toBeGreaterThan(20);
    // Every real acknowledged order is in the captured journal (without the API's help)...
    const journal = readJournalPlaces(join(out.dir, 'journal-capture'));
    expect(journal.commands).toBeGreaterThan(acked);
    expect(checkAckedDurable(ops, out.accountIds, journal.keys, new Set()).lost).toEqual([]);
    // ...and a planted acknowledged place the server never saw is reported lost.
    const planted: HistoryOp[] = [...ops,
      { t: 1, type: 'invoke', w: 99, id: 1, f: 'place', value: { account: 0, newClientOrderId: 'planted-never-sent' } },
      { t: 2, type: 'ok', w: 99, id: 1, f: 'place', status: 200, value: { orderId: 1 } }];
    expect(checkAckedDurable(planted, out.accountIds, journal.keys, new Set()).lost.map((l) => l.clientOrderId)).toEqual(['planted-never-sent']);
    // Nothing left running: every server pid is gone and no process mentions the run dir.
    expect(pids.length, 'one pid per start').toBeGreaterThanOrEqual(out.faultsInjected + 2); // first start + one per kill + the replay check's
    for (const pid of pids) expect(alive(pid), `pid ${pid} still alive`).toBe(false);
    expect(processesMentioning(out.dir)).toEqual([]);
  }, deep ? 900_000 : 150_000);
});
