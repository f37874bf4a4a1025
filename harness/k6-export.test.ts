// k6 cannot be installed here, so the exported script is tested by structure and by execution
// with stubbed k6 modules: its `import` lines are replaced by stubs, the module is wrapped in
// `new Function`, and we read its `options` and call its default function. This proves the
// options (ramping-arrival-rate stages equal to the harness profile, thresholds), and that the
// signed order flow it sends is byte-for-byte the harness's flow for the same seed, with
// Binance signatures that verify.

import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { exportK6, k6Rates } from './k6-export.ts';
import { normalizeScenario } from './scenario.ts';
import { compileProfile, toK6Stages } from './profile.ts';
import { BinanceFlowState, normalizeBinanceFlow, signedQuery } from './binance-flow.ts';

interface Captured {
  method: string;
  url: string;
  body: string | null;
  params: { headers: Record<string, string>; tags: Record<string, string> };
}

const FIXED_NOW = 1_760_000_000_000;

/** Loads a k6 script with stubbed k6 modules; returns its options and default function. */
function loadK6(script: string, env: Record<string, string> = {}, vu = 1): { options: any; run: () => void; calls: Captured[] } {
  const calls: Captured[] = [];
  const http = {
    request: (method: string, url: string, body: string | null, params: Captured['params']) => (calls.push({ method, url, body, params }), { status: 200 }),
    post: (url: string, body: string, params: Captured['params']) => (calls.push({ method: 'POST', url, body, params }), { status: 200 }),
    del: (url: string, body: string | null, params: Captured['params']) => (calls.push({ method: 'DELETE', url, body, params }), { status: 200 }),
  };
  const crypto = { hmac: (alg: string, key: string, data: string, enc: 'hex') => createHmac(alg, key).update(data).digest(enc) };
  let iteration = 0;
  const exec = { scenario: { get iterationInTest() { return iteration++; } } };
  const FakeDate = { now: () => FIXED_NOW };
  const imports = script.match(/^import .*$/gm) ?? [];
  expect(imports).toEqual(["import http from 'k6/http';", "import crypto from 'k6/crypto';", "import { check } from 'k6';", "import exec from 'k6/execution';"]);
  const body = script
    .replace(/^import .*$/gm, '')
    .replace('export const options =', 'const options =')
    .replace('export default function', 'const __default = function');
  const factory = new Function('http', 'crypto', 'check', 'exec', '__ENV', '__VU', 'Date', `${body}\nreturn { options, run: __default };`);
  const mod = factory(http, crypto, () => true, exec, env, vu, FakeDate) as { options: unknown; run: () => void };
  return { options: mod.options, run: mod.run, calls };
}

const accounts = [{ apiKey: 'key-a', secretKey: 'secret-a' }, { apiKey: 'key-b', secretKey: 'secret-b' }];

describe('perpx k6 export', () => {
  it('binance flow: options mirror the profile and thresholds; requests equal the harness flow, signed', () => {
    const scenario = normalizeScenario({
      name: 'orders', seed: 9, arrivals: 'poisson',
      profile: { kind: 'spike', base: 100, peak: 1000, duration: 30, spikeAt: 10, spikeDuration: 5, rampTime: 1 },
      thresholds: ['p99 < 50ms', 'error_rate < 0.1%', 'lag.p99 < 1ms'],
      request: { factory: 'binance-order', runTag: 'k6t', takerShare: 0.3, cancelShare: 0.3 },
    });
    const script = exportK6(scenario, { target: 'http://10.0.0.5:8080' });
    expect(script).toMatch(/Poisson arrivals; k6 arrival-rate executors send uniformly/);
    expect(script).toMatch(/Thresholds k6 cannot express \(kept by perpx only\): lag\.p99 < 1ms/);
    expect(script).not.toMatch(/secret-a/);

    const { options, run, calls } = loadK6(script, { PERPX_ACCOUNTS: JSON.stringify(accounts) });
    const exp = options.scenarios.perpx;
    expect(exp.executor).toBe('ramping-arrival-rate');
    expect(exp.timeUnit).toBe('1s');
    const k6 = toK6Stages(compileProfile(scenario.profile));
    expect(exp.startRate).toBe(k6.startRate);
    expect(exp.stages).toEqual(k6.stages);
    expect(exp.maxVUs).toBeGreaterThanOrEqual(exp.preAllocatedVUs);
    expect(options.thresholds).toEqual({ http_req_duration: ['p(99)<50'], http_req_failed: ['rate<0.001'] });

    for (let i = 0; i < 300; i++) run();
    const flow = new BinanceFlowState(normalizeBinanceFlow({ ...(scenario.request as object), accounts }), 0, scenario.seed);
    let cancels = 0;
    calls.forEach((c, i) => {
      const step = flow.step();
      const acct = accounts[step.account]!;
      const signed = signedQuery(step.params, 5000, FIXED_NOW, acct.secretKey);
      expect(c.method, `request ${i}`).toBe(step.method);
      expect(c.params.headers['X-MBX-APIKEY']).toBe(acct.apiKey);
      const query = c.method === 'POST' ? c.body! : c.url.split('?')[1]!;
      expect(query).toBe(signed);
      expect(c.url.startsWith('http://10.0.0.5:8080/fapi/v1/order')).toBe(true);
      // The signature is HMAC-SHA256 over everything before it, and it is the last parameter.
      const [payload, signature] = query.split('&signature=');
      expect(signature).toBe(createHmac('sha256', acct.secretKey).update(payload!).digest('hex'));
      if (c.method === 'DELETE') cancels++;
    });
    expect(cancels).toBeGreaterThan(30);
  });

  it('static flow, fractional rates, and bad factories', () => {
    const scenario = normalizeScenario({
      name: 'ping', profile: { kind: 'ramp', from: 0.5, to: 10.25, duration: '1m' },
      request: { factory: 'static', method: 'GET', path: '/fapi/v1/ping', seqHeader: 'x-seq' }, thresholds: ['service.max < 1s'],
    });
    const { options, run, calls } = loadK6(exportK6(scenario), { PERPX_URL: 'http://h:1/' });
    expect(options.scenarios.perpx.timeUnit).toBe('1m');
    expect(options.scenarios.perpx.startRate).toBe(30);
    expect(options.scenarios.perpx.stages).toEqual([{ target: 615, duration: '60s' }]);
    expect(options.thresholds).toEqual({ http_req_duration: ['max<1000'] });
    run();
    run();
    expect(calls.map((c) => [c.method, c.url, c.params.headers['x-seq']])).toEqual([['GET', 'http://h:1/fapi/v1/ping', '0'], ['GET', 'http://h:1/fapi/v1/ping', '1']]);
    expect(k6Rates(100, [200, 0])).toEqual({ timeUnit: '1s', scale: 1 });

    const mod = normalizeScenario({ name: 'm', profile: { kind: 'constant', rate: 1, duration: 1 }, request: { factory: 'module', module: './x.ts' } });
    expect(() => exportK6(mod)).toThrow(/static and binance-order/);
  });

  it('without accounts the binance script refuses to start, naming PERPX_ACCOUNTS', () => {
    const scenario = normalizeScenario({ name: 'o', profile: { kind: 'constant', rate: 10, duration: 5 }, request: { factory: 'binance-order' } });
    expect(() => loadK6(exportK6(scenario))).toThrow(/PERPX_ACCOUNTS/);
  });
});
