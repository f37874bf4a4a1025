// Regression gating: compare a candidate run (or several repeats of it) with a baseline run
// (or several repeats) figure by figure, and decide per figure better / same / worse /
// REGRESSION against a tolerance. Noise-aware: with repeats, every figure is the median of
// the repeats, and the spread of the repeats (largest relative distance of a repeat from its
// median, baseline and run combined) widens both the "same" band and the regression limit,
// so a figure that jumps around by 30% between identical runs cannot gate at 10%.
//
//   const cmp = compareRuns(baselineResults, runResults, { tolerances: { 'corrected.p99': 20 } });
//   cmp.regressions  // figures worse than tolerance → `perpx compare` exits 1
//
// Figures (key: what; tolerance default):
//   achieved_rate              sends/s achieved (higher is better)               5 %
//   corrected.p50|p99|p999     latency from the intended send time               25 / 35 / 50 %
//   service.p50|p99|p999       latency from the actual send time                 25 / 35 / 50 %
//   error_rate, timeout_rate   fractions; tolerance in percentage POINTS          0.5 / 0.1 pp
//   stage.<name>.p50|p99       server stage latency: median over the run's 1 s windows  35 / 50 %
//   cpu_per_request            server CPU ms per answered request (all threads)   25 %
//   alloc_per_request          server heap KB allocated per answered request      25 %
// Default tolerances are sized for the shared 2-core machine (figures move ±20–30 % run to run).

import type { RunResult } from '../harness/result.ts';

export type Better = 'higher' | 'lower';
export type Verdict = 'better' | 'same' | 'worse' | 'REGRESSION' | 'n/a';

export interface FigureSpec {
  key: string;
  label: string;
  unit: string;
  better: Better;
  /** 'relative': tolerance in % of the baseline; 'absolute': tolerance in the figure's display unit (percentage points for rates). */
  mode: 'relative' | 'absolute';
  tolerance: number;
  /** Changes smaller than this (display unit) are "same" whatever their % (a 0.01 ms move is not news). */
  floor: number;
  get(r: RunResult): number | null;
}

export interface FigureComparison {
  key: string;
  label: string;
  unit: string;
  better: Better;
  baseline: number | null;
  run: number | null;
  /** run − baseline (display unit). */
  change: number | null;
  /** change / baseline × 100; null when the baseline is 0 or absent. */
  changePct: number | null;
  mode: 'relative' | 'absolute';
  /** null = not gated (--tolerance key=off). */
  tolerance: number | null;
  /** Spread of the repeats (% for relative figures, display unit for absolute ones); 0 with single runs. */
  noise: number;
  verdict: Verdict;
  /** Per-repeat values (display unit). */
  baselineValues: number[];
  runValues: number[];
}

export interface Comparison {
  baseline: { ids: string[]; scenarios: string[] };
  run: { ids: string[]; scenarios: string[] };
  figures: FigureComparison[];
  regressions: FigureComparison[];
  /** Things the reader should know (invalid runs, mismatched scenarios, missing series). */
  notes: string[];
}

export interface CompareOptions {
  /** figure key (or glob with *) → tolerance (% or pp), or null = not gated. Later entries win. */
  tolerances?: Record<string, number | null>;
}

const LAT_TOL: Record<string, number> = { p50: 25, p99: 35, p999: 50 };
const LAT_LABEL: Record<string, string> = { p50: 'p50', p99: 'p99', p999: 'p99.9' };

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The run's stage names (server.stages keys), in pipeline order where known. */
const STAGE_ORDER = ['decode_auth', 'queue_wait', 'engine_apply', 'journal_wait', 'encode_write', 'host_round_trip'];

function stageFigures(stages: string[]): FigureSpec[] {
  const out: FigureSpec[] = [];
  const ordered = [...stages].sort((a, b) => (STAGE_ORDER.indexOf(a) + 1 || 99) - (STAGE_ORDER.indexOf(b) + 1 || 99) || (a < b ? -1 : 1));
  for (const name of ordered) {
    for (const q of ['p50', 'p99'] as const) {
      out.push({
        key: `stage.${name}.${q}`, label: `stage ${name} ${q}`, unit: 'ms', better: 'lower', mode: 'relative',
        tolerance: q === 'p50' ? 35 : 50, floor: 0.02,
        get: (r) => {
          const s = r.server?.stages?.[name];
          const series = q === 'p50' ? s?.p50Ms : s?.p99Ms;
          return series === undefined ? null : median(series.values.filter((v) => Number.isFinite(v)));
        },
      });
    }
  }
  return out;
}

