// `perpx run` (and `npm start`): the default campaign. Starts an embedded `perpx serve` as a
// child process (journal in the run directory, random admin token), creates and funds
// accounts, runs the spike scenario with the signed Binance order flow, scrapes the
// server's health once a second, checks the history against the server, and writes
// reports/runs/<id>/ (report.html, summary.md, results.json, history.ndjson, server.log)
// plus reports/runs/latest. Exit 0 only if the generator kept its schedule, every
// threshold passed and the checker found nothing.
//
// `perpx run --target http://host:port --admin-token T` runs the same against a running
// perpx instead of starting one.

import { createReadStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { startEmbeddedServer } from './embedded-server.ts';
import { createFundedAccounts } from './accounts.ts';
import { prepareLiquidationWave } from './liquidation-wave.ts';
import { parseDurationS } from './duration.ts';
import type { EmbeddedServer } from './embedded-server.ts';
import { apiServerView } from './api-view.ts';
import { startMetricsScraper } from './server-scrape.ts';
import { checkRun } from './checker.ts';
import type { HistoryOp } from './checker.ts';
import { defaultRunId } from './load.ts';
import type { Progress } from './load.ts';
import type { RunResult, TimeSeries } from './result.ts';
import { DEFAULT_RUNS_DIR, runToDirectory } from './run-dir.ts';
import type { RunToDirectoryResult } from './run-dir.ts';
import type { Scenario } from './scenario.ts';
import { compileProfile } from './profile.ts';
import { startAutoCpuCapture } from './profiling/auto-cpu.ts';
import type { LiveSink } from '../dashboards/live/server.ts';

const ACCOUNTS = 24;
const DEPOSIT = '1000000';
const MID_PRICE = 50_000;
/** Large enough that every order of a campaign stays queryable for the checker. */
export const HISTORY_ORDERS_PER_ACCOUNT = 200_000;

export interface CampaignOptions {
  target?: string;
  adminToken?: string;
  runsDir?: string;
  id?: string;
  /** Shorter profile (for tests and smoke runs). */
  quick?: boolean;
  fsync?: string;
  /** Index moves that liquidate a leveraged crowd during the spike (harness/liquidation-wave.ts); default on. */
  liquidationWave?: boolean;
  /** Send the flow over REST (default) or the WebSocket API (/ws-fapi/v1). */
  api?: 'rest' | 'ws';
  onProgress?: (p: Progress) => void;
  /** The live run page (dashboards/live/server.ts): progress, /metrics scrapes, log lines and the verdict go to it. */
  live?: LiveSink;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** perpx profile (harness/profiling): extra node flags / environment for the embedded server. */
  serverNodeArgs?: string[];
  serverEnv?: Record<string, string>;
  /** perpx profile heap: called once the accounts exist (before the load) and when the load has finished (before the checker). */
  beforeLoad?: (server: { url: string; adminToken: string }) => Promise<void>;
  afterLoad?: (server: { url: string; adminToken: string }, result: RunResult) => Promise<void>;
  /** CPU profiles around the spike onset, the worst-p99 window kept and linked from the diagnosis (harness/profiling/auto-cpu.ts); default on. */
  autoCpuProfile?: boolean;
}

export interface CampaignResult extends RunToDirectoryResult {
  checkerOk: boolean;
}

/** The default campaign's scenario: a 10× spike over a steady base, like a liquidation cascade's order burst. */
export function spikeScenario(accounts: { apiKey: string; secretKey: string }[], quick: boolean, api: 'rest' | 'ws' = 'rest'): Scenario {
  return {
    name: quick ? 'spike-quick' : 'spike',
    description: `Signed Binance order flow over ${api === 'ws' ? 'the WebSocket API' : 'REST'} (makers, IOC takers, cancels, reduce-only closes, momentum bursts); steady base, then a 10x spike within 2 s, then back.`,
    seed: 7,
    arrivals: 'poisson',
    profile: quick
      ? { kind: 'spike', base: 100, peak: 1000, duration: '12s', spikeAt: '4s', spikeDuration: '4s', rampTime: '1s' }
      : { kind: 'spike', base: 200, peak: 2000, duration: '100s', spikeAt: '35s', spikeDuration: '30s', rampTime: '2s' },
    request: {
      factory: 'binance-order', symbol: 'BTCUSDT', midPrice: MID_PRICE, tickSize: 0.1, stepSize: 0.001, minQtySteps: 3, maxQtySteps: 30,
      takerShare: 0.3, cancelShare: 0.25, reduceOnlyShare: 0.05, momentumProb: 0.002, momentumLen: 20, api, accounts,
    },
    // Cancels of orders that filled meanwhile answer -2011 by design (expectedErrors, shown
    // apart in the report); every other error — timeouts, shed load (-1008), any other
    // rejection — counts against unexpected_error_rate. Latency on the corrected clock
    // (from the intended send time). The SLO is sized for the 2-core machine this runs on
    // by default, where generator and server share the cores: steady-state p99 is 3-20 ms,
    // but the first seconds of the 10x jump stall the server for 100-240 ms (measured,
    // service time; see README "Known bottlenecks"), which a tighter p99 would always fail.
    thresholds: ['p99 < 250ms', 'p99.9 < 1000ms', 'timeout_rate < 0.1%', 'unexpected_error_rate < 0.1%', 'achieved_ratio >= 99%'],
    // -2022: a reduce-only close whose account's real position (makers fill too) has nothing
    // to reduce on that side — the flow only knows what its own takers did.
    expectedErrors: ['-2011', '-2022'],
  } as Scenario;
}

interface Server {
  url: string;
  adminToken: string;
  embedded: EmbeddedServer | null;
  stop(): Promise<number | string | null>;
}

/** Scrape /healthz-adjacent numbers once a second: queue depth and state from the admin totals. */
function startScraper(url: string, token: string, startMsRef: { v: number }): { stop: () => { seq: TimeSeries } } {
  const seq: TimeSeries = { tS: [], values: [] };
  const timer = setInterval(() => {
    if (startMsRef.v === 0) return;
    void fetch(`${url}/admin/v1/totals`, { headers: { 'x-perpx-admin': token } }).then((r) => r.json() as Promise<{ seq?: number }>).then((t) => {
      seq.tS.push((Date.now() - startMsRef.v) / 1000);
      seq.values.push(Number(t.seq ?? 0));
    }, () => {});
  }, 1000);
  return { stop: () => { clearInterval(timer); return { seq }; } };
}

export async function readHistory(file: string): Promise<HistoryOp[]> {
  const ops: HistoryOp[] = [];
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (line.length > 0) ops.push(JSON.parse(line) as HistoryOp);
  return ops;
}

export async function runCampaign(opts: CampaignOptions = {}): Promise<CampaignResult> {
  const baseLog = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const live = opts.live;
  const log = live === undefined ? baseLog : (l: string) => { baseLog(l); live.log(l); };
  const runsDir = resolve(opts.runsDir ?? DEFAULT_RUNS_DIR);
  const id = opts.id ?? defaultRunId(opts.quick === true ? 'spike-quick' : 'spike');
  const dir = join(runsDir, id);
  mkdirSync(dir, { recursive: true });
  let server: Server;
  if (opts.target === undefined) {
    const fsync = opts.fsync ?? 'fsync';
    log(`perpx run: starting an embedded perpx serve (journal in ${join(dir, 'server-data')}, fsync policy ${fsync})`);
    const embedded = await startEmbeddedServer({
      dataDir: join(dir, 'server-data'), logFile: join(dir, 'server.log'), fsync, log,
      ...(opts.serverNodeArgs === undefined ? {} : { nodeArgs: opts.serverNodeArgs }), ...(opts.serverEnv === undefined ? {} : { env: opts.serverEnv }),
      config: { host: { projections: { historyOrdersPerAccountMax: HISTORY_ORDERS_PER_ACCOUNT, historyOrdersTotalMax: 5_000_000, historyTradesPerAccountMax: 10_000, historyTradesTotalMax: 5_000_000 } } },
    });
    server = { url: embedded.url, adminToken: embedded.adminToken, embedded, stop: () => embedded.stop() };
  } else {
    if (opts.adminToken === undefined) throw new Error('--target needs --admin-token (accounts are created through the admin API)');
    server = { url: opts.target.replace(/\/$/, ''), adminToken: opts.adminToken, embedded: null, stop: async () => null };
  }
  try {
    log(`perpx run: target ${server.url}; creating ${ACCOUNTS} accounts with ${DEPOSIT} USDT each`);
    const accounts = await createFundedAccounts(server.url, server.adminToken, { count: ACCOUNTS, deposit: DEPOSIT, indexPrice: MID_PRICE });
    const api = opts.api ?? 'rest';
    const scenario = spikeScenario(accounts, opts.quick === true, api);
    const loadTarget = api === 'ws' ? `${server.url.replace(/^http/, 'ws')}/ws-fapi/v1` : server.url;
    // Before any scraper starts: a throwing hook must not leave their timers running.
    await opts.beforeLoad?.(server);
    const started = { v: 0 };
    const scraper = startScraper(server.url, server.adminToken, started);
    const metrics = startMetricsScraper(server.url, started, live === undefined ? undefined : (series, tS) => live.serverScrape(series, tS));
    let checkerOk = false;
    const spike = scenario.profile as { spikeAt: string; spikeDuration: string };
    const spikeAtS = parseDurationS(spike.spikeAt, 'spikeAt');
    const wave = opts.liquidationWave === false ? null : await prepareLiquidationWave({
      url: server.url, adminToken: server.adminToken, symbol: 'BTCUSDT', atS: spikeAtS + 1, untilS: spikeAtS + parseDurationS(spike.spikeDuration, 'spikeDuration'), log,
    });
    const autoCpu = opts.autoCpuProfile === false ? null : startAutoCpuCapture({ url: server.url, adminToken: server.adminToken, scenario, dir, log });
    const out = await runToDirectory({
      scenario, target: loadTarget, runsDir, id, history: true,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      ...(opts.onProgress === undefined && live === undefined ? {} : { onProgress: (p: Progress) => { opts.onProgress?.(p); live?.progress(p); } }),
      onStart: (ms) => {
        started.v = ms;
        wave?.onStart(ms);
        autoCpu?.onStart(ms);
        live?.start({ startMs: ms, scenario: scenario.name, target: server.url, durationS: compileProfile(scenario.profile).durationS });
      },
      decorate: async (result: RunResult) => {
        await autoCpu?.finish(result);
        const scraped = scraper.stop();
        result.server = { ...(result.server ?? {}), ...metrics.stop() };
        // After the scrapers stop: a heap snapshot's pause is not part of the run's series.
        await opts.afterLoad?.(server, result);
        result.notes = [...(result.notes ?? []), `server sequence advanced ${scraped.seq.values.length > 1 ? scraped.seq.values.at(-1)! - scraped.seq.values[0]! : 0} commands during the run`];
        if (opts.target === undefined) result.notes.push(`embedded server, journal policy ${opts.fsync ?? 'fsync'}; server log: server.log`);
        const waveCheck = wave === null ? null : await wave.finish();
        if (waveCheck !== null) result.checker = [waveCheck];
        if (result.historyFile === null) return;
        log('perpx run: checking the history against the server');
        const ops = await readHistory(result.historyFile);
        const view = apiServerView({ baseUrl: server.url, adminToken: server.adminToken, accounts, historyOrdersPerAccountMax: HISTORY_ORDERS_PER_ACCOUNT });
        const check = await checkRun(ops, view);
        checkerOk = check.ok && (waveCheck?.ok ?? true);
        const c = check.counts;
        result.checker = [...(result.checker ?? []), {
          name: 'history',
          ok: check.ok,
          detail: `${c.operations} history lines; ${c.placesAcked} acknowledged places verified ${c.ordersVerified} (unverifiable ${c.ordersUnverifiable}); ${c.placesRejected} rejected, ${c.indeterminate} indeterminate; conservation and open interest checked`,
          violations: check.violations.map((v) => ({ message: `${v.kind}: ${v.message}`, ops: v.ops })),
        }];
      },
    });
    const exitCode = out.exitCode === 0 && !checkerOk ? 1 : out.exitCode;
    live?.finish({ result: out.result, verdict: exitCode === 0 ? 'PASS' : exitCode === 3 ? 'INVALID' : 'FAIL', reportFile: out.files.html });
    return { ...out, checkerOk, exitCode };
  } finally {
    const code = await server.stop();
    if (server.embedded !== null) log(`perpx run: embedded server stopped (exit ${String(code)})`);
  }
}
