// `perpx profile <kind>`: the default spike campaign (harness/campaign.ts) against a perpx
// server started under a profiler; the result goes into that run's directory and report.
//
//   cpu           node --cpu-prof on the server: one .cpuprofile per thread (main = gateway,
//                 engine-thread), written when the server exits; report: per thread, top
//                 functions (self/total) and a flame graph of the spike window, top functions
//                 of the whole run, links to the files and to speedscope's offline page.
//   heap          heap snapshots of every thread through the admin API (node:inspector):
//                 before the load (accounts funded) and after it; report: what grew, by
//                 constructor (count and shallow bytes).
//   doctor, flame, heapprofiler
//                 the clinic.js tool's programmatic package around the server (clinic.ts);
//                 report: a link to its HTML and what the HTML holds, or the exact failure.

import { cpSync, existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCampaign, HISTORY_ORDERS_PER_ACCOUNT } from '../campaign.ts';
import type { CampaignOptions, CampaignResult } from '../campaign.ts';
import { adminPost } from '../embedded-server.ts';
import { defaultRunId } from '../load.ts';
import type { Progress } from '../load.ts';
import { compileProfile } from '../profile.ts';
import type { RunResult } from '../result.ts';
import { DEFAULT_RUNS_DIR } from '../run-dir.ts';
import { writeReport } from '../../reports/report.ts';
import { displayThread, monotonicUsAt, summarizeProfile } from './cpuprofile.ts';
import type { CpuProfile } from './cpuprofile.ts';
import { diffHeap, readHeapSnapshotSummary } from './heapsnapshot.ts';
import { startClinicServer } from './clinic.ts';
import type { ClinicTool } from './clinic.ts';
import { checkClinicHtml } from './clinic-check.ts';
import type { ClinicProfiling, CpuProfiling, CpuThreadProfile, HeapProfiling, RunProfiling } from './types.ts';

export const PROFILE_KINDS = ['cpu', 'heap', 'doctor', 'flame', 'heapprofiler'] as const;
export type ProfileKind = (typeof PROFILE_KINDS)[number];

const SPEEDSCOPE_DIST = fileURLToPath(new URL('../../node_modules/speedscope/dist/release', import.meta.url));
const CPU_TOP_N = 15;

