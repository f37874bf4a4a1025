// End to end with a real Prometheus (Debian's /usr/bin/prometheus, installed by .ci/run):
//   1. promtool accepts dashboards/prometheus.yml and every rule file, and `promtool test rules
//      dashboards/rules.test.yml` (every alert fires on a synthetic failure, not on health) passes;
//   2. the committed Grafana JSON is what dashboards/build.ts generates, importable (datasource
//      `${DS_PROMETHEUS}` as an input and a variable), and names only metrics perpx exports;
//   3. Prometheus (random free port, temp storage, 1 s scrape and rule interval, the repo's rule
//      files) scrapes an embedded perpx serve and the load generator's exporter during a short
//      signed-order load; then EVERY dashboard panel query (template variables substituted the
//      way Grafana does: each variable's label values as a regex alternation, $__rate_interval =
//      20 s) and EVERY rule expression is evaluated through /api/v1/query and must return data.
// Alerts that must not fire here (shed load, SLO, slow fsync, cascade, down) have an empty
// result for their full expression by design; for those the test evaluates the expression
// without its final comparison (the metric part must return data) and checks via /api/v1/rules
// that Prometheus loaded the rule and evaluates it with health "ok".
// A missing /usr/bin/prometheus FAILS the test (it is not skipped).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import WebSocket from 'ws';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { adminPost, startEmbeddedServer } from '../../harness/embedded-server.ts';
import type { EmbeddedServer } from '../../harness/embedded-server.ts';
import { runLoad } from '../../harness/load.ts';
import type { Scenario } from '../../harness/scenario.ts';
import { startGeneratorExporter } from '../generator-exporter.ts';
import type { GeneratorExporter } from '../generator-exporter.ts';
import { dashboardFiles } from '../build.ts';
import { renderPreview, resolveVariables, substitute } from '../preview.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const DASH = resolve(import.meta.dirname, '..');
const RULE_FILES = readdirSync(join(DASH, 'rules')).filter((f) => f.endsWith('.yml')).map((f) => join(DASH, 'rules', f));
/** What Grafana's $__rate_interval becomes here: covers the last seconds of the load at a 1 s scrape. */
const RATE_INTERVAL = '20s';

interface Target { dashboard: string; panel: string; expr: string }
interface Rule { name: string; type: 'recording' | 'alerting'; expr: string }
interface PromSample { metric: Record<string, string>; value: [number, string] }

const tmp = mkdtempSync(join(tmpdir(), 'perpx-prometheus-'));
let server: EmbeddedServer | null = null;
let exporter: GeneratorExporter | null = null;
let prom: ChildProcess | null = null;
let promUrl = '';
let promLog = '';
let perpxMetricsText = '';
let loadgenMetricsText = '';
let loadStartS = 0;

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

