// The gateway benchmark's parts on a tiny budget (not the benchmark): its servers start, its
// signed REST and WS API orders are accepted by perpx (no 4xx: accounts funded, signatures
// right, clientOrderIds unique, prices on the tick and inside the band), the bare servers
// answer the same requests, the OTLP sink receives perpx's spans, and the load loops count.

import { afterEach, describe, expect, it } from 'vitest';
import { httpOrderLoad, OrderMix, runOne, serve, setUpAccounts, signedForm, startSink, wsOrderLoad } from './gateway.bench.ts';
import type { ServerSpec } from './gateway.bench.ts';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function up(spec: ServerSpec): Promise<string> {
  const s = await serve(spec);
  closers.push(s.close);
  return s.url;
}

const fake = [{ accountId: 0, apiKey: 'k'.repeat(64), secretKey: 's'.repeat(64) }];

describe('gateway bench parts', () => {
  it('order mix: varied, on the tick, unique client ids; the form is signed last', () => {
    const mix = new OrderMix(7, 't');
    const seen = new Set<string>();
    const sides = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = new Map(mix.params());
      sides.add(`${p.get('side')}/${p.get('timeInForce')}`);
      expect(Number(p.get('price')) * 10 % 1).toBeCloseTo(0, 6);
      expect(Math.abs(Number(p.get('price')) - 60_000)).toBeLessThanOrEqual(1);
      seen.add(p.get('newClientOrderId')!);
    }
    expect(seen.size).toBe(200);
    expect(sides.size).toBe(4);
    expect(signedForm('x', [['a', '1']], 5)).toMatch(/^a=1&timestamp=5&signature=[0-9a-f]{64}$/);
  });

  it('perpx accepts every signed REST and WS API order of the load loops; bare servers answer them', async () => {
    const sink = await startSink();
    closers.push(() => sink.close());
    const perpx = await up({ kind: 'perpx', host: 'in-process', telemetry: 'full', sink: sink.url });
    const accounts = await setUpAccounts(perpx, 4);
    const rest = await httpOrderLoad(perpx, accounts, 4, 1, 1);
    expect(rest.requests).toBeGreaterThan(50);
    expect(rest.errors).toBe(0);
    expect(rest.p99_us).toBeGreaterThanOrEqual(rest.p50_us);
    const ws = await wsOrderLoad(`${perpx.replace(/^http/, 'ws')}/ws-fapi/v1`, accounts, 2, 4, 1, 2);
    expect(ws.requests).toBeGreaterThan(50);
    expect(ws.errors).toBe(0);
    const metrics = await (await fetch(`${perpx}/metrics`)).text();
    expect(metrics).toMatch(/perpx_http_requests_total\{[^}]*route="\/fapi\/v1\/order",status="200"[^}]*\} \d+/);
    const bare = await httpOrderLoad(await up({ kind: 'bare-http' }), fake, 4, 1, 3);
    expect(bare.requests).toBeGreaterThan(50);
    expect(bare.errors).toBe(0);
    const echo = await wsOrderLoad(await up({ kind: 'bare-ws' }), fake, 2, 4, 1, 4);
    expect(echo.requests).toBeGreaterThan(50);
    expect(echo.errors).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    while (closers.length > 1) await closers.pop()!(); // servers down: spans flushed on shutdown
    expect(sink.requests).toBeGreaterThan(0);
  });
});

describe('gateway bench runner', () => {
  it('runs a server in a child process and reports its CPU per request', async () => {
    const o = { duration: 1, warmupS: 0.3, connections: 2, wsConnections: 1, wsDepth: 2, rounds: 1, accounts: 2 };
    const r = await runOne({ name: 'bare_http', spec: { kind: 'bare-http' }, protocol: 'http', perpx: false }, o, 1, () => {});
    expect(r.requests).toBeGreaterThan(50);
    expect(r.errors).toBe(0);
    expect(r.cpu_us_per_req).toBeGreaterThan(1);
    expect(r.cpu_us_per_req).toBeLessThan(10_000);
  });
});
