// Gateway benchmark: `npm run bench:gateway` (pretty JSON) or `npm run -s bench:gateway -- --json`
// (exactly one JSON object on stdout; progress on stderr).
//
// Method (README: engine/telemetry/README-section.md)
// - Same machine, same run, same load tool. Every server runs in its own child process
//   (fresh state per run); this process is the load generator and shares the machine's
//   cores with the server (2 cores here: the numbers are a lower bound of what a dedicated
//   load machine would see, and every ratio is taken between runs that share that handicap).
// - HTTP: autocannon (programmatic), fixed connections and duration, pipelining 1, one
//   discarded warm-up run first. Every request is built by setupRequest: a signed
//   POST /fapi/v1/order form body (HMAC-SHA256 per request, varying side/price/TIF/qty, a
//   unique newClientOrderId), sent alike to the bare node:http handler (which parses the
//   form and answers 200) and to perpx. Latency: each response's time from autocannon's
//   'response' event into an HDR histogram in µs (autocannon's own percentiles are whole ms);
//   closed loop, so no coordinated-omission correction applies.
// - WebSocket: autocannon speaks HTTP only, so a small loop here: N connections, each keeping
//   `depth` requests in flight (send one per reply), the same signed order.place message for
//   the bare `ws` echo server and for perpx's /ws-fapi/v1; both replies are JSON-parsed to
//   match the id.
// - Orders are realistic: accounts created and funded through the admin API, rate limits off,
//   BTCUSDT index 60000, prices mid ± 1.0 (so about half cross and trade), half GTC half IOC
//   (the book stays bounded: crossing orders consume what rests in the band).
// - Telemetry overhead: perpx REST orders with telemetry off, metrics + parent-based 1% traces
//   (the default), and 100% traces; traces go over OTLP http/protobuf (the default protocol) to
//   a sink in this process, so span encoding and export are part of the cost.
// - Server CPU: the child's process.cpuUsage() (all threads) over the measured window, per
//   answered request (`cpu_us_per_req`), read over IPC. On a shared machine it moves far less
//   than req/s, and when the load generator (not the server) is the bottleneck — likely for
//   the bare servers on 2 cores — the CPU ratio is the fairer comparison; both are reported.
// - Rounds: every configuration once per round, in the same order; medians over rounds, and
//   each ratio is the median of the per-round ratios (back-to-back pairs).
//
// Options: --json, --duration <s> (10), --connections <n> (32), --ws-connections <n> (8),
// --ws-depth <n> (16), --rounds <n> (3), --accounts <n> (64). `--serve <json>` is internal.

import { createHmac } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import hdr from 'hdr-histogram-js';
import { WebSocket, WebSocketServer } from 'ws';
import { btcusdt, defaultConfig } from '../engine/core/config.ts';
import type { EngineConfig } from '../engine/core/config.ts';
import { startGateway } from '../engine/gateway/server.ts';
import type { ExchangeHost } from '../engine/host/host.ts';
import { InProcessHost } from '../engine/host/in-process-host.ts';
import type { TelemetryOptions } from '../engine/telemetry/telemetry.ts';
import { median, round3 } from './measure.ts';

const HERE = fileURLToPath(import.meta.url);
const FACTORY = new URL('../engine/host/factory.ts', import.meta.url);
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const DEPOSIT = '1000000';
const WARMUP_S = 2;
/** Targets of issue 4. */
const TARGET_REST_VS_HTTP = 0.6;
const TARGET_WS_VS_ECHO = 0.5;
const TARGET_TELEMETRY_COST = 0.05;

// ---- what a load run reports --------------------------------------------------------------

export interface RunResult {
  req_per_s: number;
  p50_us: number;
  p99_us: number;
  requests: number;
  /** Non-2xx HTTP answers, WS API errors, transport errors. */
  errors: number;
  /**
   * Server process CPU time (all its threads, user + system) per answered request, over the
   * measured window. Unlike req/s it hardly moves when other work shares the cores.
   */
  cpu_us_per_req: number;
}

interface Account {
  accountId: number;
  apiKey: string;
  secretKey: string;
}

function newLatencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

function summarize(h: hdr.Histogram, completed: number, errors: number, seconds: number): RunResult {
  return {
    req_per_s: Math.round(completed / seconds),
    p50_us: h.totalCount > 0 ? h.getValueAtPercentile(50) : 0,
    p99_us: h.totalCount > 0 ? h.getValueAtPercentile(99) : 0,
    requests: completed,
    errors,
    cpu_us_per_req: 0,
  };
}