export interface ProfileRunOptions {
  kind: ProfileKind;
  quick?: boolean;
  runsDir?: string;
  id?: string;
  log?: (line: string) => void;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface ProfileRunResult {
  dir: string;
  reportHtml: string;
  /** The campaign's own exit code (thresholds/checker; a profiled server is slower, so informative only). */
  runExitCode: number;
  profiling: RunProfiling;
  /** False when the profiler produced nothing usable (the report says why). */
  ok: boolean;
}

const CAMPAIGN_CONFIG = { host: { projections: { historyOrdersPerAccountMax: HISTORY_ORDERS_PER_ACCOUNT, historyOrdersTotalMax: 5_000_000, historyTradesPerAccountMax: 10_000, historyTradesTotalMax: 5_000_000 } } };

/** [from, to) seconds of the stages named "spike…" (the whole run when there are none). */
export function spikeWindowS(r: RunResult): { fromS: number; toS: number; label: string } {
  const p = compileProfile(r.scenario.profile);
  const spike = p.stages.filter((s) => /spike/.test(s.name));
  if (spike.length === 0) return { fromS: 0, toS: p.durationS, label: 'whole run' };
  return { fromS: spike[0]!.startS, toS: spike.at(-1)!.endS, label: 'spike' };
}

function threadName(file: string, p: CpuProfile): string {
  if (p.nodes.some((n) => n.callFrame.url.endsWith('/engine-thread.ts'))) return displayThread('engine-thread');
  const tid = /\.(\d+)\.\d+\.cpuprofile$/.exec(file)?.[1];
  return tid === '0' ? displayThread('main') : `thread-${tid ?? '?'}`;
}

/** speedscope's offline page + a loader script for `file`; returns the page link (report-relative). */
function speedscopeLink(dir: string, file: string, body: string): string | undefined {
  if (!existsSync(SPEEDSCOPE_DIST)) return undefined;
  const target = join(dir, 'profiles', 'speedscope');
  if (!existsSync(target)) cpSync(SPEEDSCOPE_DIST, target, { recursive: true });
  const name = file.split('/').at(-1)!;
  const loader = join(dir, 'profiles', `${name}.speedscope.js`);
  writeFileSync(loader, `speedscope.loadFileFromBase64(${JSON.stringify(name)}, ${JSON.stringify(Buffer.from(body).toString('base64'))})\n`);
  // speedscope loads file:///<localProfilePath>: the loader's absolute path.
  return `profiles/speedscope/index.html#localProfilePath=${encodeURI(loader)}`;
}

async function cpuProfiling(dir: string, r: RunResult): Promise<{ blocks: CpuProfiling[]; errors: string[] }> {
  const profDir = join(dir, 'profiles');
  const files = existsSync(profDir) ? readdirSync(profDir).filter((f) => /^CPU\..*\.cpuprofile$/.test(f)).sort() : [];
  if (files.length === 0) return { blocks: [], errors: [`node --cpu-prof wrote no .cpuprofile into ${profDir} (did the server exit cleanly? see server.log)`] };
  const win = spikeWindowS(r);
  const runStartUs = monotonicUsAt(r.startMs);
  const spike: CpuProfiling = { label: win.label, source: 'node --cpu-prof', fromS: win.fromS, toS: win.toS, threads: [] };
  const whole: CpuProfiling = { label: 'whole server lifetime', source: 'node --cpu-prof', fromS: 0, toS: 0, threads: [] };
  for (const f of files) {
    const body = await readFile(join(profDir, f), 'utf8');
    const p = JSON.parse(body) as CpuProfile;
    const thread = threadName(f, p);
    const rel = `profiles/cpu-${thread}.cpuprofile`;
    renameSync(join(profDir, f), join(dir, rel));
    const link = speedscopeLink(dir, rel, body);
    const inWin = summarizeProfile(p, { fromUs: runStartUs + win.fromS * 1e6, toUs: runStartUs + win.toS * 1e6, topN: CPU_TOP_N });
    const all = summarizeProfile(p, { topN: CPU_TOP_N });
    const base = (s: typeof all): Omit<CpuThreadProfile, 'flame'> => ({
      thread, file: rel, ...(link === undefined ? {} : { speedscope: link }),
      samples: s.samples, windowMs: s.windowMs, busyMs: s.busyMs, idleMs: s.idleMs, gcMs: s.gcMs, top: s.top,
    });
    spike.threads.push({ ...base(inWin), flame: inWin.flame });
    whole.threads.push(base(all));
    whole.fromS = Math.min(whole.fromS, (p.startTime - runStartUs) / 1e6);
    whole.toS = Math.max(whole.toS, (p.endTime - runStartUs) / 1e6);
  }
  return { blocks: [spike, whole], errors: [] };
}

async function snapshot(server: { url: string; adminToken: string }, label: string): Promise<{ thread: string; path: string; bytes: number; ms: number }[]> {
  const body = await adminPost(server.url, server.adminToken, 'profile/heapSnapshot', { label });
  return body.files as { thread: string; path: string; bytes: number; ms: number }[];
}

async function heapProfiling(dir: string, before: Awaited<ReturnType<typeof snapshot>>, after: Awaited<ReturnType<typeof snapshot>>): Promise<HeapProfiling> {
  const h: HeapProfiling = { beforeLabel: 'before the load (accounts funded)', afterLabel: 'after the load (spike and recovery)', threads: [], errors: [] };
  for (const b of before) {
    const a = after.find((x) => x.thread === b.thread);
    if (a === undefined) { h.errors.push(`${b.thread}: no snapshot after the load`); continue; }
    try {
      const [sb, sa] = [await readHeapSnapshotSummary(b.path), await readHeapSnapshotSummary(a.path)];
      h.threads.push({
        thread: displayThread(b.thread), beforeFile: relative(dir, b.path), afterFile: relative(dir, a.path),
        beforeBytes: sb.bytes, afterBytes: sa.bytes, beforeObjects: sb.nodes, afterObjects: sa.nodes,
        snapshotMs: [b.ms, a.ms], rows: diffHeap(sb, sa),
      });
    } catch (e) {
      h.errors.push(`${b.thread}: ${(e as Error).message}`);
    }
  }
  return h;
}

export async function runProfile(o: ProfileRunOptions): Promise<ProfileRunResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const runsDir = resolve(o.runsDir ?? DEFAULT_RUNS_DIR);
  const id = o.id ?? defaultRunId(`profile-${o.kind}${o.quick === true ? '-quick' : ''}`);
  const dir = join(runsDir, id);
  const profDir = join(dir, 'profiles');
  const common: CampaignOptions = {
    quick: o.quick === true, runsDir, id, log, autoCpuProfile: false,
    ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  };
  const profiling: RunProfiling = { notes: [] };
  let run: CampaignResult;
  let ok = true;

