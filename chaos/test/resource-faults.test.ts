// Resource faults against a real `perpx serve`: a CPU hog pinned with the engine thread to
// one core (the server keeps answering; hogs gone and affinity restored after clear) and a
// memory hog that really holds its memory (resident) and is gone after clear.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { affinityOf, processAlive, taskset } from '../resource/child.ts';
import { cpuHogFault } from '../resource/cpu-hog.ts';
import { memoryPressureFault } from '../resource/memory-pressure.ts';
import { sleepMs } from '../market/sleep.ts';
import { createTrader, signedCall } from '../signed-rest.ts';
import type { Trader } from '../signed-rest.ts';
import { startTestServer, testContext } from './fault-support.ts';
import type { TestServer } from './fault-support.ts';

let ts: TestServer;

/** Median latency of n sequential signed orders (IOC, never fills), ms; and how many were answered 200. */
async function orderLatency(url: string, t: Trader, n: number): Promise<{ p50: number; ok: number }> {
  const ms: number[] = [];
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await signedCall(url, t, 'POST', '/fapi/v1/order', [['symbol', 'BTCUSDT'], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'IOC'], ['price', '48500'], ['quantity', '0.003']]);
    ms.push(performance.now() - t0);
    if (r.status === 200) ok++;
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(n / 2)]!, ok };
}

describe('resource faults (e2e)', () => {
  beforeAll(async () => { ts = await startTestServer(); }, 60_000);
  afterAll(async () => { await ts?.close(); });

  it('CPU hog on the engine core: server keeps answering; hogs gone and engine affinity restored after clear', async () => {
    const url = ts.server.url;
    const t = await createTrader(url, ts.server.adminToken, '100000');
    const before = await orderLatency(url, t, 20);
    const fault = cpuHogFault({ hogs: 2, maxDurationS: 30 });
    const ctx = testContext(ts.server);
    await fault.inject(ctx);
    await sleepMs(300);
    const during = await orderLatency(url, t, 20);
    const st = fault.state();
    const alive = st.hogPids.map(processAlive);
    await fault.clear(ctx);
    const s = fault.state();
    const after = s.engineTid === null ? '' : affinityOf(ts.server.pid, s.engineTid);
    console.log(`cpu hog: taskset ${taskset() ?? 'missing'}; pinned at inject ${st.pinned ? 'yes' : `no (${st.unpinnedReason})`}, core ${st.core}, engine thread ${st.engineTid} `
      + `affinity ${st.engineAffinityBefore} → ${st.engineAffinityDuring} → ${after}; hogs used ${s.hogCpuS.toFixed(2)} CPU s; `
      + `order p50 ${before.p50.toFixed(1)} ms before, ${during.p50.toFixed(1)} ms during (${during.ok}/20 ok)`);
    expect(alive.every((a) => a)).toBe(true);
    expect(s.hogPids.some(processAlive)).toBe(false);
    expect(during.ok).toBe(20);
    if (taskset() !== null) {
      expect(st.pinned).toBe(true);
      expect(st.engineAffinityDuring).toBe(String(st.core));
      expect(after).toBe(st.engineAffinityBefore);
    }
  }, 60_000);

  it('memory pressure: 256 MiB resident in a child while it lasts, the child gone after clear', async () => {
    const fault = memoryPressureFault({ bytes: 256 * 2 ** 20, maxDurationS: 40, allocWaitMs: 30_000 });
    const ctx = testContext(ts.server);
    await fault.inject(ctx);
    const s = fault.state();
    const aliveDuring = processAlive(s.pid);
    const health = await fetch(`${ts.server.url}/healthz`);
    await fault.clear(ctx);
    await fault.clear(ctx); // idempotent
    console.log(`memory pressure: ${(s.allocatedBytes / 2 ** 20).toFixed(0)} MiB allocated in ${s.allocMs} ms, child RSS ${(s.residentBytes / 2 ** 20).toFixed(0)} MiB; healthz ${health.status}`);
    expect(aliveDuring).toBe(true);
    expect(s.allocatedBytes).toBe(256 * 2 ** 20);
    expect(s.residentBytes).toBeGreaterThan(200 * 2 ** 20);
    expect(health.status).toBe(200);
    expect(processAlive(s.pid)).toBe(false);
  }, 60_000);
});
