// `perpx compare <baseline> <run>`: the regression gate (reports/compare.ts) on the command line.
// A side is a run directory, a results.json, a glob of either (quote it: 'reports/runs/base-*'),
// or a comma-separated list; --baseline/--run may also be repeated. Repeats are compared as
// medians. Exit 0: no figure regressed beyond its tolerance; 1: a regression, or bad input
// (one line on stderr).

import { parseArgs } from 'node:util';
import { glob, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RESULT_SCHEMA } from '../harness/result.ts';
import type { RunResult } from '../harness/result.ts';
import { compareRuns, figureSpecs, formatMarkdown, formatText, toJson } from './compare.ts';

export const COMPARE_HELP = `usage: perpx compare <baseline-run> <run> [options]

Compares every key figure of a run with a baseline run and gives each a verdict
(better / same / worse / REGRESSION) against a tolerance. A run is a run directory
(reports/runs/<id>, or reports/runs/latest) or its results.json. Either side may be several
repeated runs — a quoted glob ('reports/runs/base-*'), a comma-separated list, or repeated
--baseline/--run options — and is then compared by the median of each figure; the spread of
the repeats widens the "same" band and the regression limit (noise-aware).

figures (default tolerance): achieved_rate (5%), corrected.p50/p99/p999 and
service.p50/p99/p999 (25/35/50%), error_rate (0.5 pp), timeout_rate (0.1 pp),
stage.<stage>.p50/p99 (35/50%: median of the run's 1 s windows), cpu_per_request (25%),
alloc_per_request (25%). Rates are compared in percentage points, the rest in %.

options:
  --baseline RUN         a baseline run (repeatable; instead of the first positional)
  --run RUN              a run to judge (repeatable; instead of the second positional)
  --tolerance KEY=VALUE  tolerance for a figure (% or pp; KEY may use *, e.g. 'stage.*.p99=80';
                         VALUE 'off' = report but never gate); repeatable, later wins
  --tolerances FILE      JSON object {"KEY": VALUE, ...}, applied before --tolerance
  --valid-only           leave out runs whose load generator could not keep its schedule
                         (GENERATOR INVALID: their latencies describe the generator); a side
                         left with no run is an error
  --json                 the comparison as JSON on stdout
  --markdown             a Markdown table (for a CI step summary, e.g. >> $GITHUB_STEP_SUMMARY)

exit: 0 no regression beyond tolerance, 1 a regression (or bad input)
`;

class InputError extends Error {}

function parseTolerance(text: string, where: string): [string, number | null] {
  const m = /^([A-Za-z0-9_.*-]+)=(.+)$/.exec(text.trim());
  if (m === null) throw new InputError(`${where}: expected KEY=VALUE (e.g. corrected.p99=20), got ${JSON.stringify(text)}`);
  return [m[1]!, toleranceValue(m[2]!, `${where} ${m[1]}`)];
}

function toleranceValue(v: unknown, where: string): number | null {
  if (v === 'off' || v === null) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim().replace(/%$|pp$/, '')) : NaN;
  if (!Number.isFinite(n) || n < 0 || (typeof v === 'string' && v.trim() === '')) throw new InputError(`${where}: tolerance must be a number >= 0 or "off", got ${JSON.stringify(v)}`);
  return n;
}