async function query(expr: string): Promise<PromSample[]> {
  const res = await fetch(`${promUrl}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: expr }).toString() });
  const body = await res.json() as { status: string; error?: string; data?: { resultType: string; result: PromSample[] | [number, string] } };
  if (body.status !== 'success') throw new Error(`query failed: ${body.error ?? res.status}: ${expr}`);
  const r = body.data!.result;
  if (body.data!.resultType === 'scalar') return [{ metric: {}, value: r as [number, string] }];
  return r as PromSample[];
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; prometheus log tail:\n${promLog.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function dashboards(): { file: string; json: Record<string, any> }[] {
  return readdirSync(join(DASH, 'grafana')).filter((f) => f.endsWith('.json')).map((f) => ({ file: f, json: JSON.parse(readFileSync(join(DASH, 'grafana', f), 'utf8')) }));
}

function targets(): Target[] {
  const out: Target[] = [];
  for (const { file, json } of dashboards()) {
    for (const p of json.panels as any[]) {
      if (p.type === 'row') continue;
      for (const t of p.targets as any[]) out.push({ dashboard: file, panel: p.title, expr: t.expr });
    }
  }
  return out;
}

function rules(): Rule[] {
  // The rule files are plain YAML written by hand; promtool validated them above. Read the
  // record/alert names and their expr lines (single-line exprs, checked here).
  const out: Rule[] = [];
  for (const f of RULE_FILES) {
    let pending: { name: string; type: Rule['type'] } | null = null;
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const named = /^\s*- (record|alert): (\S+)\s*$/.exec(line);
      if (named !== null) pending = { name: named[2]!, type: named[1] === 'record' ? 'recording' : 'alerting' };
      const e = /^\s*expr: (.+)$/.exec(line);
      if (e !== null) {
        expect(pending, `expr without a rule name in ${f}`).not.toBeNull();
        out.push({ ...pending!, expr: e[1]!.trim() });
        pending = null;
      }
    }
  }
  return out;
}

/** Grafana-style: $var → (v1|v2|…) of the variable's label values (dashboards/preview.ts), every variable non-empty. */
async function substituteVariables(json: Record<string, any>, expr: string): Promise<string> {
  const values = await resolveVariables(promUrl, json);
  for (const [name, v] of Object.entries(values)) expect(v, `variable ${name} has values`).not.toBe('.*');
  const out = substitute(expr, values, RATE_INTERVAL);
  expect(out, 'no template variable left').not.toMatch(/\$\w/);
  return out;
}

/** The expression without a final `> number` / `== number` comparison (the alert's metric part). */
function withoutComparison(expr: string): string | null {
  const m = /^(.*\S)\s*(>|<|>=|<=|==|!=)\s*-?[0-9.]+(e[+-]?\d+)?\s*$/s.exec(expr);
  return m === null ? null : m[1]!;
}

function hasFiniteValue(r: PromSample[]): boolean {
  return r.some((s) => Number.isFinite(Number(s.value[1])));
}

beforeAll(async () => {
  if (!existsSync(PROMETHEUS) || !existsSync(PROMTOOL)) {
    throw new Error(`${PROMETHEUS} / ${PROMTOOL} not found: install Debian's prometheus package (apt-get install -y prometheus; .ci/run does this)`);
  }
  server = await startEmbeddedServer({ dataDir: join(tmp, 'perpx-data'), logFile: join(tmp, 'perpx.log') });
  exporter = await startGeneratorExporter({ scenario: 'prometheus-test' });
  const promPort = await freePort();
  promUrl = `http://127.0.0.1:${promPort}`;
  const perpxTarget = new URL(server.url).host;
  const config = [
    'global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}',
    'rule_files:', ...RULE_FILES.map((f) => `  - ${JSON.stringify(f)}`),
    'scrape_configs:',
    `  - {job_name: perpx, static_configs: [{targets: [${JSON.stringify(perpxTarget)}]}]}`,
    `  - {job_name: perpx-loadgen, static_configs: [{targets: [${JSON.stringify(`127.0.0.1:${exporter.port}`)}]}]}`,
  ].join('\n');
  writeFileSync(join(tmp, 'prometheus.yml'), `${config}\n`);
  prom = spawn(PROMETHEUS, [
    `--config.file=${join(tmp, 'prometheus.yml')}`, `--storage.tsdb.path=${join(tmp, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`,
    '--storage.tsdb.retention.time=1h', '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  prom.stdout!.on('data', (d: Buffer) => { promLog = (promLog + d.toString()).slice(-20_000); });
  prom.stderr!.on('data', (d: Buffer) => { promLog = (promLog + d.toString()).slice(-20_000); });
  await waitFor('prometheus ready', async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000);

  // A short signed-order load: makers, IOC takers, cancels (some cancels answer -2011).
  await adminPost(server.url, server.adminToken, 'indexPrice', { symbol: 'BTCUSDT', price: '50000' });
  const accounts: { apiKey: string; secretKey: string }[] = [];
  for (let i = 0; i < 4; i++) {
    const a = await adminPost(server.url, server.adminToken, 'account', { deposit: '1000000' });
    accounts.push({ apiKey: String(a.apiKey), secretKey: String(a.secretKey) });
  }
  const scenario = {
    name: 'prometheus-test', seed: 11, arrivals: 'poisson', workers: 1,
    profile: { kind: 'constant', rate: 250, duration: '10s' },
    request: { factory: 'binance-order', symbol: 'BTCUSDT', midPrice: 50_000, tickSize: 0.1, stepSize: 0.001, minQtySteps: 3, maxQtySteps: 30, takerShare: 0.3, cancelShare: 0.25, accounts },
  } as Scenario;
  // Two market-stream subscribers so the WebSocket panels carry traffic, not only zeros.
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/stream?streams=btcusdt@depth@100ms/btcusdt@aggTrade`;
  const sockets = [new WebSocket(wsUrl), new WebSocket(wsUrl)];
  let wsMessages = 0;
  await Promise.all(sockets.map((ws) => new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
    ws.on('message', () => { wsMessages++; });
  })));
  loadStartS = Date.now() / 1000;
  const result = await runLoad({ scenario, target: server.url, onProgress: exporter.onProgress });
  expect(result.totals.completed).toBeGreaterThan(1000);
  expect(wsMessages).toBeGreaterThan(0);
  for (const ws of sockets) ws.close();
  exporter.finish();
  // Samples from after the load: every target scraped at least twice more, rules evaluated.
  const after = Date.now() / 1000;
  await waitFor('post-load scrapes', async () => {
    const r = await query('min(timestamp(up))');
    return r.length === 1 && Number(r[0]!.value[1]) > after + 1;
  }, 15_000);
  perpxMetricsText = await (await fetch(`${server.url}/metrics`)).text();
  loadgenMetricsText = await (await fetch(`${exporter.url}/metrics`)).text();
}, 80_000);

afterAll(async () => {
  if (prom !== null && prom.exitCode === null) {
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    const t = setTimeout(() => prom!.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
  await exporter?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('Prometheus config, rules and Grafana dashboards', () => {
  it('promtool check config and check rules pass', () => {
    const cfg = spawnSync(PROMTOOL, ['check', 'config', join(DASH, 'prometheus.yml')], { encoding: 'utf8' });
    expect(cfg.status, cfg.stdout + cfg.stderr).toBe(0);
    const rls = spawnSync(PROMTOOL, ['check', 'rules', ...RULE_FILES], { encoding: 'utf8' });
    expect(rls.status, rls.stdout + rls.stderr).toBe(0);
    expect(rls.stdout).toMatch(/SUCCESS: \d+ rules found/);
    // Each alert fires on a synthetic series shaped like its failure and not on a healthy one.
    const unit = spawnSync(PROMTOOL, ['test', 'rules', join(DASH, 'rules.test.yml')], { encoding: 'utf8' });
    expect(unit.status, unit.stdout + unit.stderr).toBe(0);
  });

  it('the committed dashboards are what build.ts generates, importable with ${DS_PROMETHEUS}', () => {
    const built = dashboardFiles();
    expect(dashboards().map((d) => d.file).sort()).toEqual(built.map((b) => b.file).sort());
    for (const b of built) {
      expect(readFileSync(join(DASH, 'grafana', b.file), 'utf8'), `${b.file} is stale: npx node dashboards/build.ts`).toBe(b.json);
    }
    for (const { file, json } of dashboards()) {
      expect(json.__inputs, file).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
      expect(json.templating.list.find((v: any) => v.name === 'DS_PROMETHEUS')?.type, file).toBe('datasource');
      expect(typeof json.uid === 'string' && json.uid.length > 0 && json.uid.length <= 40, file).toBe(true);
      const ids = (json.panels as any[]).map((p) => p.id);
      expect(new Set(ids).size, `${file}: unique panel ids`).toBe(ids.length);
      for (const p of json.panels as any[]) {
        expect(p.gridPos, `${file} ${p.title}`).toEqual(expect.objectContaining({ h: expect.any(Number), w: expect.any(Number), x: expect.any(Number), y: expect.any(Number) }));
        if (p.type === 'row') continue;
        expect(p.datasource, `${file} ${p.title}`).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
        expect(p.targets.length, `${file} ${p.title}`).toBeGreaterThan(0);
        for (const t of p.targets) expect(t.datasource, `${file} ${p.title}`).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      }
    }
  });

  it('dashboards and rules name only metrics perpx and its load generator export', () => {
    const exported = new Set<string>();
    for (const line of `${perpxMetricsText}\n${loadgenMetricsText}`.split('\n')) {
      const m = /^([a-z_:][a-z0-9_:]*)[{ ]/.exec(line);
      if (m !== null) exported.add(m[1]!);
    }
    expect(exported.size).toBeGreaterThan(30);
    const used = new Set<string>();
    for (const e of [...targets().map((t) => t.expr), ...rules().map((r) => r.expr)]) for (const m of e.matchAll(/\bperpx_[a-z0-9_]+/g)) used.add(m[0]);
    const missing = [...used].filter((n) => !exported.has(n));
    expect(missing).toEqual([]);
  });

  it('every dashboard panel query returns data from the scraped perpx and load generator', async () => {
    const empty: string[] = [];
    const all = targets();
    expect(all.length).toBeGreaterThan(30);
    const files = Object.fromEntries(dashboards().map((d) => [d.file, d.json]));
    for (const t of all) {
      const expr = await substituteVariables(files[t.dashboard]!, t.expr);
      const r = await query(expr);
      if (r.length === 0 || !hasFiniteValue(r)) empty.push(`${t.dashboard} / ${t.panel}: ${expr} → ${JSON.stringify(r).slice(0, 200)}`);
    }
    expect(empty).toEqual([]);
  }, 30_000);

  it('every rule is loaded and healthy, every recording rule and every alert\'s metric part returns data', async () => {
    const all = rules();
    expect(all.filter((r) => r.type === 'recording').length).toBeGreaterThanOrEqual(5);
    expect(all.map((r) => r.name)).toEqual(expect.arrayContaining(['PerpxShedLoad', 'PerpxOrderP99OverSLO', 'PerpxJournalFsyncSlow', 'PerpxEventLoopBlocked', 'PerpxLiquidationCascade']));
    const res = await (await fetch(`${promUrl}/api/v1/rules`)).json() as { data: { groups: { rules: { name: string; health: string; lastError?: string; type: string }[] }[] } };
    const loaded = new Map(res.data.groups.flatMap((g) => g.rules).map((r) => [r.name, r]));
    const problems: string[] = [];
    for (const rule of all) {
      const l = loaded.get(rule.name);
      if (l === undefined) problems.push(`${rule.name}: not loaded by Prometheus`);
      else if (l.health !== 'ok') problems.push(`${rule.name}: health ${l.health} ${l.lastError ?? ''}`);
      const r = await query(rule.expr);
      if (rule.type === 'recording') {
        if (r.length === 0) problems.push(`${rule.name}: recording expression returned no data: ${rule.expr}`);
        const recorded = await query(rule.name);
        if (recorded.length === 0) problems.push(`${rule.name}: no recorded series yet`);
        continue;
      }
      if (r.length > 0) continue; // the alert would fire: its expression has data
      const metric = withoutComparison(rule.expr);
      if (metric === null) problems.push(`${rule.name}: empty and no trailing comparison to strip: ${rule.expr}`);
      else if ((await query(metric)).length === 0) problems.push(`${rule.name}: metric part returned no data: ${metric}`);
    }
    expect(problems).toEqual([]);
  }, 30_000);

  it('renders a Grafana-less preview of every dashboard with data in every panel (screenshots with PERPX_UPDATE_SCREENSHOTS=1)', async () => {
    const endS = Date.now() / 1000;
    for (const { file, json } of dashboards()) {
      const r = await renderPreview({ promUrl, dashboard: json, startS: loadStartS - 2, endS, stepS: 1, rateInterval: '5s' });
      expect(r.emptyPanels, file).toEqual([]);
      expect(r.panels).toBe((json.panels as any[]).filter((p) => p.type !== 'row').length);
      expect((r.html.match(/<svg class="chart"/g) ?? []).length + (r.html.match(/class="stat"/g) ?? []).length, file).toBe(r.panels);
      writeFileSync(join(tmp, file.replace(/\.json$/, '.html')), r.html);
      if (process.env.PERPX_UPDATE_SCREENSHOTS === '1') {
        const { launchChromium } = await import('./browser.ts');
        const browser = await launchChromium();
        try {
          const page = await browser.newPage({ viewport: { width: 1220, height: 900 } });
          await page.setContent(r.html);
          await page.screenshot({ path: resolve(DASH, '..', 'docs', `dashboard-${json.uid}.png`), fullPage: true });
        } finally {
          await browser.close();
        }
      }
    }
  }, 60_000);
});
