// The network Fault objects against a proxy in front of a local HTTP server: inject puts the
// toxic in effect (measured through a request), clear removes exactly it and is idempotent,
// and a fault without a running proxy fails with a one-line error.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultContext } from '../fault.ts';
import { seededRng } from '../fault.ts';
import { FaultProxy } from './proxy.ts';
import { netLatencyFault, netLimitDataFault, netResetFault } from './faults.ts';
import type { ProxyRef } from './faults.ts';

let web: http.Server;
const ref: ProxyRef = { proxy: null };
const marks: string[] = [];

const ctx: FaultContext = {
  server: null, serverUrl: '', adminToken: '', rng: seededRng(1), nowS: () => 0,
  mark: (_k, detail) => void marks.push(detail), log: () => {}, signal: new AbortController().signal,
};

beforeAll(async () => {
  web = http.createServer((_req, res) => res.end('x'.repeat(3_000)));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  ref.proxy = await FaultProxy.start({ targetPort: (web.address() as AddressInfo).port, seed: 3 });
});

afterAll(async () => {
  await ref.proxy?.close();
  web.closeAllConnections();
  await new Promise<void>((r) => web.close(() => r()));
});

/** One GET on a fresh connection: elapsed ms and outcome. */
function get(): Promise<{ ms: number; outcome: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get(`${ref.proxy!.url}/`, { agent: false, timeout: 5_000 }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => { n += d.length; });
      res.on('end', () => resolve({ ms: performance.now() - t0, outcome: `${res.statusCode} ${n} B` }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ ms: performance.now() - t0, outcome: `error ${e.code ?? e.message}` }));
    });
    req.on('timeout', () => { req.destroy(); resolve({ ms: performance.now() - t0, outcome: 'timeout' }); });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ms: performance.now() - t0, outcome: `error ${e.code ?? e.message}` }));
  });
}

describe('network faults', () => {
  it('net-latency: in effect after inject, gone after clear; clear is idempotent', async () => {
    const f = netLatencyFault(ref, 250, 0);
    await f.inject(ctx);
    expect(ref.proxy!.toxics).toHaveLength(1);
    expect((await get()).ms).toBeGreaterThanOrEqual(220);
    await f.clear(ctx);
    await f.clear(ctx);
    expect(ref.proxy!.toxics).toHaveLength(0);
    expect((await get()).outcome).toBe('200 3000 B');
    expect(marks.some((m) => m.includes('latency 250±0 ms downstream'))).toBe(true);
  });

  it('net-reset and net-limit-data: the client sees a reset / a truncated response', async () => {
    const reset = netResetFault(ref, 1);
    await reset.inject(ctx);
    expect((await get()).outcome).toMatch(/^error ECONNRESET/);
    await reset.clear(ctx);
    const limit = netLimitDataFault(ref, 1, 1_000);
    await limit.inject(ctx);
    expect((await get()).outcome).not.toBe('200 3000 B');
    await limit.clear(ctx);
    expect((await get()).outcome).toBe('200 3000 B');
    expect(ref.proxy!.stats.resets).toBeGreaterThanOrEqual(1);
    expect(ref.proxy!.stats.limitCloses).toBeGreaterThanOrEqual(1);
  });

  it('two instances of one fault can overlap (unique toxic names); no proxy → one-line error', async () => {
    const a = netLatencyFault(ref, 10, 0);
    const b = netLatencyFault(ref, 10, 0);
    await a.inject(ctx);
    await b.inject(ctx);
    expect(ref.proxy!.toxics).toHaveLength(2);
    await a.clear(ctx);
    await b.clear(ctx);
    expect(ref.proxy!.toxics).toHaveLength(0);
    await expect(netLatencyFault({ proxy: null }).inject(ctx)).rejects.toThrow(/no fault proxy running/);
  });
});