/** Every figure compared, for the stages present in any of the runs. */
export function figureSpecs(runs: readonly RunResult[]): FigureSpec[] {
  const specs: FigureSpec[] = [
    { key: 'achieved_rate', label: 'achieved rate', unit: 'req/s', better: 'higher', mode: 'relative', tolerance: 5, floor: 1, get: (r) => r.totals.achievedRps },
  ];
  for (const which of ['corrected', 'service'] as const) {
    for (const q of ['p50', 'p99', 'p999'] as const) {
      specs.push({
        key: `${which}.${q}`, label: `${which} ${LAT_LABEL[q]}`, unit: 'ms', better: 'lower', mode: 'relative', tolerance: LAT_TOL[q]!, floor: 0.5,
        get: (r) => (r.latency[which].count > 0 ? r.latency[which][`${q}Ms`] : null),
      });
    }
  }
  specs.push(
    { key: 'error_rate', label: 'error rate', unit: '%', better: 'lower', mode: 'absolute', tolerance: 0.5, floor: 0.01, get: (r) => r.totals.errorRate * 100 },
    { key: 'timeout_rate', label: 'timeout rate', unit: '%', better: 'lower', mode: 'absolute', tolerance: 0.1, floor: 0.001, get: (r) => r.totals.timeoutRate * 100 },
  );
  const stages = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.server?.stages ?? {})) stages.add(k);
  specs.push(...stageFigures([...stages]));
  specs.push(
    {
      key: 'cpu_per_request', label: 'server CPU per request', unit: 'ms', better: 'lower', mode: 'relative', tolerance: 25, floor: 0.005,
      get: (r) => { const u = r.server?.usage; return u === undefined || u.requests <= 0 ? null : (u.cpuSeconds * 1000) / u.requests; },
    },
    {
      key: 'alloc_per_request', label: 'server heap allocated per request', unit: 'KB', better: 'lower', mode: 'relative', tolerance: 25, floor: 0.5,
      get: (r) => { const u = r.server?.usage; return u === undefined || u.requests <= 0 ? null : u.allocatedBytes / 1024 / u.requests; },
    },
  );
  return specs;
}

function globMatch(pattern: string, key: string): boolean {
  if (!pattern.includes('*')) return pattern === key;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(key);
}

/** The tolerance for `key`: the last matching --tolerance entry, else the figure's default. */
export function toleranceFor(spec: FigureSpec, tolerances: Record<string, number | null> | undefined): number | null {
  let t: number | null = spec.tolerance;
  for (const [pattern, v] of Object.entries(tolerances ?? {})) if (globMatch(pattern, spec.key)) t = v;
  return t;
}

/** Largest distance of a repeat from the median: % of the median (relative) or display units (absolute). */
function spread(values: number[], mode: 'relative' | 'absolute'): number {
  const m = median(values);
  if (m === null || values.length < 2) return 0;
  const d = Math.max(...values.map((v) => Math.abs(v - m)));
  if (mode === 'absolute') return d;
  return m === 0 ? 0 : (d / Math.abs(m)) * 100;
}

export function judge(spec: Pick<FigureSpec, 'better' | 'mode' | 'floor'>, baseline: number | null, run: number | null, tolerance: number | null, noise: number): Verdict {
  if (baseline === null || run === null) return 'n/a';
  const change = run - baseline;
  const worseBy = spec.better === 'lower' ? change : -change; // > 0: degraded
  if (Math.abs(change) <= spec.floor) return 'same';
  // Size of the move in the tolerance's unit: % of the baseline, or absolute.
  const size = spec.mode === 'absolute' ? Math.abs(change) : baseline === 0 ? Infinity : (Math.abs(change) / Math.abs(baseline)) * 100;
  // "same" band: a quarter of the tolerance (default 5 % when not gated), widened to the repeats' spread.
  const sameBand = Math.max((tolerance ?? 20) / 4, noise);
  if (size <= sameBand) return 'same';
  if (worseBy < 0) return 'better';
  if (tolerance === null) return 'worse';
  return size > Math.max(tolerance, noise) ? 'REGRESSION' : 'worse';
}

export function compareRuns(baseline: readonly RunResult[], run: readonly RunResult[], opts: CompareOptions = {}): Comparison {
  if (baseline.length === 0 || run.length === 0) throw new Error('need at least one baseline run and one run');
  const notes: string[] = [];
  const names = (rs: readonly RunResult[]) => [...new Set(rs.map((r) => r.scenario.name))];
  const bNames = names(baseline);
  const rNames = names(run);
  if (bNames.length > 1 || rNames.length > 1 || bNames[0] !== rNames[0]) {
    notes.push(`scenarios differ (baseline: ${bNames.join(', ')}; run: ${rNames.join(', ')}): the comparison may not mean much`);
  }
  for (const r of [...baseline, ...run]) {
    if (!r.valid) notes.push(`run ${r.id} is GENERATOR INVALID (${r.invalidReasons.join('; ')}): its latencies describe the generator`);
    if (r.aborted) notes.push(`run ${r.id} was aborted`);
  }
  if ([...baseline, ...run].some((r) => r.server?.usage === undefined)) {
    notes.push('cpu_per_request / alloc_per_request need server usage (results.json server.usage, written by `perpx run` since the compare feature): n/a where missing');
  }
  const figures: FigureComparison[] = [];
  for (const spec of figureSpecs([...baseline, ...run])) {
    const values = (rs: readonly RunResult[]) => rs.map((r) => spec.get(r)).filter((v): v is number => v !== null && Number.isFinite(v));
    const bv = values(baseline);
    const rv = values(run);
    if (bv.length === 0 && rv.length === 0) continue;
    const b = median(bv);
    const r = median(rv);
    const tolerance = toleranceFor(spec, opts.tolerances);
    const noise = Math.max(spread(bv, spec.mode), spread(rv, spec.mode));
    const change = b === null || r === null ? null : r - b;
    figures.push({
      key: spec.key, label: spec.label, unit: spec.unit, better: spec.better, baseline: b, run: r, change,
      changePct: change === null || b === null || b === 0 ? null : (change / Math.abs(b)) * 100,
      mode: spec.mode, tolerance, noise, verdict: judge(spec, b, r, tolerance, noise), baselineValues: bv, runValues: rv,
    });
  }
  return {
    baseline: { ids: baseline.map((r) => r.id), scenarios: bNames },
    run: { ids: run.map((r) => r.id), scenarios: rNames },
    figures,
    regressions: figures.filter((f) => f.verdict === 'REGRESSION'),
    notes,
  };
}