// ---- orders --------------------------------------------------------------------------------

/** A small deterministic generator per load run (the order mix, not security). */
export class OrderMix {
  private s: number;
  private n = 0;
  private readonly tag: string;

  constructor(seed: number, tag: string) {
    this.s = seed >>> 0 || 1;
    this.tag = tag;
  }

  private next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 0x1_0000_0000;
  }

  /** Order parameters in Binance field order (no timestamp/signature yet). */
  params(): [string, string][] {
    const side = this.next() < 0.5 ? 'BUY' : 'SELL';
    const tif = this.next() < 0.5 ? 'GTC' : 'IOC';
    const priceTicks = 600_000 + Math.floor(this.next() * 21) - 10; // 60000.0 ± 1.0, tick 0.1
    const qty = (2 + Math.floor(this.next() * 4)) / 1000; // 0.002..0.005 BTC (≥ 100 USDT notional)
    return [
      ['symbol', 'BTCUSDT'], ['side', side], ['type', 'LIMIT'], ['timeInForce', tif], ['quantity', qty.toFixed(3)],
      ['price', (priceTicks / 10).toFixed(1)], ['newClientOrderId', `${this.tag}-${++this.n}`], ['recvWindow', '60000'],
    ];
  }
}

/** Binance REST signing: form-encoded params + timestamp, then `&signature=<hex hmac>`. */
export function signedForm(secret: string, params: [string, string][], timestamp: number): string {
  let q = '';
  for (const [k, v] of params) q += `${k}=${v}&`;
  q += `timestamp=${timestamp}`;
  return `${q}&signature=${createHmac('sha256', secret).update(q).digest('hex')}`;
}

/** WS API signing: every param but signature, sorted by name, `k=v` joined by '&'. */
export function signedWsOrder(id: number, acct: Account, params: [string, string][], timestamp: number): string {
  const all: [string, string][] = [...params, ['apiKey', acct.apiKey], ['timestamp', String(timestamp)]];
  all.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const payload = all.map(([k, v]) => `${k}=${v}`).join('&');
  const p: Record<string, string> = Object.fromEntries(all);
  p.signature = createHmac('sha256', acct.secretKey).update(payload).digest('hex');
  return JSON.stringify({ id, method: 'order.place', params: p });
}

// ---- HTTP load (autocannon) -----------------------------------------------------------------

interface AutocannonInstance {
  on(event: 'response', fn: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void): void;
  on(event: 'done', fn: (result: { errors: number; timeouts: number; non2xx: number }) => void): void;
}
type AutocannonFn = (opts: Record<string, unknown>) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)('autocannon') as AutocannonFn;

/** Closed-loop signed order POSTs for `seconds`; latency per response in µs. */
export function httpOrderLoad(url: string, accounts: Account[], connections: number, seconds: number, seed: number): Promise<RunResult> {
  const mix = new OrderMix(seed, `h${seed}`);
  let k = 0;
  const h = newLatencyHistogram();
  let ok = 0;
  let bad = 0;
  const setupRequest = (req: Record<string, unknown>) => {
    const acct = accounts[k++ % accounts.length]!;
    req.body = signedForm(acct.secretKey, mix.params(), Date.now());
    req.headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-mbx-apikey': acct.apiKey };
    return req;
  };
  return new Promise((resolve) => {
    const inst = autocannon({
      url, connections, pipelining: 1, duration: seconds,
      requests: [{ method: 'POST', path: '/fapi/v1/order', setupRequest }],
    });
    inst.on('response', (_c, status, _b, ms) => {
      if (status >= 200 && status < 300) {
        ok++;
        h.recordValue(Math.max(1, Math.round(ms * 1000)));
      } else bad++;
    });
    inst.on('done', (r) => resolve(summarize(h, ok, bad + r.errors + r.timeouts, seconds)));
  });
}

// ---- WebSocket load ------------------------------------------------------------------------

/**
 * `connections` sockets, each keeping `depth` signed order.place requests in flight for
 * `seconds`. Replies are JSON-parsed for their id (echo: the request itself; perpx: the
 * WS API answer, status 200 or an error).
 */
