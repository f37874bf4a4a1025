// Load pathologies against a real `perpx serve`: a WebSocket reconnect storm leaves no
// connection behind, a cancel storm cancels each order exactly once, a retry storm with
// duplicated client order ids creates exactly one order per id, and a thundering herd of
// fresh connections is answered (or shed with -1008), never dropped.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelStormFault } from '../load/cancel-storm.ts';
import { retryStormFault } from '../load/retry-storm.ts';
import { thunderingHerdFault } from '../load/thundering-herd.ts';
import { wsReconnectStormFault } from '../load/ws-storm.ts';
import { sleepMs } from '../market/sleep.ts';
import { adminTotals, ledgerProblem, metricValue } from '../signed-rest.ts';
import { startTestServer, testContext } from './fault-support.ts';
import type { TestServer } from './fault-support.ts';

let ts: TestServer;

async function wsOpenOnServer(url: string, want: number, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  let n = await metricValue(url, 'perpx_ws_connections');
  while (n !== want && Date.now() < deadline) {
    await sleepMs(100);
    n = await metricValue(url, 'perpx_ws_connections');
  }
  return n;
}

describe('load pathologies (e2e)', () => {
  beforeAll(async () => { ts = await startTestServer(); }, 60_000);
  afterAll(async () => { await ts?.close(); });

  it('WS reconnect storm: every wave connects, nothing is left open on either side', async () => {
    const fault = wsReconnectStormFault({ clients: 200, userShare: 0.3, holdMs: 200, cycles: 4 });
    const ctx = testContext(ts.server, 3);
    await fault.inject(ctx);
    const during = await metricValue(ts.server.url, 'perpx_ws_connections');
    await fault.finished();
    await fault.clear(ctx);
    const r = fault.result();
    const after = await wsOpenOnServer(ts.server.url, 0, 5_000);
    console.log(`ws storm: ${r.cycles} cycles, ${r.opened}/${r.attempts} opened, ${r.refused} refused, ${r.errors} errors, ${r.timeouts} timeouts, ${r.messages} messages; `
      + `connect p50 ${r.connectMsP50.toFixed(1)} ms, p99 ${r.connectMsP99.toFixed(1)} ms, max ${r.connectMsMax.toFixed(1)} ms; server open ${during} during, ${after} after`);
    expect(r.cycles).toBe(4);
    expect(r.opened).toBe(r.attempts);
    expect(during).toBeGreaterThanOrEqual(200);
    expect(after).toBe(0);
  }, 60_000);

  it('cancel storm: each resting order cancelled exactly once, unknown ids -2011, nothing left open', async () => {
    const fault = cancelStormFault({ symbol: 'BTCUSDT', orders: 150, unknown: 300, concurrency: 64 });
    const ctx = testContext(ts.server, 4);
    await fault.inject(ctx);
    await fault.clear(ctx);
    const r = fault.result();
    console.log(`cancel storm: ${r.cancels} cancels in ${r.elapsedMs.toFixed(0)} ms: ${r.cancelled} cancelled of ${r.placed}, ${r.twinRejected} twins -2011, `
      + `${r.unknownRejected} unknown -2011, ${r.shed} shed, ${r.unexpected} unexpected ${r.firstUnexpected}; open after ${r.openAfter}`);
    expect(r.unexpected).toBe(0);
    expect(r.cancelled + r.shed).toBeGreaterThanOrEqual(r.placed);
    expect(r.cancelled).toBeLessThanOrEqual(r.placed);
    expect(r.cancelled + r.twinRejected + r.shed).toBe(2 * r.placed);
    expect(r.unknownRejected + r.shed).toBeGreaterThanOrEqual(300 - r.shed);
    expect(r.openAfter).toBe(0);
  }, 60_000);

  it('retry storm with duplicated client order ids: exactly one order per id', async () => {
    const fault = retryStormFault({ symbol: 'BTCUSDT', orders: 120, retries: 4, timeoutMs: 2, concurrency: 32 });
    const ctx = testContext(ts.server, 5);
    await fault.inject(ctx);
    const v = await fault.verify(ctx);
    await fault.clear(ctx);
    const r = fault.result();
    console.log(`retry storm: ${r.attempts} attempts for ${r.clientIds} ids: ${r.accepted} accepted, ${r.duplicateRejected} × -4116, ${r.replayRejected} × -1022, `
      + `${r.shed} shed, ${r.timeouts} timeouts (first attempts timed out ${r.firstTimedOut}), ${r.unexpected} unexpected ${r.firstUnexpected}; ids with ≠ 1 open order: ${v.wrong.length}`);
    expect(r.unexpected).toBe(0);
    expect(v.ids).toBe(120);
    expect(v.wrong).toEqual([]);
    // Accepted answers can never exceed one per id (a timed-out first attempt may have created it unseen).
    expect(r.accepted).toBeLessThanOrEqual(120);
    expect(r.duplicateRejected).toBeGreaterThan(0);
    expect(ledgerProblem(await adminTotals(ts.server.url, ts.server.adminToken))).toBe('');
  }, 60_000);

  it('thundering herd: 300 fresh connections at once are all answered', async () => {
    const fault = thunderingHerdFault({ connections: 300, orderShare: 0.5, waves: 2, everyMs: 300 });
    const ctx = testContext(ts.server, 6);
    await fault.inject(ctx);
    await fault.finished();
    await fault.clear(ctx);
    const r = fault.result();
    console.log(`thundering herd: ${r.waves} waves, ${r.ok}/${r.requests} ok, ${r.shed} shed, ${r.otherStatus} other, ${r.socketErrors} socket errors, ${r.timeouts} timeouts; `
      + `worst wave ${r.waveMsMax.toFixed(0)} ms, latency p50 ${r.latencyMsP50.toFixed(1)} ms, p99 ${r.latencyMsP99.toFixed(1)} ms ${r.firstError}`);
    expect(r.requests).toBe(600);
    expect(r.ok + r.shed).toBe(r.requests);
    expect(r.ok).toBeGreaterThan(0);
  }, 60_000);
});
