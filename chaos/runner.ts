// Runs one chaos experiment end to end:
//   1. start an embedded `perpx serve` (journal in <run dir>/server-data, fsync policy),
//   2. create and fund accounts, run the experiment's setup (e.g. a fault proxy),
//   3. run the load (history on) while the fault schedule injects and clears faults by time,
//   4. clear everything, then check: the history against the server (0 acknowledged orders
//      lost, conservation, open interest), the running state hash against a fresh replay of
//      the journal, and the experiment's own invariants,
//   5. compute time to detect / recover and the SLO impact, put the timeline into the
//      RunResult (drawn over every chart of report.html, listed in summary.md).
// The server is always stopped at the end (finally), whatever failed.

import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startEmbeddedServer } from '../harness/embedded-server.ts';
import type { EmbeddedServer } from '../harness/embedded-server.ts';
import { createFundedAccounts } from '../harness/accounts.ts';
import { apiServerView } from '../harness/api-view.ts';
import { checkRun } from '../harness/checker.ts';
import type { ServerView } from '../harness/checker.ts';
import { startJournalCapture } from './journal-capture.ts';
import type { JournalCapture } from './journal-capture.ts';
import { checkAckedDurable, readJournalPlaces } from './journal-audit.ts';
import { HISTORY_ORDERS_PER_ACCOUNT, readHistory, spikeScenario } from '../harness/campaign.ts';
import { compileProfile } from '../harness/profile.ts';
import type { Profile } from '../harness/profile.ts';
import { defaultRunId } from '../harness/load.ts';
import type { Progress } from '../harness/load.ts';
import type { CheckerResult, RunResult } from '../harness/result.ts';
import { DEFAULT_RUNS_DIR, runToDirectory } from '../harness/run-dir.ts';
import type { Scenario } from '../harness/scenario.ts';
import type { Experiment, ExperimentPlan, SetupContext } from './experiment.ts';
import { startSchedule } from './scheduler.ts';
import type { RunningSchedule } from './scheduler.ts';
import { analyzeImpact } from './analysis.ts';
import type { ImpactSummary } from './analysis.ts';
import { replayHashCheck } from './replay-check.ts';
import type { ReplayCheck } from './replay-check.ts';

export interface RunExperimentOptions {
  seed?: number;
  quick?: boolean;
  /** Experiment-specific numeric options (e.g. { kills: 100 }). */
  options?: Record<string, number>;
  runsDir?: string;
  id?: string;
  log?: (line: string) => void;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** Called once the server runs (tests use it to track the child pid). */
  onServer?: (server: EmbeddedServer) => void;
}

export interface ExperimentOutcome {
  experiment: string;
  fault: string;
  seed: number;
  dir: string;
  result: RunResult;
  impact: ImpactSummary;
  faultsInjected: number;
  faultErrors: string[];
  lostAckedOrders: number;
  checkerViolations: number;
  replay: ReplayCheck | null;
  invariants: CheckerResult[];
  /** Every invariant held (checker, replay hash, the experiment's own checks) and no fault action failed. */
  invariantsOk: boolean;
  /** The generator kept its schedule (otherwise the latency figures blame the generator). */
  valid: boolean;
  /** Engine account id of each load account index (what the journal records). */
  accountIds: number[];
  /** Wall time of each phase in seconds (where an experiment's time goes; `chaos all` sums them). */
  phasesS: PhaseTimes;
}

export interface PhaseTimes {
  serverStart: number;
  /** Funding, the experiment's setup, load-generator start and warm-up. */
  setup: number;
  /** From the first scheduled send until the last response. */
  load: number;
  /** History check, acknowledged-durable check and the experiment's own checks. */
  checks: number;
  /** Kill, fresh-process recovery and offline replay of the journal. */
  replay: number;
  /** Report files, server stop. */
  finish: number;
}

export const CHAOS_SEED_DEFAULT = 1;