// ---------------------------------------------------------------- rendering

function fmt(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (unit === 'req/s') return v.toFixed(1);
  if (unit === '%') return v.toFixed(a < 0.1 ? 4 : 3);
  return v.toFixed(a < 1 ? 4 : a < 100 ? 3 : 1);
}

function signed(v: number | null, unit: string): string {
  if (v === null) return 'n/a';
  return `${v > 0 ? '+' : ''}${fmt(v, unit)}`;
}

function pctText(f: FigureComparison): string {
  return f.changePct === null ? 'n/a' : `${f.changePct > 0 ? '+' : ''}${f.changePct.toFixed(1)}%`;
}

function tolText(f: FigureComparison): string {
  if (f.tolerance === null) return 'off';
  return f.mode === 'absolute' ? `${f.tolerance} pp` : `${f.tolerance}%`;
}

function noiseText(f: FigureComparison): string {
  if (f.baselineValues.length < 2 && f.runValues.length < 2) return '';
  return f.mode === 'absolute' ? `±${fmt(f.noise, f.unit)}` : `±${f.noise.toFixed(1)}%`;
}

export function headline(c: Comparison): string {
  const n = c.regressions.length;
  if (n === 0) return `no regression beyond tolerance (${c.figures.filter((f) => f.verdict === 'worse').length} worse within tolerance, ${c.figures.filter((f) => f.verdict === 'better').length} better)`;
  return `REGRESSION in ${n} figure${n === 1 ? '' : 's'}: ${c.regressions.map((f) => `${f.key} ${f.mode === 'absolute' ? signed(f.change, f.unit) + ' pp' : pctText(f)} (tolerance ${tolText(f)})`).join(', ')}`;
}

function sides(c: Comparison): string {
  const side = (s: Comparison['baseline']) => `${s.ids.length === 1 ? s.ids[0] : `${s.ids.length} runs (median)`} [${s.scenarios.join(', ')}]`;
  return `baseline ${side(c.baseline)} → run ${side(c.run)}`;
}

export function formatText(c: Comparison): string {
  const head = ['figure', 'unit', 'baseline', 'run', 'change', '%', 'tolerance', 'noise', 'verdict'];
  const rows = c.figures.map((f) => [f.key, f.unit, fmt(f.baseline, f.unit), fmt(f.run, f.unit), signed(f.change, f.unit), pctText(f), tolText(f), noiseText(f), f.verdict]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c2, i) => (i === 0 || i === 1 || i === cells.length - 1 ? c2.padEnd(widths[i]!) : c2.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [`perpx compare: ${sides(c)}`, '', line(head), ...rows.map(line), ''];
  for (const n of c.notes) out.push(`note: ${n}`);
  out.push(`${c.regressions.length > 0 ? 'FAIL' : 'PASS'}: ${headline(c)}`);
  return `${out.join('\n')}\n`;
}

export function formatMarkdown(c: Comparison): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const icon: Record<Verdict, string> = { better: '🟢 better', same: 'same', worse: '🟡 worse', REGRESSION: '🔴 **REGRESSION**', 'n/a': 'n/a' };
  const out = [
    `### perpx compare: ${c.regressions.length > 0 ? '🔴 FAIL' : '🟢 PASS'}`,
    '',
    esc(sides(c)),
    '',
    `**${esc(headline(c))}**`,
    '',
    '| figure | baseline | run | change | % | tolerance | noise | verdict |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...c.figures.map((f) => `| ${esc(f.label)} (${f.unit}) | ${fmt(f.baseline, f.unit)} | ${fmt(f.run, f.unit)} | ${signed(f.change, f.unit)} | ${pctText(f)} | ${tolText(f)} | ${noiseText(f)} | ${icon[f.verdict]} |`),
    '',
  ];
  for (const n of c.notes) out.push(`> note: ${esc(n)}`, '');
  return `${out.join('\n')}`;
}

export function toJson(c: Comparison): object {
  return {
    baseline: c.baseline, run: c.run, pass: c.regressions.length === 0, headline: headline(c), notes: c.notes,
    figures: c.figures, regressions: c.regressions.map((f) => f.key),
  };
}
