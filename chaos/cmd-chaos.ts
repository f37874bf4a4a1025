// `perpx chaos <experiment> [--seed N] [--quick] [--runs-dir DIR] [--<option> N]`,
// `perpx chaos list`, `perpx chaos all [--quick]`: seeded fault-injection experiments.
// Prints live progress, then one table (experiment, fault, SLO impact, recovery, invariants).
// Exit 0 when every invariant held; 1 when one failed or on bad input (one line on stderr).

import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXPERIMENTS, findExperiment } from './experiments.ts';
import type { Experiment } from './experiment.ts';
import { runExperiment, CHAOS_SEED_DEFAULT, formatPhases } from './runner.ts';
import type { ExperimentOutcome, PhaseTimes } from './runner.ts';
import { DEFAULT_RUNS_DIR, linkLatest } from '../harness/run-dir.ts';
import type { Progress } from '../harness/load.ts';

export function chaosHelp(): string {
  const lines = [
    'perpx chaos — seeded fault-injection experiments (Jepsen-style history check + replay hash)',
    '',
    'usage: perpx chaos <experiment> [--seed N] [--quick] [--runs-dir DIR] [--<option> N]',
    '       perpx chaos all [--quick] [--seed N] [--runs-dir DIR]',
    '       perpx chaos list',
    '',
    'Each run starts an embedded perpx serve, funds accounts, runs signed order flow while the',
    'seeded fault schedule injects faults, then checks the history (0 acknowledged orders lost,',
    'conservation, open interest) and that a fresh process replaying the journal reaches the',
    'running server\'s state hash. Report: reports/runs/<id>/report.html (fault timeline over',
    'every chart) and summary.md. Same seed → same schedule.',
    '',
    'Experiments:',
  ];
  for (const e of EXPERIMENTS) {
    lines.push(`  ${e.name}`, `      injects: ${e.fault}`, `      proves:  ${e.proves}`);
    for (const [k, v] of Object.entries(e.optionsHelp ?? {})) lines.push(`      --${k} N   ${v}`);
  }
  lines.push('', 'Options:', '  --seed N          fault schedule seed (default 1)', '  --quick           short profiles (smoke test; `all --quick` runs everything in minutes)',
    '  --runs-dir DIR    where run directories go (default reports/runs)', '',
    'Exit code: 0 every invariant held; 1 an invariant failed (lost order, checker violation,',
    'hash mismatch, a fault could not be injected/cleared) or bad input.');
  return lines.join('\n');
}

function fail(msg: string): number {
  process.stderr.write(`perpx chaos: ${msg}\n`);
  return 1;
}

interface Parsed {
  target: string;
  seed: number;
  quick: boolean;
  runsDir: string;
  options: Record<string, number>;
  help: boolean;
}

/** Parses argv; throws a one-line Error on bad input. */
export function parseChaosArgs(args: readonly string[]): Parsed {
  const p: Parsed = { target: '', seed: CHAOS_SEED_DEFAULT, quick: false, runsDir: DEFAULT_RUNS_DIR, options: {}, help: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--help' || a === '-h') p.help = true;
    else if (a === '--quick') p.quick = true;
    else if (a === '--seed') {
      const v = value();
      if (!/^\d{1,10}$/.test(v) || Number(v) > 2 ** 32 - 1) throw new Error(`--seed must be an integer in [0, 4294967295], got ${v}`);
      p.seed = Number(v);
    } else if (a === '--runs-dir') p.runsDir = value();
    else if (a.startsWith('--')) {
      const name = a.slice(2);
      const v = value();
      if (!/^\d{1,6}$/.test(v)) throw new Error(`${a} must be a non-negative integer, got ${v}`);
      p.options[name] = Number(v);
    } else if (p.target === '') p.target = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  return p;
}

function checkOptions(e: Experiment, options: Record<string, number>): void {
  for (const k of Object.keys(options)) {
    if (!(k in (e.optionsHelp ?? {}))) throw new Error(`unknown option --${k} for ${e.name}${e.optionsHelp === undefined ? '' : ` (accepts ${Object.keys(e.optionsHelp).map((o) => `--${o}`).join(', ')})`}`);
  }
}

function progressLine(name: string, p: Progress): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US').padStart(6);
  return `[${name}] t=${String(p.second).padStart(4)}s ${p.phase.padEnd(8).slice(0, 8)} offered ${n(p.offeredRps)}/s achieved ${n(p.completedRps)}/s p99 ${p.p99Ms === null ? '    n/a' : `${p.p99Ms.toFixed(1).padStart(7)} ms`} errors ${p.errors}`;
}