/** The profile an experiment runs with these options. */
export function experimentProfile(e: Experiment, quick: boolean, seed: number, options: Readonly<Record<string, number>>, serverStartS?: number): Profile {
  return e.loadFor?.({ quick, seed, options, ...(serverStartS === undefined ? {} : { serverStartS }) }) ?? (quick ? e.load.quick : e.load.full);
}

/** The plan (fault schedule) for a seed: what `perpx chaos` will inject, without running anything. */
export function planExperiment(e: Experiment, seed: number, quick: boolean, options: Readonly<Record<string, number>> = {}, serverStartS?: number): ExperimentPlan {
  const profile = experimentProfile(e, quick, seed, options, serverStartS);
  return e.plan({ seed, quick, durationS: compileProfile(profile).durationS, options, ...(serverStartS === undefined ? {} : { serverStartS }) });
}

function ms(x: number | null): string {
  return x === null ? 'n/a' : `${Math.round(x)} ms`;
}

export async function runExperiment(e: Experiment, o: RunExperimentOptions = {}): Promise<ExperimentOutcome> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const seed = o.seed ?? CHAOS_SEED_DEFAULT;
  const quick = o.quick === true;
  const options = o.options ?? {};
  const runsDir = resolve(o.runsDir ?? DEFAULT_RUNS_DIR);
  const id = o.id ?? defaultRunId(`chaos-${e.name}${quick ? '-quick' : ''}`);
  const dir = join(runsDir, id);
  mkdirSync(dir, { recursive: true });
  const fsync = e.server?.fsync ?? 'fsync';
  log(`perpx chaos ${e.name}: seed ${seed}; journal policy ${fsync}; run dir ${dir}`);
  const startedMs = Date.now();
  const server = await startEmbeddedServer({
    dataDir: join(dir, 'server-data'), logFile: join(dir, 'server.log'), fsync, log,
    config: { ...(e.server?.config ?? {}), host: { projections: { historyOrdersPerAccountMax: HISTORY_ORDERS_PER_ACCOUNT, historyOrdersTotalMax: 5_000_000, historyTradesPerAccountMax: 10_000, historyTradesTotalMax: 5_000_000 } } },
    ...(e.server?.extraArgs === undefined ? {} : { extraArgs: e.server.extraArgs }),
    ...(e.server?.env === undefined ? {} : { env: e.server.env }),
  });
  o.onServer?.(server);
  const serverStartS = (Date.now() - startedMs) / 1000;
  const marks = { loadStart: 0, loadEnd: 0, checksEnd: 0, replayEnd: 0 };
  let schedule: RunningSchedule | null = null;
  let plan: ExperimentPlan | null = null;
  let outcome: ExperimentOutcome | null = null;
  const capture: JournalCapture = startJournalCapture(join(dir, 'server-data'), join(dir, 'journal-capture'));
  try {
    const profile = experimentProfile(e, quick, seed, options, serverStartS);
    plan = planExperiment(e, seed, quick, options, serverStartS);
    log(`perpx chaos ${e.name}: the server started in ${serverStartS.toFixed(1)} s; ${plan.faults.length} faults planned over a ${compileProfile(profile).durationS} s ${profile.kind} load`);
    const accounts = await createFundedAccounts(server.url, server.adminToken);
    const setupCtx: SetupContext = { server, serverUrl: server.url, adminToken: server.adminToken, accounts, runDir: dir, log };
    const thePlan = plan;
    await thePlan.setup?.(setupCtx);
    const loadUrl = thePlan.loadUrl?.(server.url) ?? server.url;
    let scenario: Scenario = {
      ...spikeScenario(accounts, quick),
      name: `chaos-${e.name}${quick ? '-quick' : ''}`,
      description: `chaos experiment ${e.name}: ${e.fault}`,
      profile,
      // Under faults the whole-run latency SLO is expected to break: the verdict here is the
      // checker and the replay hash; the SLO impact is measured per fault window instead.
      thresholds: [],
      // A dead server answers nothing: fail fast instead of holding slots for 10 s, and drop
      // arrivals beyond a bounded backlog (counted as dropped, i.e. failed) instead of queueing
      // a whole outage's worth of requests and draining it for minutes afterwards.
      timeoutMs: 5_000,
      maxBacklogPerWorker: 2_000,
    };
    if (e.scenario !== undefined) scenario = e.scenario(scenario);
    let replay: ReplayCheck | null = null;
    let impact: ImpactSummary | null = null;
    let lost = 0;
    let violations = 0;
    const invariants: CheckerResult[] = [];
    const out = await runToDirectory({
      scenario, target: loadUrl, runsDir, id, history: true,
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
      onStart: (startMs) => {
        marks.loadStart = startMs; // nowMs(): epoch milliseconds, like Date.now()
        schedule = startSchedule({ planned: thePlan.faults, seed, server, serverUrl: server.url, adminToken: server.adminToken, log, ...(thePlan.settleS === undefined ? {} : { settleS: thePlan.settleS }) }, startMs);
      },
      decorate: async (result) => {
        marks.loadEnd = Date.now();
        const sched = schedule!;
        await sched.finish();
        const ops = result.historyFile === null ? [] : await readHistory(result.historyFile);
        impact = analyzeImpact(result, sched.records, ops, e.steadyState);
        log('perpx chaos: checking the history against the server');
        const api = apiServerView({ baseUrl: server.url, adminToken: server.adminToken, accounts: [...accounts], historyOrdersPerAccountMax: HISTORY_ORDERS_PER_ACCOUNT });
        // The gateway's order history starts empty at every process start, so after a restart
        // an acknowledged order missing from the API is judged by the journal (below), not here.
        const restarted = server.starts > 1;
        const apiKnown = new Set<string>();
        const view: ServerView = {
          ...api,
          async orders(account, symbol) {
            const m = await api.orders(account, symbol);
            for (const cid of m.keys()) apiKnown.add(`${account}\u0000${cid}`);
            return m;
          },
          historyTruncated: async (account, symbol) => restarted || await api.historyTruncated(account, symbol),
        };
        const check = await checkRun(ops, view);
        violations = check.violations.length;
        const c = check.counts;
        invariants.push({
          name: 'history',
          ok: check.ok,
          detail: `${c.placesAcked} acknowledged places, ${c.ordersVerified} verified through the API${restarted ? ` (${c.ordersUnverifiable} no longer in its history after a restart: see acked-durable)` : `, unverifiable ${c.ordersUnverifiable}`}; ${c.placesRejected} rejected, ${c.indeterminate} indeterminate; ${check.ok ? 'no phantom or inconsistent orders, money conserved, open interest balanced' : `violations: ${violationSummary(check.violations)}`}`,
          violations: check.violations.map((v) => ({ message: `${v.kind}: ${v.message}`, ops: v.ops })),
        });
        capture.stop();
        const journal = readJournalPlaces(capture.dir);
        const durable = checkAckedDurable(ops, accounts.map((a) => a.accountId), journal.keys, apiKnown);
        lost = durable.lost.length + check.violations.filter((v) => v.kind === 'lost-order').length;
        violations += durable.lost.length;
        invariants.push({
          name: 'acked-durable',
          ok: durable.lost.length === 0,
          detail: `${durable.acked} acknowledged places: ${durable.inApi} visible through the API, ${durable.journalOnly} only in the journal (${journal.commands} commands in ${journal.segments} captured segments; journal-only means the API no longer lists an order the journal has — beyond the history limits, or history lost at a restart), ${durable.lost.length} lost`,
          violations: durable.lost.slice(0, 200).map((l) => ({ message: `lost-order: ${l.clientOrderId} of account ${l.account} was acknowledged but is neither in the journal nor known to the server`, ops: l.ops })),
        });
        if (durable.journalOnly > 0) {
          result.findings = [...(result.findings ?? []), { severity: 'warning', title: `${durable.journalOnly} acknowledged orders are durable but no longer listed by GET allOrders/order after a restart`, detail: 'History survives restarts within the projection limits (recovery replays into it, snapshots carry it: engine/host/README.md), so this means an order fell out of the bounded history or its history was lost; the orders and their fills are in the journal and the recovered state.' }];
        }
        if (thePlan.verify !== undefined) invariants.push(...await thePlan.verify(setupCtx));
        marks.checksEnd = Date.now();
        if (e.skipReplayCheck !== true) {
          log('perpx chaos: replay check (running state hash vs a fresh process recovering the journal)');
          replay = await replayHashCheck(server, { captureDir: capture.dir, configFile: join(dir, 'server-data-config.json'), logFile: join(dir, 'server.log'), stopCapture: () => capture.stop() });
          invariants.push({ name: 'replay-hash', ok: replay.ok, detail: replay.detail });
          marks.replayEnd = Date.now();
        }
        const faultErrors = sched.records.filter((x) => x.error !== null).map((x) => `${x.fault}#${x.index}: ${x.error}`);
        if (faultErrors.length > 0) invariants.push({ name: 'fault-actions', ok: false, detail: `${faultErrors.length} fault actions failed: ${faultErrors.slice(0, 5).join('; ')}` });
        result.checker = invariants;
        result.chaos = {
          experiment: e.name, seed,
          events: [...sched.events, ...timelineMarks(impact)].sort((a, b) => a.tS - b.tS),
          windows: impact.windows.map((w) => ({ fault: w.fault, injectS: w.injectS, clearS: w.clearS, detectS: w.detectS, recoveredS: w.recoveredS })),
          figures: figures(e, impact, sched.records.filter((x) => x.injectS !== null).length, thePlan.faults.length, lost, replay, serverStartS),
        };
        result.notes = [...(result.notes ?? []), `chaos experiment ${e.name} (seed ${seed}): ${e.proves}`, `server log: server.log (${server.starts} starts)`];
      },
    });
    const sched = schedule as RunningSchedule | null;
    const records = sched?.records ?? [];
    const faultErrors = records.filter((x) => x.error !== null).map((x) => `${x.fault}#${x.index}: ${x.error}`);
    const s = (fromMs: number, toMs: number): number => Math.max(0, Math.round(toMs - fromMs) / 1000);
    outcome = {
      experiment: e.name, fault: e.fault, seed, dir: out.dir, result: out.result,
      impact: impact ?? analyzeImpact(out.result, [], [], e.steadyState),
      faultsInjected: records.filter((x) => x.injectS !== null).length, faultErrors,
      lostAckedOrders: lost, checkerViolations: violations, replay, invariants,
      invariantsOk: invariants.length > 0 && invariants.every((c) => c.ok),
      valid: out.result.valid,
      accountIds: accounts.map((a) => a.accountId),
      phasesS: {
        serverStart: serverStartS, setup: s(startedMs + serverStartS * 1000, marks.loadStart), load: s(marks.loadStart, marks.loadEnd),
        checks: s(marks.loadEnd, marks.checksEnd), replay: marks.replayEnd === 0 ? 0 : s(marks.checksEnd, marks.replayEnd), finish: 0,
      },
    };
    return outcome;
  } finally {
    capture.stop();
    await (schedule as RunningSchedule | null)?.finish().catch(() => {});
    await (plan as ExperimentPlan | null)?.teardown?.().catch((err: unknown) => log(`chaos: teardown failed: ${(err as Error).message}`));
    const code = await server.stop();
    log(`perpx chaos: server stopped (exit ${String(code)}) after ${server.starts} starts`);
    if (outcome !== null) {
      const ph = (outcome as ExperimentOutcome).phasesS;
      ph.finish = Math.max(0, Math.round(Date.now() - (marks.replayEnd > 0 ? marks.replayEnd : marks.checksEnd)) / 1000);
      log(`perpx chaos ${e.name}: ${formatPhases(ph)}`);
    }
  }
}