export async function wsOrderLoad(url: string, accounts: Account[], connections: number, depth: number, seconds: number, seed: number): Promise<RunResult> {
  const h = newLatencyHistogram();
  let ok = 0;
  let bad = 0;
  let nextId = 1;
  let sending = true;
  const mix = new OrderMix(seed, `w${seed}`);
  const socks = await Promise.all(Array.from({ length: connections }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })));
  const sentAt = new Map<number, number>();
  let inflight = 0;
  const sendOne = (ws: WebSocket, c: number) => {
    const id = nextId++;
    const acct = accounts[(c + id) % accounts.length]!;
    sentAt.set(id, performance.now());
    inflight++;
    ws.send(signedWsOrder(id, acct, mix.params(), Date.now()));
  };
  let drained: (() => void) | null = null;
  socks.forEach((ws, c) => {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { id: number; status?: number; method?: string };
      const t0 = sentAt.get(m.id);
      inflight--;
      if (t0 !== undefined) {
        sentAt.delete(m.id);
        if (m.status === 200 || m.method === 'order.place') {
          ok++;
          h.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        } else bad++;
      }
      if (sending) sendOne(ws, c);
      else if (inflight === 0) drained?.();
    });
    ws.on('error', () => { bad++; });
  });
  const start = performance.now();
  socks.forEach((ws, c) => { for (let i = 0; i < depth; i++) sendOne(ws, c); });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  sending = false;
  const elapsedS = (performance.now() - start) / 1000;
  const counted = { ok, bad };
  await Promise.race([new Promise<void>((r) => { drained = r; if (inflight === 0) r(); }), new Promise((r) => setTimeout(r, 2_000))]);
  for (const ws of socks) ws.terminate();
  return summarize(h, counted.ok, counted.bad, elapsedS);
}

// ---- OTLP sink (this process) --------------------------------------------------------------

export interface Sink {
  url: string;
  requests: number;
  bytes: number;
  close(): void;
}

export async function startSink(): Promise<Sink> {
  const sink: Sink = { url: '', requests: 0, bytes: 0, close: () => server.close() };
  const server: Server = createServer((req, res) => {
    req.on('data', (d: Buffer) => { sink.bytes += d.length; });
    req.on('end', () => {
      sink.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return sink;
}

// ---- servers (child processes) -------------------------------------------------------------

export type ServerSpec =
  | { kind: 'bare-http' }
  | { kind: 'bare-ws' }
  | { kind: 'perpx'; host: 'in-process' | 'none' | 'fsync'; telemetry: 'off' | 'sampled' | 'full'; sink: string };

export function benchConfig(): EngineConfig {
  return defaultConfig({ maxAccounts: 1_024, symbols: [btcusdt({ maxOpenOrdersPerAccount: 10_000 })] });
}

export function factoryAvailable(): boolean {
  return existsSync(FACTORY);
}

async function makeHost(spec: Extract<ServerSpec, { kind: 'perpx' }>, dataDir: string): Promise<ExchangeHost> {
  const config = benchConfig();
  if (spec.host === 'in-process') return new InProcessHost(config, { clock: { now: Date.now } });
  const mod = await import(FACTORY.href) as { createHost: (o: Record<string, unknown>) => ExchangeHost | Promise<ExchangeHost> };
  return await mod.createHost({ config, policy: spec.host, dataDir, clockTickMs: 100 });
}

function telemetryOptions(spec: Extract<ServerSpec, { kind: 'perpx' }>): TelemetryOptions | false {
  if (spec.telemetry === 'off') return false;
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: spec.sink, OTEL_SERVICE_NAME: 'perpx-bench' };
  return spec.telemetry === 'full' ? { env, sampler: 'parentbased_always_on' } : { env };
}

/** Child mode: start one server, print `{"url": …}` on stdout, serve until SIGTERM. */
export async function serve(spec: ServerSpec): Promise<{ url: string; close: () => Promise<void> }> {
  if (spec.kind === 'bare-http') {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const p = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const body = `{"symbol":"${p.get('symbol')}","side":"${p.get('side')}","price":"${p.get('price')}","status":"NEW"}`;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      });
    });
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
  }
  if (spec.kind === 'bare-ws') {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, close: () => new Promise((r) => wss.close(() => r())) };
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'perpx-gwbench-'));
  const host = await makeHost(spec, dataDir);
  const gw = await startGateway({ host, adminToken: ADMIN_TOKEN, noRateLimit: true, telemetry: telemetryOptions(spec), log: () => {} });
  return {
    url: gw.url,
    close: async () => {
      await gw.close();
      await host.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Child {
  proc: ChildProcess;
  url: string;
}

/** The server process's CPU time so far (µs, user + system, every thread), over IPC. */
function childCpuUs(c: Child): Promise<number> {
  return new Promise((resolve) => {
    c.proc.once('message', (m: { user: number; system: number }) => resolve(m.user + m.system));
    c.proc.send('cpu');
  });
}

function startChild(spec: ServerSpec): Promise<Child> {
  const proc = spawn(process.execPath, [HERE, '--serve', JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      proc.stdout!.off('data', onData);
      resolve({ proc, url: (JSON.parse(out.slice(0, nl)) as { url: string }).url });
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`server ${spec.kind} exited with ${code} before listening`)));
  });
}

