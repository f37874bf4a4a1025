// End to end: pause (SIGSTOP/SIGCONT) and graceful-restart (SIGTERM + start), quick: the fault
// lands, no acknowledged order is lost, the replay hash matches, and no process is left.

import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmbeddedServer } from '../../harness/embedded-server.ts';
import { alive, describeOutcome, processesMentioning, runTracked } from './support-process.ts';

const runsDir = mkdtempSync(join(tmpdir(), 'perpx-chaos-pause-'));
const servers: EmbeddedServer[] = [];

afterAll(async () => {
  for (const s of servers) await s.kill().catch(() => {});
  rmSync(runsDir, { recursive: true, force: true });
});

describe('chaos pause and graceful restart (end to end)', () => {
  for (const name of ['pause', 'graceful-restart']) {
    it(`${name} (quick): the fault lands, nothing acknowledged is lost, hash equal, no process left`, async () => {
      const { out, pids } = await runTracked(name, runsDir, servers);
      const msg = describeOutcome(out);
      console.log(msg);
      expect(out.faultsInjected, msg).toBe(1);
      expect(out.faultErrors, msg).toEqual([]);
      expect(out.lostAckedOrders, msg).toBe(0);
      expect(out.replay?.ok, msg).toBe(true);
      // The pause once produced phantom orders (408 -1007 'not processed' for processed
      // requests); fixed in 54f571d, so every invariant must hold now.
      expect(out.invariants.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`), msg).toEqual([]);
      expect(out.invariantsOk, msg).toBe(true);
      for (const pid of pids) expect(alive(pid), `pid ${pid} still alive`).toBe(false);
      expect(processesMentioning(out.dir)).toEqual([]);
    }, 120_000);
  }
});