/** "server start 0.9 s, setup 2.1 s, load 14.6 s, checks 0.4 s, replay 1.0 s, finish 0.6 s (19.6 s)" */
export function formatPhases(p: PhaseTimes): string {
  const total = p.serverStart + p.setup + p.load + p.checks + p.replay + p.finish;
  return `server start ${p.serverStart.toFixed(1)} s, setup ${p.setup.toFixed(1)} s, load ${p.load.toFixed(1)} s, checks ${p.checks.toFixed(1)} s, replay ${p.replay.toFixed(1)} s, finish ${p.finish.toFixed(1)} s (${total.toFixed(1)} s)`;
}

function violationSummary(vs: readonly { kind: string }[]): string {
  const by = new Map<string, number>();
  for (const v of vs) by.set(v.kind, (by.get(v.kind) ?? 0) + 1);
  return [...by].map(([k, n]) => `${n} ${k}`).join(', ');
}

function timelineMarks(impact: ImpactSummary): { tS: number; kind: 'detect' | 'recover'; fault: string; detail: string }[] {
  const out: { tS: number; kind: 'detect' | 'recover'; fault: string; detail: string }[] = [];
  for (const w of impact.windows) {
    if (w.detectS !== null) out.push({ tS: w.detectS, kind: 'detect', fault: w.fault, detail: `first failed or over-SLO request ${Math.round((w.detectS - w.injectS) * 1000)} ms after inject` });
    if (w.recoveredS !== null) out.push({ tS: w.recoveredS, kind: 'recover', fault: w.fault, detail: `healthy again ${Math.round((w.recoveredS - w.clearS) * 1000)} ms after clear (${w.failed} requests failed, ${w.timedOut} timed out)` });
  }
  return out;
}

