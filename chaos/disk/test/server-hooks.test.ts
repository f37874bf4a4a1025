// The server's chaos hooks against a real `perpx serve` child:
//  - without --chaos the /admin/v1/chaos routes do not exist (404 {code,msg});
//  - with --chaos: EIO on fsync fail-stops the journal (orders answer 503/-1001), and after the
//    fault is cleared and the server restarted, every acknowledged order is still there;
//    ENOSPC on write does the same; fsync latency slows acks; a loop block holds the gateway.

import { afterAll, describe, expect, it } from 'vitest';
import { adminGet } from '../../../harness/embedded-server.ts';
import type { EmbeddedServer } from '../../../harness/embedded-server.ts';
import { fundedTrader as trader, lostOrders as lostAfterRestart, placeOrder, startServer } from './support.ts';
import type { Trader } from './support.ts';

const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const c of cleanups) await c();
});

async function start(chaos: boolean): Promise<EmbeddedServer> {
  const s = await startServer(chaos);
  cleanups.push(s.cleanup);
  return s.server;
}

async function chaos(s: EmbeddedServer, path: string, body: Record<string, unknown> | null): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}/admin/v1/chaos/${path}`, {
    method: body === null ? 'GET' : 'POST',
    headers: { 'x-perpx-admin': s.adminToken, 'content-type': 'application/json' },
    body: body === null ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

/** Place orders until the disk fault stops the journal; returns the acknowledged client ids. */
async function ordersUntilFailStop(s: EmbeddedServer, t: Trader, prefix: string): Promise<{ acked: string[]; failed: number; codes: Set<number> }> {
  const acked: string[] = [];
  const codes = new Set<number>();
  let failed = 0;
  for (let i = 0; i < 200 && failed < 3; i++) {
    const id = `${prefix}${i}`;
    const r = await placeOrder(s, t, id);
    if (r.status === 200) acked.push(id);
    else {
      failed++;
      codes.add(Number(r.body.code));
      expect(r.status).toBe(503);
    }
  }
  return { acked, failed, codes };
}

describe('perpx serve chaos hooks', () => {
  it('without --chaos the chaos routes are absent (404 {code,msg})', async () => {
    const s = await start(false);
    for (const [path, body] of [['disk', { fsyncLatencyMs: 5 }], ['disk', null], ['disk/clear', {}], ['loopBlock', { ms: 10 }]] as const) {
      const r = await chaos(s, path, body);
      expect(r.status).toBe(404);
      expect(r.body.code).toBe(-1020);
      expect(typeof r.body.msg).toBe('string');
    }
    await s.stop(5_000);
  }, 60_000);

  it('with --chaos: EIO on fsync and ENOSPC on write fail-stop (503/-1001); acked orders survive a restart', async () => {
    const s = await start(true);
    expect(s.startLines.join('\n')).toMatch(/CHAOS HOOKS ENABLED/);
    const t = await trader(s);

    // Bad input is a 400 {code,msg}; unauthenticated is 401.
    const bad = await chaos(s, 'disk', { errorCode: 'EBADF' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe(-1130);
    const unauth = await fetch(`${s.url}/admin/v1/chaos/disk`);
    expect(unauth.status).toBe(401);

    for (let i = 0; i < 5; i++) expect((await placeOrder(s, t, `pre${i}`)).status).toBe(200);
    const set = await chaos(s, 'disk', { errorCode: 'EIO', failFsyncAfterCalls: 3 });
    expect(set.status).toBe(200);
    expect(set.body.active).toBe(true);
    const eio = await ordersUntilFailStop(s, t, 'eio');
    expect(eio.failed).toBeGreaterThan(0);
    expect([...eio.codes]).toEqual([-1001]);
    const status = await chaos(s, 'disk', null);
    expect(String(status.body.journalFailed)).toMatch(/EIO/);
    expect(status.body.injectedCount).toBeGreaterThanOrEqual(1);
    expect((await chaos(s, 'disk/clear', {})).body.active).toBe(false);
    // Still stopped after the clear: a fail-stopped journal needs a restart.
    expect((await placeOrder(s, t, 'after-clear')).status).toBe(503);

    await s.kill();
    await s.restart();
    const acked1 = ['pre0', 'pre1', 'pre2', 'pre3', 'pre4', ...eio.acked];
    expect(await lostAfterRestart(s, t, acked1)).toEqual([]);
    expect((await placeOrder(s, t, 'healthy')).status).toBe(200);

    // ENOSPC on a journal write (the restarted server has --chaos again, no faults set).
    expect((await chaos(s, 'disk', null)).body.active).toBe(false);
    expect((await chaos(s, 'disk', { errorCode: 'ENOSPC', failWriteAfterCalls: 2 })).status).toBe(200);
    const nospc = await ordersUntilFailStop(s, t, 'nospc');
    expect(nospc.failed).toBeGreaterThan(0);
    expect([...nospc.codes]).toEqual([-1001]);
    expect(String((await chaos(s, 'disk', null)).body.journalFailed)).toMatch(/ENOSPC/);
    await s.kill();
    await s.restart();
    expect(await lostAfterRestart(s, t, [...acked1, 'healthy', ...nospc.acked])).toEqual([]);
    await s.stop(5_000);
  }, 120_000);

  it('with --chaos: fsync latency slows acks; a loop block holds the gateway', async () => {
    const s = await start(true);
    const t = await trader(s);
    expect((await chaos(s, 'disk', { fsyncLatencyMs: 300 })).status).toBe(200);
    const t0 = performance.now();
    const slow = await placeOrder(s, t, 'slow');
    expect(slow.body).toMatchObject({ clientOrderId: 'slow' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    await chaos(s, 'disk/clear', {});

    expect((await chaos(s, 'loopBlock', { ms: 20_000 })).status).toBe(400);
    const block = await chaos(s, 'loopBlock', { ms: 800 });
    expect(block.status).toBe(200);
    const t1 = performance.now();
    const time = await fetch(`${s.url}/fapi/v1/time`);
    expect(time.status).toBe(200);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(500);
    expect((await adminGet(s.url, s.adminToken, 'totals')).accounts).toBeGreaterThanOrEqual(1);
    await s.stop(5_000);
  }, 60_000);
});
