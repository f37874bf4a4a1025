// The disk and loop-block Fault objects (what `perpx chaos disk-*` / `gateway-loop-block`
// inject) against one `perpx serve --chaos` child: slow fsync slows acks and clears without a
// restart; EIO on write fail-stops (503/-1001) and its clear restarts the server with every
// acknowledged order intact; a torn write at crash kills the process mid-write and the restart
// keeps every acknowledged order; a loop block holds the gateway and its clear waits it out.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultContext } from '../../fault.ts';
import { seededRng } from '../../fault.ts';
import { gatewayLoopBlockFault } from '../../loop/faults.ts';
import { diskEioWriteFault, diskFsyncSlowFault, diskTornWriteFault } from '../faults.ts';
import { fundedTrader, lostOrders, placeOrder, startServer } from './support.ts';
import type { Started, Trader } from './support.ts';

let started: Started;
let trader: Trader;
const marks: string[] = [];
let ctx: FaultContext;

beforeAll(async () => {
  started = await startServer(true);
  const s = started.server;
  trader = await fundedTrader(s);
  const t0 = Date.now();
  ctx = {
    server: s, serverUrl: s.url, adminToken: s.adminToken, rng: seededRng(5), nowS: () => (Date.now() - t0) / 1000,
    mark: (_k, detail) => void marks.push(detail), log: () => {}, signal: new AbortController().signal,
  };
}, 60_000);

afterAll(async () => {
  await started?.cleanup();
});

describe('disk and loop-block faults', () => {
  it('disk-fsync-slow, disk-eio-write (fail-stop, restart, nothing lost), gateway-loop-block', async () => {
    const s = started.server;
    const acked: string[] = [];
    for (let i = 0; i < 3; i++) {
      expect((await placeOrder(s, trader, `a${i}`)).status).toBe(200);
      acked.push(`a${i}`);
    }

    const slow = diskFsyncSlowFault(300, 0);
    await slow.inject(ctx);
    const t0 = performance.now();
    expect((await placeOrder(s, trader, 'slow')).status).toBe(200);
    acked.push('slow');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    await slow.clear(ctx);
    expect(s.starts).toBe(1); // a slow disk needs no restart

    const eio = diskEioWriteFault();
    await eio.inject(ctx);
    let failed: { status: number; body: Record<string, unknown> } | null = null;
    for (let i = 0; i < 50 && failed === null; i++) {
      const r = await placeOrder(s, trader, `e${i}`);
      if (r.status === 200) acked.push(`e${i}`);
      else failed = r;
    }
    expect(failed?.status).toBe(503);
    expect(failed?.body.code).toBe(-1001);
    await eio.clear(ctx);
    await eio.clear(ctx); // idempotent: the restarted server has no faults and a healthy journal
    expect(s.starts).toBe(2);
    expect(marks.some((m) => /journal fail-stopped: .*EIO/.test(m))).toBe(true);
    expect(await lostOrders(s, trader, acked)).toEqual([]);
    expect((await placeOrder(s, trader, 'after')).status).toBe(200);
    acked.push('after');

    // Torn write at crash: the process dies inside a journal write; orders in flight are not acked.
    const torn = diskTornWriteFault();
    const injected = torn.inject(ctx); // resolves once the server died (the next journal write)
    for (let i = 0, dead = false; i < 200 && !dead; i++) {
      const wave = await Promise.all(Array.from({ length: 5 }, (_, j) => placeOrder(s, trader, `t${i}-${j}`).catch(() => ({ status: 0, body: {} }))));
      wave.forEach((r, j) => { if (r.status === 200) acked.push(`t${i}-${j}`); else dead = true; });
    }
    await injected;
    expect(marks.at(-1)).toMatch(/server died mid-write \(SIGKILL\)/);
    await torn.clear(ctx);
    expect(s.starts).toBe(3);
    expect(await lostOrders(s, trader, acked)).toEqual([]);
    expect((await placeOrder(s, trader, 'after-torn')).status).toBe(200);

    const block = gatewayLoopBlockFault(1_000);
    const t1 = performance.now();
    await block.inject(ctx); // answered before the block starts
    await block.clear(ctx); // returns once the gateway answers again
    expect(performance.now() - t1).toBeGreaterThanOrEqual(900);
    expect(marks.some((m) => m.startsWith('gateway answering again'))).toBe(true);
  }, 90_000);
});