const f1 = (x: number | null): string => (x === null ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** One row per experiment: experiment, fault, SLO impact, recovery, invariants. */
export function outcomeRow(o: ExperimentOutcome): string[] {
  const im = o.impact;
  const slo = `p99 ${f1(im.p99BeforeMs)} → ${f1(im.p99DuringMs)} ms; ${im.failedInWindows} failed, ${im.timedOutInWindows} timed out`;
  const rec = im.recoverMs.median === null ? 'not recovered' : `${f1(im.recoverMs.median)} / ${f1(im.recoverMs.max)} ms (${im.recoverMs.recovered}/${im.windows.length})`;
  const inv = o.invariantsOk
    ? `ok: ${o.lostAckedOrders} lost, ${o.checkerViolations} violations${o.replay === null ? '' : ', hash ='}`
    : `FAIL: ${o.invariants.filter((c) => !c.ok).map((c) => c.name).join(', ')}${o.lostAckedOrders > 0 ? ` (${o.lostAckedOrders} lost)` : ''}`;
  return [o.experiment, `${o.faultsInjected}× ${o.result.chaos?.windows[0]?.fault ?? 'none'}`, slo, rec, inv + (o.valid ? '' : ' [generator invalid]')];
}

export const TABLE_HEAD = ['experiment', 'fault', 'SLO impact (p99 before → during; failed requests)', 'recovery after clear (median / max)', 'invariants'];

export function formatTable(head: readonly string[], rows: readonly string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownSummary(outcomes: readonly ExperimentOutcome[], quick: boolean, seed: number): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|');
  const lines = [`# perpx chaos all${quick ? ' --quick' : ''} (seed ${seed})`, '',
    `| ${TABLE_HEAD.join(' | ')} | report |`, `|${TABLE_HEAD.map(() => '---').join('|')}|---|`];
  for (const o of outcomes) lines.push(`| ${outcomeRow(o).map(esc).join(' | ')} | ${o.dir}/report.html |`);
  lines.push('', outcomes.every((o) => o.invariantsOk) ? 'Every invariant held.' : '**An invariant failed** — see the experiment reports.');
  return `${lines.join('\n')}\n`;
}

export function sumPhases(all: readonly PhaseTimes[]): PhaseTimes {
  const t: PhaseTimes = { serverStart: 0, setup: 0, load: 0, checks: 0, replay: 0, finish: 0 };
  for (const p of all) for (const k of Object.keys(t) as (keyof PhaseTimes)[]) t[k] += p[k];
  return t;
}

export async function cmdChaos(args: string[]): Promise<number> {
  let p: Parsed;
  try {
    p = parseChaosArgs(args);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (p.help || p.target === 'help') {
    process.stdout.write(`${chaosHelp()}\n`);
    return 0;
  }
  if (p.target === '') return fail('name an experiment, "all" or "list" (perpx chaos --help)');
  if (p.target === 'list') {
    for (const e of EXPERIMENTS) process.stdout.write(`${e.name.padEnd(22)}${e.fault}\n`);
    return 0;
  }
  const list = p.target === 'all' ? [...EXPERIMENTS] : [findExperiment(p.target)].filter((e): e is Experiment => e !== undefined);
  if (list.length === 0) return fail(`unknown experiment "${p.target}" (try: perpx chaos list)`);
  try {
    if (p.target !== 'all') checkOptions(list[0]!, p.options);
    else if (Object.keys(p.options).length > 0) throw new Error('experiment options (e.g. --kills) apply to one experiment, not to "all"');
  } catch (e) {
    return fail((e as Error).message);
  }
  const abort = new AbortController();
  const onSigint = () => { process.stderr.write('\nperpx chaos: interrupted — clearing faults, checking and writing the report\n'); abort.abort(); };
  process.once('SIGINT', onSigint);
  const outcomes: ExperimentOutcome[] = [];
  const errors: string[] = [];
  const t0 = Date.now();
  try {
    for (const e of list) {
      if (abort.signal.aborted) break;
      try {
        outcomes.push(await runExperiment(e, {
          seed: p.seed, quick: p.quick, options: p.options, runsDir: p.runsDir, signal: abort.signal,
          onProgress: (pr) => process.stderr.write(`${progressLine(e.name, pr)}\n`),
        }));
      } catch (err) {
        errors.push(`${e.name}: ${(err as Error).message.split('\n')[0]}`);
        process.stderr.write(`perpx chaos: ${e.name} failed to run: ${(err as Error).message.split('\n')[0]}\n`);
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  const out: string[] = [''];
  out.push(formatTable(TABLE_HEAD, outcomes.map(outcomeRow)));
  for (const e of errors) out.push(`ERROR ${e}`);
  if (outcomes.length === 1) {
    out.push('');
    for (const [k, v] of outcomes[0]!.result.chaos?.figures ?? []) out.push(`  ${k.padEnd(50)}${v}`);
  }
  out.push('');
  for (const o of outcomes) out.push(`report: ${o.dir}/report.html`);
  if (p.target === 'all') {
    const dir = resolve(p.runsDir, `chaos-all-${new Date().toISOString().replace(/[:.]/g, '-')}${p.quick ? '-quick' : ''}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'summary.md'), markdownSummary(outcomes, p.quick, p.seed) + errors.map((e) => `\nERROR ${e}\n`).join(''));
    await linkLatest(resolve(p.runsDir), dir).catch(() => {});
    out.push(`combined summary: ${join(dir, 'summary.md')} (${((Date.now() - t0) / 1000).toFixed(0)} s in all)`);
    out.push(`where the time went: ${formatPhases(sumPhases(outcomes.map((o) => o.phasesS)))}`);
  }
  const ok = errors.length === 0 && outcomes.length === list.length && outcomes.every((o) => o.invariantsOk);
  out.push(ok ? 'PASS: every invariant held' : 'FAIL: an invariant failed or an experiment could not run');
  process.stdout.write(`${out.join('\n')}\n`);
  return ok ? 0 : 1;
}