function figures(e: Experiment, im: ImpactSummary, injected: number, planned: number, lost: number, replay: ReplayCheck | null, serverStartS: number): [string, string][] {
  const p = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(1)} ms`);
  return [
    ['faults injected', `${injected} of ${planned} planned (${e.fault})`],
    ['acknowledged orders lost', String(lost)],
    ['state hash after recovery = replay hash', replay === null ? 'not checked' : replay.ok ? `yes: running state = offline replay at seq ${replay.runningSeq}; ${replay.recoveriesEqual} of ${replay.recoveries} recoveries = replay` : `NO — ${replay.detail}`],
    ['time to detect (median / max)', `${ms(im.detectMs.median)} / ${ms(im.detectMs.max)} (${im.detectMs.detected} of ${im.windows.length} faults visible to clients)`],
    ['time to recover after clear (median / max)', `${ms(im.recoverMs.median)} / ${ms(im.recoverMs.max)} (${im.recoverMs.recovered} of ${im.windows.length} recovered; SLO: p99 <= ${e.steadyState.p99Ms} ms, failures <= ${((e.steadyState.maxFailRatio ?? 0.001) * 100).toFixed(2)}% per second)`],
    ['outage inject → recovered (median / max)', `${ms(im.outageMs.median)} / ${ms(im.outageMs.max)}`],
    ['requests failed / timed out in fault windows', `${im.failedInWindows} / ${im.timedOutInWindows}`],
    ['corrected p99 before / during / after faults', `${p(im.p99BeforeMs)} / ${p(im.p99DuringMs)} / ${p(im.p99AfterMs)}`],
    ['steady state before the first fault', im.healthyBeforeRatio === null ? 'n/a' : `${(im.healthyBeforeRatio * 100).toFixed(0)}% of seconds healthy`],
    ['server start time (first start)', `${serverStartS.toFixed(1)} s`],
    ['recovered within the deadline after the last fault', im.recoveredAfterLast ? `yes (<= ${e.steadyState.recoverWithinS} s)` : `NO (deadline ${e.steadyState.recoverWithinS} s)`],
  ];
}