  if (o.kind === 'cpu') {
    log('perpx profile cpu: the server runs with --cpu-prof (1 ms sampling, every thread); profiles are written when it exits');
    run = await runCampaign({ ...common, serverNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval', '1000'] });
    const { blocks, errors } = await cpuProfiling(dir, run.result);
    profiling.cpu = blocks;
    profiling.notes!.push(...errors, 'CPU: node --cpu-prof, 1 ms sampling interval, one profile per thread; the spike window is cut from each profile by sample time (CLOCK_MONOTONIC, the same clock the harness reads).');
    ok = blocks.length > 0 && blocks[0]!.threads.length >= 1;
  } else if (o.kind === 'heap') {
    let before: Awaited<ReturnType<typeof snapshot>> = [];
    let after: Awaited<ReturnType<typeof snapshot>> = [];
    run = await runCampaign({
      ...common, serverEnv: { PERPX_PROFILE_DIR: profDir },
      beforeLoad: async (s) => { log('perpx profile heap: snapshot of every thread before the load'); before = await snapshot(s, 'before'); },
      afterLoad: async (s) => { log('perpx profile heap: snapshot of every thread after the load'); after = await snapshot(s, 'after'); },
    });
    profiling.heap = await heapProfiling(dir, before, after);
    profiling.notes!.push('Heap: V8 heap snapshots (v8.writeHeapSnapshot on each thread; the engine thread reached through node:inspector\'s NodeWorker domain) before the load and after it, outside the measured window and after the metrics scrape; each pauses its thread for the time shown.');
    ok = profiling.heap.threads.length > 0;
  } else {
    const tool: ClinicTool = o.kind;
    const clinicDir = join(dir, 'clinic');
    log(`perpx profile ${tool}: starting perpx serve under clinic ${tool} (NO_INSIGHT=1, open=false; output in ${clinicDir})`);
    const server = await startClinicServer(tool, { dir: clinicDir, dataDir: join(dir, 'server-data'), config: CAMPAIGN_CONFIG, log });
    let outcome;
    try {
      run = await runCampaign({ ...common, target: server.url, adminToken: server.adminToken });
    } finally {
      log(`perpx profile ${tool}: stopping the server; clinic ${tool} analyses and writes its HTML`);
      outcome = await server.stop();
    }
    const entry: ClinicProfiling = { tool, ok: outcome.ok };
    if (outcome.ok) {
      entry.html = relative(dir, outcome.html);
      const check = checkClinicHtml(tool, await readFile(outcome.html, 'utf8'));
      entry.check = `${((await stat(outcome.html)).size / 1024).toFixed(0)} KB; ${check.detail}`;
      if (!check.hasData) { entry.ok = false; entry.failure = `the HTML holds no profile data: ${check.detail}`; }
    } else entry.failure = outcome.failure;
    profiling.clinic = [entry];
    ok = entry.ok;
  }

  const result = run.result;
  result.profiling = { ...(result.profiling ?? {}), ...profiling };
  if (result.profiling.notes?.length === 0) delete result.profiling.notes;
  const written = await writeReport(result, dir);
  return { dir, reportHtml: written.html, runExitCode: run.exitCode, profiling: result.profiling, ok };
}
