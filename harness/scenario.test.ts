// Proves scenario loading and validation: the shipped JSON and TypeScript scenarios load; every
// default is filled; normalizing twice changes nothing (workers get the same data); bad fields
// fail with a message naming them; request factories (static with a sequence header, the signed
// Binance flow, a module factory) build and produce well-formed requests.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac } from 'node:crypto';
import { loadScenarioFile, normalizeScenario, GENERATOR_DEFAULTS } from './scenario.ts';
import { createFactory } from './request.ts';

const SCENARIOS = fileURLToPath(new URL('./scenarios/', import.meta.url));
const ctx = { workerIndex: 0, workerCount: 1, seed: 1 };

describe('scenarios', () => {
  it('every shipped scenario loads and normalizes idempotently', async () => {
    const files = readdirSync(SCENARIOS);
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const s = await loadScenarioFile(join(SCENARIOS, f));
      expect(normalizeScenario(s)).toEqual(s);
      expect(structuredClone(s)).toEqual(s);
    }
  });

  it('fills defaults', () => {
    const s = normalizeScenario({ name: 'x', profile: { kind: 'constant', rate: 10, duration: 1 } });
    expect(s).toMatchObject({
      arrivals: 'uniform', seed: 1, thresholds: [], maxInFlightPerWorker: 256, preconnectPerWorker: 256, timeoutMs: 10_000,
      request: { factory: 'static', method: 'GET', path: '/' }, generator: GENERATOR_DEFAULTS,
    });
    expect(s.workers).toBeGreaterThanOrEqual(1);
  });

  it('rejects bad fields with messages naming them', () => {
    const base = { name: 'x', profile: { kind: 'constant', rate: 10, duration: 1 } };
    expect(() => normalizeScenario(null)).toThrow(/scenario must be an object/);
    expect(() => normalizeScenario({ ...base, name: '' })).toThrow(/scenario.name/);
    expect(() => normalizeScenario({ name: 'x' })).toThrow(/scenario.profile is required/);
    expect(() => normalizeScenario({ ...base, arrivals: 'bursty' })).toThrow(/arrivals/);
    expect(() => normalizeScenario({ ...base, workers: 0 })).toThrow(/scenario.workers must be an integer in \[1, 32\]/);
    expect(() => normalizeScenario({ ...base, thresholds: ['p99 < fast'] })).toThrow(/bad threshold/);
    expect(() => normalizeScenario({ ...base, request: { factory: 'static', path: 'no-slash' } })).toThrow(/request.path/);
    expect(() => normalizeScenario({ ...base, request: { factory: 'carrier-pigeon' } })).toThrow(/request.factory/);
    expect(() => normalizeScenario({ ...base, request: { factory: 'binance-order', takerShare: 0.8, cancelShare: 0.5 } })).toThrow(/<= 1/);
    expect(() => normalizeScenario({ ...base, generator: { maxLagP99Ms: -1 } })).toThrow(/generator.maxLagP99Ms/);
    expect(() => normalizeScenario({ ...base, preconnectPerWorker: 9999 })).toThrow(/preconnectPerWorker/);
  });

  it('rejects scenario files it cannot use, naming the file', async () => {
    await expect(loadScenarioFile('/nonexistent/s.json')).rejects.toThrow(/cannot read scenario \/nonexistent\/s.json: ENOENT/);
    await expect(loadScenarioFile('/tmp/s.yaml')).rejects.toThrow(/expected a .json, .ts or .js file/);
  });
});

describe('request factories', () => {
  it('static with a sequence header', async () => {
    const s = normalizeScenario({ name: 'x', profile: { kind: 'constant', rate: 1, duration: 1 }, request: { factory: 'static', path: '/p', seqHeader: 'x-seq', headers: { a: 'b' } } });
    const f = await createFactory(s.request, ctx);
    expect(f.next(7, 0)).toMatchObject({ method: 'GET', path: '/p', headers: { a: 'b', 'x-seq': '7' } });
  });

  it('the Binance flow signs every request and needs accounts', async () => {
    const decl = normalizeScenario({
      name: 'o', profile: { kind: 'constant', rate: 1, duration: 1 },
      request: { factory: 'binance-order', accounts: [{ apiKey: 'k', secretKey: 's' }], cancelShare: 0.4 },
    }).request;
    const f = await createFactory(decl, ctx);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const r = f.next(i, 0);
      seen.add(`${r.method} ${r.op}`);
      const q = r.method === 'POST' ? r.body! : r.path.split('?')[1]!;
      const [payload, sig] = q.split('&signature=');
      expect(sig).toBe(createHmac('sha256', 's').update(payload!).digest('hex'));
      expect(payload).toMatch(/&recvWindow=5000&timestamp=\d{13}$/);
      expect(r.headers!['x-mbx-apikey']).toBe('k');
      if (r.method === 'POST') expect(payload).toMatch(/^symbol=BTCUSDT&side=(BUY|SELL)&type=LIMIT&timeInForce=(GTC|IOC)&quantity=0\.\d{3}&price=\d+\.\d&newClientOrderId=[a-z0-9]+-0-\d+&newOrderRespType=ACK/);
    }
    expect(seen).toEqual(new Set(['POST place', 'DELETE cancel']));
    expect(f.onResponse!(f.next(0, 0), 200, '{"orderId":5,"status":"NEW","executedQty":"0"}')).toEqual({ orderId: 5, status: 'NEW', executedQty: '0' });
    expect(f.onResponse!(f.next(0, 0), 400, '{"code":-2019,"msg":"no"}')).toEqual({ code: -2019, msg: 'no' });
    const none = normalizeScenario({ name: 'o', profile: { kind: 'constant', rate: 1, duration: 1 }, request: { factory: 'binance-order' } }).request;
    await expect(createFactory(none, ctx)).rejects.toThrow(/needs request.accounts/);
  });

  it('a module factory is loaded relative to the scenario', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perpx-factory-'));
    try {
      writeFileSync(join(dir, 'flow.mjs'), 'export function make(opts, ctx) { return { wantsBody: false, next: (seq) => ({ method: "GET", path: `/${opts.prefix}/${ctx.workerIndex}/${seq}`, op: "custom" }) }; }\n');
      writeFileSync(join(dir, 's.json'), JSON.stringify({ name: 'm', profile: { kind: 'constant', rate: 1, duration: 1 }, request: { factory: 'module', module: './flow.mjs', export: 'make', options: { prefix: 'p' } } }));
      const s = await loadScenarioFile(join(dir, 's.json'));
      const f = await createFactory(s.request, { ...ctx, workerIndex: 3 });
      expect(f.next(9, 0)).toEqual({ method: 'GET', path: '/p/3/9', op: 'custom' });
      writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 'm', profile: { kind: 'constant', rate: 1, duration: 1 }, request: { factory: 'module', module: './flow.mjs', export: 'nope' } }));
      await expect(createFactory((await loadScenarioFile(join(dir, 'bad.json'))).request, ctx)).rejects.toThrow(/no exported function nope/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