function stopChild(c: Child): Promise<void> {
  return new Promise((resolve) => {
    if (c.proc.exitCode !== null) return resolve();
    const hard = setTimeout(() => c.proc.kill('SIGKILL'), 10_000);
    c.proc.once('exit', () => { clearTimeout(hard); resolve(); });
    c.proc.kill('SIGTERM');
  });
}

async function admin(url: string, p: string, params: Record<string, string>): Promise<unknown> {
  const res = await fetch(`${url}/admin/v1/${p}`, {
    method: 'POST', headers: { 'X-PERPX-ADMIN': ADMIN_TOKEN, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString(),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`admin ${p}: ${JSON.stringify(body)}`);
  return body;
}

/** Index price and funded accounts through the admin API (as an operator would). */
export async function setUpAccounts(url: string, n: number): Promise<Account[]> {
  await admin(url, 'indexPrice', { symbol: 'BTCUSDT', price: '60000' });
  const out: Account[] = [];
  for (let i = 0; i < n; i++) out.push(await admin(url, 'account', { deposit: DEPOSIT }) as Account);
  return out;
}

/** Throwaway accounts for the bare servers (they never check a signature; the load is the same). */
function fakeAccounts(n: number): Account[] {
  return Array.from({ length: n }, (_, i) => ({ accountId: i, apiKey: `k${i}`.padEnd(64, 'x'), secretKey: `s${i}`.padEnd(64, 'y') }));
}

// ---- the runs ------------------------------------------------------------------------------

export interface Opts {
  duration: number;
  warmupS: number;
  connections: number;
  wsConnections: number;
  wsDepth: number;
  rounds: number;
  accounts: number;
}

export type ConfigName = 'bare_http' | 'rest_no_fsync' | 'rest_fsync' | 'tel_off' | 'tel_full' | 'bare_ws' | 'ws_order';

export interface Plan {
  name: ConfigName;
  spec: ServerSpec;
  protocol: 'http' | 'ws';
  /** perpx: accounts via the admin API. */
  perpx: boolean;
}

function plans(sink: string, wsAvailable: boolean, factory: boolean): Plan[] {
  const perpx = (host: 'in-process' | 'none' | 'fsync', telemetry: 'off' | 'sampled' | 'full'): ServerSpec => ({ kind: 'perpx', host, telemetry, sink });
  const base = factory ? 'none' : 'in-process';
  const list: Plan[] = [
    { name: 'bare_http', spec: { kind: 'bare-http' }, protocol: 'http', perpx: false },
    { name: 'rest_no_fsync', spec: perpx(base, 'sampled'), protocol: 'http', perpx: true },
    { name: 'tel_off', spec: perpx(base, 'off'), protocol: 'http', perpx: true },
    { name: 'tel_full', spec: perpx(base, 'full'), protocol: 'http', perpx: true },
    { name: 'bare_ws', spec: { kind: 'bare-ws' }, protocol: 'ws', perpx: false },
  ];
  if (factory) list.splice(2, 0, { name: 'rest_fsync', spec: perpx('fsync', 'sampled'), protocol: 'http', perpx: true });
  if (wsAvailable) list.push({ name: 'ws_order', spec: perpx(base, 'sampled'), protocol: 'ws', perpx: true });
  return list;
}

export async function runOne(plan: Plan, o: Opts, seed: number, log: (s: string) => void): Promise<RunResult> {
  const child = await startChild(plan.spec);
  try {
    const accounts = plan.perpx ? await setUpAccounts(child.url, o.accounts) : fakeAccounts(o.accounts);
    const wsUrl = plan.perpx ? `${child.url.replace(/^http/, 'ws')}/ws-fapi/v1` : child.url;
    const load = (seconds: number, s: number) => plan.protocol === 'http'
      ? httpOrderLoad(child.url, accounts, o.connections, seconds, s)
      : wsOrderLoad(wsUrl, accounts, o.wsConnections, o.wsDepth, seconds, s);
    await load(o.warmupS, seed + 1_000_000);
    const cpu0 = await childCpuUs(child);
    const r = await load(o.duration, seed);
    const cpu1 = await childCpuUs(child);
    r.cpu_us_per_req = r.requests > 0 ? round3((cpu1 - cpu0) / r.requests) : 0;
    return r;
  } catch (e) {
    log(`  ${plan.name}: ${(e as Error).message}`);
    throw e;
  } finally {
    await stopChild(child);
  }
}

function medianRun(runs: RunResult[]): RunResult & { req_per_s_runs: number[] } {
  return {
    req_per_s: Math.round(median(runs.map((r) => r.req_per_s))),
    p50_us: median(runs.map((r) => r.p50_us)),
    p99_us: median(runs.map((r) => r.p99_us)),
    requests: Math.round(median(runs.map((r) => r.requests))),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    cpu_us_per_req: round3(median(runs.map((r) => r.cpu_us_per_req))),
    req_per_s_runs: runs.map((r) => r.req_per_s),
  };
}

function ratioMedian(byRound: Map<ConfigName, RunResult>[], num: ConfigName, den: ConfigName): number | null {
  const xs = byRound.filter((m) => m.has(num) && m.has(den)).map((m) => m.get(num)!.req_per_s / m.get(den)!.req_per_s);
  return xs.length === 0 ? null : round3(median(xs));
}

/** den's CPU per request ÷ num's: the throughput ratio if both were CPU-bound on one core. */
function cpuRatioMedian(byRound: Map<ConfigName, RunResult>[], num: ConfigName, den: ConfigName): number | null {
  const xs = byRound.filter((m) => m.has(num) && m.has(den) && m.get(num)!.cpu_us_per_req > 0).map((m) => m.get(den)!.cpu_us_per_req / m.get(num)!.cpu_us_per_req);
  return xs.length === 0 ? null : round3(median(xs));
}

async function wsApiAvailable(): Promise<boolean> {
  return existsSync(new URL('../engine/gateway/ws/api.ts', import.meta.url));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '32' },
      'ws-connections': { type: 'string', default: '8' },
      'ws-depth': { type: 'string', default: '16' },
      rounds: { type: 'string', default: '3' },
      accounts: { type: 'string', default: '64' },
      serve: { type: 'string' },
    },
  });
  if (values.serve !== undefined) {
    const s = await serve(JSON.parse(values.serve) as ServerSpec);
    process.stdout.write(`${JSON.stringify({ url: s.url })}\n`);
    process.on('message', (m) => { if (m === 'cpu') process.send!(process.cpuUsage()); });
    process.on('SIGTERM', () => void s.close().then(() => process.exit(0), () => process.exit(1)));
    return;
  }
  const o: Opts = {
    duration: Number(values.duration), warmupS: WARMUP_S, connections: Number(values.connections), wsConnections: Number(values['ws-connections']),
    wsDepth: Number(values['ws-depth']), rounds: Number(values.rounds), accounts: Number(values.accounts),
  };
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const factory = factoryAvailable();
  const wsOk = await wsApiAvailable();
  const sink = await startSink();
  const list = plans(sink.url, wsOk, factory);
  const byRound: Map<ConfigName, RunResult>[] = [];
  const loadAvg: number[] = [];
  const spansBy: Partial<Record<ConfigName, { otlp_requests: number; otlp_bytes: number }>> = {};
  for (let round = 0; round < o.rounds; round++) {
    const m = new Map<ConfigName, RunResult>();
    for (const plan of list) {
      const before = { r: sink.requests, b: sink.bytes };
      const r = await runOne(plan, o, 1 + round * 100 + list.indexOf(plan), log);
      if (round === 0) spansBy[plan.name] = { otlp_requests: sink.requests - before.r, otlp_bytes: sink.bytes - before.b };
      m.set(plan.name, r);
      loadAvg.push(round3(os.loadavg()[0]!));
      log(`round ${round + 1}/${o.rounds} ${plan.name.padEnd(14)} ${String(r.req_per_s).padStart(7)} req/s  p50 ${r.p50_us} µs  p99 ${r.p99_us} µs  cpu ${r.cpu_us_per_req} µs/req  errors ${r.errors}  (load avg ${os.loadavg()[0]!.toFixed(2)})`);
    }
    byRound.push(m);
  }
  sink.close();
  const med = (n: ConfigName) => {
    const runs = byRound.map((m) => m.get(n)).filter((r): r is RunResult => r !== undefined);
    return runs.length === 0 ? null : medianRun(runs);
  };
  const inProcess = factory ? 'journal host via engine/host/factory.ts' : 'in-process host (InProcessHost, no journal)';
  const restVsHttp = ratioMedian(byRound, 'rest_no_fsync', 'bare_http');
  const wsVsEcho = ratioMedian(byRound, 'ws_order', 'bare_ws');
  const sampledVsOff = ratioMedian(byRound, 'rest_no_fsync', 'tel_off');
  const fullVsOff = ratioMedian(byRound, 'tel_full', 'tel_off');
  const notAvailable = (reason: string) => ({ available: false, reason });
  const result = {
    bare_http: med('bare_http'),
    rest_order: {
      no_fsync: { ...med('rest_no_fsync'), host: factory ? `${inProcess}, policy none` : inProcess, telemetry: 'metrics + 1% traces (default)' },
      fsync: factory ? { ...med('rest_fsync'), host: `${inProcess}, policy fsync`, telemetry: 'metrics + 1% traces (default)' }
        : notAvailable('not available yet: engine/host/factory.ts (journal-backed createHost) is not there; no-fsync row is the in-process host without a journal'),
    },
    bare_ws: med('bare_ws'),
    ws_order: wsOk ? med('ws_order') : notAvailable('not available yet: engine/gateway/ws has no WebSocket API'),
    ratios: {
      rest_order_vs_bare_http: restVsHttp,
      rest_fsync_vs_bare_http: factory ? ratioMedian(byRound, 'rest_fsync', 'bare_http') : null,
      ws_order_vs_bare_ws: wsVsEcho,
      telemetry_sampled_vs_off: sampledVsOff,
      telemetry_full_vs_off: fullVsOff,
      telemetry_sampled_cost: sampledVsOff === null ? null : round3(1 - sampledVsOff),
      telemetry_full_cost: fullVsOff === null ? null : round3(1 - fullVsOff),
      by_cpu: {
        note: 'server CPU per request of the denominator ÷ the numerator\'s (what the req/s ratio would be if both were CPU-bound)',
        rest_order_vs_bare_http: cpuRatioMedian(byRound, 'rest_no_fsync', 'bare_http'),
        rest_fsync_vs_bare_http: factory ? cpuRatioMedian(byRound, 'rest_fsync', 'bare_http') : null,
        ws_order_vs_bare_ws: cpuRatioMedian(byRound, 'ws_order', 'bare_ws'),
        telemetry_sampled_vs_off: cpuRatioMedian(byRound, 'rest_no_fsync', 'tel_off'),
        telemetry_full_vs_off: cpuRatioMedian(byRound, 'tel_full', 'tel_off'),
      },
      targets: {
        rest_order_ge_60pct_of_bare_http: restVsHttp === null ? null : restVsHttp >= TARGET_REST_VS_HTTP,
        ws_order_ge_50pct_of_bare_ws: wsVsEcho === null ? null : wsVsEcho >= TARGET_WS_VS_ECHO,
        telemetry_sampled_cost_le_5pct: sampledVsOff === null ? null : 1 - sampledVsOff <= TARGET_TELEMETRY_COST,
      },
    },
    telemetry: {
      off: med('tel_off'),
      sampled: { ...med('rest_no_fsync'), note: 'same runs as rest_order.no_fsync', ...spansBy.rest_no_fsync },
      full: { ...med('tel_full'), sampler: 'parentbased_always_on', ...spansBy.tel_full },
    },
    method: {
      load_tool: 'autocannon 9.0.0 (programmatic, pipelining 1) for HTTP; a ws loop (N connections × depth in flight) for WebSocket',
      duration_s: o.duration, warmup_s: WARMUP_S, rounds: o.rounds, http_connections: o.connections,
      ws_connections: o.wsConnections, ws_depth: o.wsDepth, accounts: o.accounts,
      statistic: 'medians over rounds; ratios = median of per-round ratios',
      latency: 'µs, per response, HDR histogram in the load generator (includes load-generator queueing)',
      machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`,
      load_avg_1m_after_each_run: loadAvg,
      shared_cores: 'the load generator (this process) and the server (a child process) share the same cores; numbers are lower bounds, ratios compare like with like',
      orders: 'signed POST /fapi/v1/order (HMAC per request), BTCUSDT 60000 ± 1.0, 50% GTC / 50% IOC, 0.002–0.005 BTC, rate limits off, accounts funded via /admin/v1',
      traces: 'OTLP http/protobuf to a sink in the load-generator process',
    },
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  console.log(JSON.stringify(result, null, 2));
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === HERE) {
  main().catch((e: unknown) => {
    console.error(`bench:gateway: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  });
}