async function loadTolerancesFile(file: string): Promise<[string, number | null][]> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new InputError(`--tolerances ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InputError(`--tolerances ${file}: expected a JSON object {"figure": tolerance}`);
  return Object.entries(data).map(([k, v]) => [k, toleranceValue(v, `--tolerances ${file} ${k}`)]);
}

async function loadRun(path: string): Promise<RunResult> {
  let file = path;
  const st = await stat(path).catch(() => null);
  if (st === null) throw new InputError(`${path}: no such run directory or results.json`);
  if (st.isDirectory()) file = join(path, 'results.json');
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const msg = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no results.json in it' : (e as Error).message.split('\n')[0];
    throw new InputError(`${path}: ${msg}`);
  }
  const r = data as Partial<RunResult>;
  if (typeof r !== 'object' || r === null || r.schema !== RESULT_SCHEMA) {
    throw new InputError(`${file}: not a perpx run result (schema ${JSON.stringify((r as { schema?: unknown } | null)?.schema ?? null)}, expected ${RESULT_SCHEMA})`);
  }
  if (typeof r.totals !== 'object' || typeof r.latency !== 'object') throw new InputError(`${file}: run result without totals/latency`);
  return r as RunResult;
}

/** One side: each argument may be a comma list; each item a path or a glob. */
async function expandSide(args: string[], side: string): Promise<string[]> {
  const paths: string[] = [];
  for (const arg of args) {
    for (const item of arg.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      if (/[*?[]/.test(item)) {
        const matched: string[] = [];
        for await (const p of glob(item)) matched.push(p);
        if (matched.length === 0) throw new InputError(`${side} ${JSON.stringify(item)} matches no file or directory`);
        paths.push(...matched.sort());
      } else {
        paths.push(item);
      }
    }
  }
  if (paths.length === 0) throw new InputError(`no ${side} run given (perpx compare <baseline-run> <run>)`);
  // A glob like runs/* may catch both run directories and their results.json: keep directories' results once.
  return [...new Set(paths.map((p) => p.replace(/\/results\.json$/, '').replace(/\/$/, '')))];
}

export async function cmdCompare(args: string[]): Promise<number> {
  try {
    return await compareCommand(args);
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`perpx compare: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

async function compareCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        baseline: { type: 'string', multiple: true }, run: { type: 'string', multiple: true },
        tolerance: { type: 'string', multiple: true }, tolerances: { type: 'string' },
        json: { type: 'boolean' }, markdown: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, 'valid-only': { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new InputError((e as Error).message.split('\n')[0]!.replace(/^(Unknown option '[^']*'\.).*$/, '$1'));
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(COMPARE_HELP);
    return 0;
  }
  if (values.json === true && values.markdown === true) throw new InputError('--json and --markdown are exclusive');
  const baseArgs = [...(values.baseline ?? [])];
  const runArgs = [...(values.run ?? [])];
  const pos = [...positionals];
  if (baseArgs.length === 0 && pos.length > 0) baseArgs.push(pos.shift()!);
  if (runArgs.length === 0 && pos.length > 0) runArgs.push(pos.shift()!);
  if (pos.length > 0) throw new InputError(`unexpected argument ${JSON.stringify(pos[0])} (several runs per side: a quoted glob, a comma list, or repeated --baseline/--run)`);
  if (baseArgs.length === 0 || runArgs.length === 0) throw new InputError('usage: perpx compare <baseline-run> <run> (see perpx compare --help)');
  const tolerances: Record<string, number | null> = {};
  if (values.tolerances !== undefined) for (const [k, v] of await loadTolerancesFile(values.tolerances)) tolerances[k] = v;
  for (const t of values.tolerance ?? []) {
    const [k, v] = parseTolerance(t, '--tolerance');
    delete tolerances[k]; // re-insert so a later --tolerance wins over a file's glob
    tolerances[k] = v;
  }
  let baseline = await Promise.all((await expandSide(baseArgs, 'baseline')).map(loadRun));
  let run = await Promise.all((await expandSide(runArgs, 'run')).map(loadRun));
  const dropped: string[] = [];
  if (values['valid-only'] === true) {
    const keep = (rs: RunResult[], side: string): RunResult[] => {
      const valid = rs.filter((r) => r.valid);
      for (const r of rs) if (!r.valid) dropped.push(r.id);
      if (valid.length === 0) throw new InputError(`--valid-only: no valid run on the ${side} side (${rs.length} GENERATOR INVALID: ${rs.map((r) => r.id).join(', ')})`);
      return valid;
    };
    baseline = keep(baseline, 'baseline');
    run = keep(run, 'run');
  }
  const known = figureSpecs([...baseline, ...run]).map((s) => s.key);
  for (const k of Object.keys(tolerances)) {
    const re = new RegExp(`^${k.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    if (!known.some((key) => re.test(key))) throw new InputError(`tolerance for unknown figure ${JSON.stringify(k)} (figures: ${known.join(', ')})`);
  }
  const c = compareRuns(baseline, run, { tolerances });
  if (dropped.length > 0) c.notes.unshift(`--valid-only left out ${dropped.length} GENERATOR INVALID run(s): ${dropped.join(', ')}`);
  if (values.json === true) process.stdout.write(`${JSON.stringify(toJson(c), null, 1)}\n`);
  else if (values.markdown === true) process.stdout.write(formatMarkdown(c));
  else process.stdout.write(formatText(c));
  return c.regressions.length > 0 ? 1 : 0;
}
