// Proves the open-model generator end to end against small in-process servers:
//  - rate accuracy: exactly the scheduled arrivals are sent (uniform, 2 workers), per-second
//    counts match the profile, and per-second histograms merged across workers equal the totals;
//  - the history pairs every invoke with one completion and never reports a completion before
//    its send;
//  - coordinated-omission correction: when the in-flight limit holds sends back, corrected
//    latency (from the intended time) grows while service time stays at the server's delay, and
//    the generator is still valid (waiting for a slot is not generator lag);
//  - outcomes: 4xx with a Binance code = fail, 5xx and timeouts = info, counted by code;
//  - an unreachable target fails before the run with one line; an abort ends the run invalid.
// Runs are 1–3 s at a few hundred requests per second to stay light on a shared machine.

import { describe, expect, it, afterEach } from 'vitest';
import { createServer } from 'node:http';
import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, redactScenario } from './load.ts';
import { normalizeScenario } from './scenario.ts';
import { decodeHistogram, newHistogram, addEncoded, summarize } from './histogram.ts';
import { lineTimeMs } from './history.ts';

const servers: Server[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const ok = (req: IncomingMessage, res: ServerResponse): void => {
  req.resume();
  req.on('end', () => res.end('{}'));
};

describe('open-model load generator', () => {
  it('sends exactly the scheduled arrivals and merges per-worker histograms exactly', async () => {
    const target = await serve(ok);
    const dir = mkdtempSync(join(tmpdir(), 'perpx-load-'));
    try {
      const progress: number[] = [];
      const r = await runLoad({
        scenario: { name: 'rate', workers: 2, profile: { kind: 'constant', rate: 300, duration: 3 }, thresholds: ['p99 < 1s', 'error_rate < 0.1%'] },
        target, historyDir: dir, onProgress: (p) => progress.push(p.second),
      });
      expect(r.totals).toMatchObject({ intended: 900, sent: 900, completed: 900, ok: 900, fail: 0, info: 0, dropped: 0 });
      expect(r.series.intended).toEqual([300, 300, 300]);
      expect(r.totals.achievedRatio).toBe(1);
      expect(Math.abs(r.totals.achievedRps - 300)).toBeLessThan(3);
      for (const n of r.series.sent.slice(0, 3)) expect(Math.abs(n - 300)).toBeLessThanOrEqual(15);
      // Per-second parts, merged, equal the exact totals.
      const merged = newHistogram();
      for (const b64 of r.histograms.slices.corrected) addEncoded(merged, b64);
      expect(summarize(merged)).toEqual(r.latency.corrected);
      expect(decodeHistogram(r.histograms.service).totalCount).toBe(900);
      expect(r.series.corrected.count).toEqual([300, 300, 300]);
      expect(r.thresholds.every((t) => t.pass)).toBe(true);
      expect(progress.slice(0, 3)).toEqual([1, 2, 3]); // and possibly a drain second
      expect(r.generator.perWorker).toHaveLength(2);
      // The history: one invoke and one completion per operation, completion after invoke.
      const lines = readFileSync(join(dir, 'history.ndjson'), 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(1800);
      const invokedAt = new Map<number, number>();
      let last = -Infinity;
      for (const l of lines) {
        const op = JSON.parse(l) as { t: number; type: string; id: number; latencyMs?: number; serviceMs?: number };
        expect(lineTimeMs(l)).toBeGreaterThanOrEqual(last);
        last = op.t;
        if (op.type === 'invoke') invokedAt.set(op.id, op.t);
        else {
          expect(op.type).toBe('ok');
          expect(op.t).toBeGreaterThanOrEqual(invokedAt.get(op.id)!);
          expect(op.latencyMs!).toBeGreaterThanOrEqual(op.serviceMs!);
        }
      }
      expect(invokedAt.size).toBe(900);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('corrects for coordinated omission when the in-flight limit holds sends back', async () => {
    const target = await serve((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.end('{}'), 50));
    });
    const r = await runLoad({
      scenario: { name: 'co', workers: 1, maxInFlightPerWorker: 2, profile: { kind: 'constant', rate: 100, duration: 1 } },
      target,
    });
    // Capacity is 2 / 50 ms = 40 req/s against 100 offered: most sends wait for a slot.
    expect(r.totals.completed).toBe(100);
    expect(r.totals.capBlocked).toBeGreaterThan(50);
    expect(r.latency.service.p99Ms).toBeLessThan(150);
    expect(r.latency.service.p50Ms).toBeGreaterThanOrEqual(49);
    expect(r.latency.corrected.p99Ms).toBeGreaterThan(1000);
    expect(r.valid).toBe(true);
    // Waiting for a slot is not generator lag.
    expect(r.generator.lag.p99Ms).toBeLessThan(25);
  });

  it('classifies outcomes: 4xx with a code = fail, 5xx and timeouts = info', async () => {
    const target = await serve((req, res) => {
      req.resume();
      req.on('end', () => {
        const seq = Number(req.headers['x-seq']);
        if (seq % 4 === 0) res.end('{}');
        else if (seq % 4 === 1) res.writeHead(400).end('{"code":-2019,"msg":"Margin is insufficient."}');
        else if (seq % 4 === 2) res.writeHead(503).end('{"code":-1008,"msg":"overloaded"}');
        // seq % 4 === 3: never answer; the client times out
      });
    });
    const r = await runLoad({
      scenario: {
        name: 'errors', workers: 1, timeoutMs: 300, profile: { kind: 'constant', rate: 40, duration: 1 },
        request: { factory: 'static', path: '/x', seqHeader: 'x-seq' }, thresholds: ['error_rate < 1%'], expectedErrors: ['-2019'],
      },
      target,
    });
    expect(r.totals.errors).toEqual({ '400:-2019': 10, '503:-1008': 10, timeout: 10 });
    expect(r.totals).toMatchObject({ ok: 10, fail: 10, info: 20, expectedErrors: 10 });
    expect(r.totals.errorRate).toBeCloseTo(0.75);
    expect(r.totals.unexpectedErrorRate).toBeCloseTo(0.5);
    expect(r.totals.timeoutRate).toBeCloseTo(0.25);
    expect(r.thresholds[0]).toMatchObject({ pass: false });
    expect(r.series.errorsByCode.timeout).toEqual([10]);
  });

  it('408 -1007 (execution status unknown) is indeterminate, not a rejection', async () => {
    const target = await serve((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(408).end('{"code":-1007,"msg":"Send status unknown; execution status unknown."}'));
    });
    const r = await runLoad({
      scenario: { name: 'unknown', workers: 1, profile: { kind: 'constant', rate: 20, duration: 1 }, request: { factory: 'static', path: '/x' } },
      target,
    });
    expect(r.totals).toMatchObject({ ok: 0, fail: 0, info: 20 });
    expect(r.totals.errors).toEqual({ '408:-1007': 20 });
  });

  it('fails before the run with one line when the target is unreachable', async () => {
    const target = await serve(ok);
    const port = new URL(target).port;
    servers.pop()!.close();
    await expect(runLoad({ scenario: { name: 'x', workers: 1, profile: { kind: 'constant', rate: 10, duration: 1 } }, target: `http://127.0.0.1:${port}` }))
      .rejects.toThrow(/^cannot connect to target http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/);
  });

  it('an abort ends the run early, marked invalid, with what was measured', async () => {
    const target = await serve(ok);
    const abort = new AbortController();
    const r = await runLoad({
      scenario: { name: 'abort', workers: 1, profile: { kind: 'constant', rate: 50, duration: 10 } }, target, signal: abort.signal,
      onStart: () => setTimeout(() => abort.abort(), 1500),
    });
    expect(r.aborted).toBe(true);
    expect(r.valid).toBe(false);
    expect(r.invalidReasons.join()).toMatch(/aborted/);
    expect(r.totals.sent).toBeGreaterThan(40);
    expect(r.totals.sent).toBeLessThan(150);
  });

  it('never writes account secrets into the result', () => {
    const s = normalizeScenario({ name: 'o', profile: { kind: 'constant', rate: 1, duration: 1 }, request: { factory: 'binance-order', accounts: [{ apiKey: 'k', secretKey: 'hunter2' }] } });
    const red = redactScenario(s);
    expect(JSON.stringify(red)).not.toContain('hunter2');
    expect(JSON.stringify(s)).toContain('hunter2');
    expect((red.request as { accounts: unknown[] }).accounts).toEqual([{ apiKey: 'k', secretKey: '<redacted>' }]);
  });
});
