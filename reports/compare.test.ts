// The regression gate: verdicts per figure against tolerances, medians over repeats with the
// repeats' spread widening the limits, the CLI's exit codes and one-line errors, and a
// property: making a figure worse never makes its verdict better.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '../harness/result.ts';
import { syntheticResult } from './synthetic.ts';
import { compareRuns, judge } from './compare.ts';
import type { Verdict } from './compare.ts';
import { cmdCompare } from './cmd-compare.ts';

const BASE = syntheticResult({ withServer: true });

function variant(id: string, edit: (r: RunResult) => void = () => {}): RunResult {
  const r = structuredClone(BASE);
  r.id = id;
  r.server!.usage = { fromS: 1, toS: 30, cpuSeconds: 3, allocatedBytes: 300 * 1024 * 1000, requests: 1000 };
  edit(r);
  return r;
}

function verdictOf(base: RunResult[], run: RunResult[], key: string, tolerances?: Record<string, number | null>): Verdict {
  const f = compareRuns(base, run, tolerances === undefined ? {} : { tolerances }).figures.find((x) => x.key === key);
  expect(f, key).toBeDefined();
  return f!.verdict;
}

describe('compareRuns', () => {
  it('identical runs: every figure "same", no regression; the table has rates, latencies, stages, CPU and allocation', () => {
    const c = compareRuns([variant('a')], [variant('b')]);
    expect(c.regressions).toEqual([]);
    expect(new Set(c.figures.map((f) => f.verdict))).toEqual(new Set(['same']));
    const keys = c.figures.map((f) => f.key);
    for (const k of ['achieved_rate', 'corrected.p50', 'corrected.p99', 'corrected.p999', 'service.p99', 'error_rate', 'cpu_per_request', 'alloc_per_request']) expect(keys).toContain(k);
    expect(keys.some((k) => /^stage\..+\.p99$/.test(k))).toBe(true);
    expect(c.figures.find((f) => f.key === 'cpu_per_request')!.baseline).toBeCloseTo(3, 9); // 3 s / 1000 requests = 3 ms
    expect(c.figures.find((f) => f.key === 'alloc_per_request')!.baseline).toBeCloseTo(300, 9);
  });

  it('a p99 50% up is a REGRESSION at the default 35%, "worse" at 60%, and halved p99 is "better"', () => {
    const p99 = BASE.latency.corrected.p99Ms;
    const slower = variant('slow', (r) => { r.latency.corrected.p99Ms = p99 * 1.5; });
    expect(verdictOf([variant('a')], [slower], 'corrected.p99')).toBe('REGRESSION');
    expect(verdictOf([variant('a')], [slower], 'corrected.p99', { 'corrected.p99': 60 })).toBe('worse');
    expect(verdictOf([variant('a')], [slower], 'corrected.p99', { 'corrected.*': null })).toBe('worse'); // reported, never gated
    const faster = variant('fast', (r) => { r.latency.corrected.p99Ms = p99 * 0.5; });
    expect(verdictOf([variant('a')], [faster], 'corrected.p99')).toBe('better');
    expect(compareRuns([variant('a')], [faster]).regressions).toEqual([]);
  });

  it('higher-is-better figures: a 10% lower achieved rate regresses at 5%', () => {
    const r = variant('low', (x) => { x.totals.achievedRps *= 0.9; });
    expect(verdictOf([variant('a')], [r], 'achieved_rate')).toBe('REGRESSION');
    const up = variant('up', (x) => { x.totals.achievedRps *= 1.1; });
    expect(verdictOf([variant('a')], [up], 'achieved_rate')).toBe('better');
  });

  it('rates are compared in percentage points: 0.1% → 0.9% errors regresses at 0.5 pp, not at 1 pp', () => {
    const b = variant('b', (x) => { x.totals.errorRate = 0.001; });
    const r = variant('r', (x) => { x.totals.errorRate = 0.009; });
    expect(verdictOf([b], [r], 'error_rate')).toBe('REGRESSION');
    expect(verdictOf([b], [r], 'error_rate', { error_rate: 1 })).toBe('worse');
  });

  it('noise-aware: medians over repeats, and a spread of 40% between identical baselines keeps +40% from gating', () => {
    const withP99 = (id: string, v: number) => variant(id, (r) => { r.latency.corrected.p99Ms = v; });
    // One baseline at 10 ms vs a run at 14 ms: +40% > 35% → regression.
    expect(verdictOf([withP99('b1', 10)], [withP99('r1', 14)], 'corrected.p99')).toBe('REGRESSION');
    // Baselines 10, 10, 14 (median 10, spread 40%): the same run is within the noise.
    const c = compareRuns([withP99('b1', 10), withP99('b2', 10), withP99('b3', 14)], [withP99('r1', 14)]);
    const f = c.figures.find((x) => x.key === 'corrected.p99')!;
    expect(f.baseline).toBe(10);
    expect(f.noise).toBeCloseTo(40, 9);
    expect(f.verdict).toBe('same');
    // The run side's median is used too: 9, 30, 10 → 10.
    const g = compareRuns([withP99('b1', 10)], [withP99('r1', 9), withP99('r2', 30), withP99('r3', 10)]).figures.find((x) => x.key === 'corrected.p99')!;
    expect(g.run).toBe(10);
  });

  it('missing server usage gives n/a figures and a note, not an error', () => {
    const old = structuredClone(BASE);
    delete old.server!.usage;
    const c = compareRuns([old], [variant('b')]);
    expect(c.figures.find((f) => f.key === 'cpu_per_request')!.verdict).toBe('n/a');
    expect(c.notes.join(' ')).toMatch(/server usage/);
  });

  it('property: a figure moved further in its worse direction never gets a better verdict', () => {
    const rank: Record<Verdict, number> = { better: 0, same: 1, worse: 2, REGRESSION: 3, 'n/a': -1 };
    fc.assert(fc.property(
      fc.double({ min: 0.01, max: 1e4, noNaN: true }), fc.double({ min: 0, max: 5, noNaN: true }), fc.double({ min: 0, max: 5, noNaN: true }),
      fc.constantFrom<'lower' | 'higher'>('lower', 'higher'), fc.constantFrom<'relative' | 'absolute'>('relative', 'absolute'),
      fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 50, noNaN: true }),
      (base, f1, f2, better, mode, tol, noise) => {
        const spec = { better, mode, floor: 0.01 };
        const [lo, hi] = f1 <= f2 ? [f1, f2] : [f2, f1];
        // factors ≥ 1 move a lower-is-better figure up (worse) and a higher-is-better one down (worse).
        const at = (k: number) => (better === 'lower' ? base * (1 + k) : base / (1 + k));
        const v1 = judge(spec, base, at(lo), tol, noise);
        const v2 = judge(spec, base, at(hi), tol, noise);
        return rank[v2] >= rank[v1];
      },
    ), { numRuns: 2000 });
  });
});

describe('perpx compare (command)', () => {
  let dir: string;
  let out = '';
  let err = '';
  const run = async (...args: string[]): Promise<number> => {
    out = '';
    err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
    try {
      return await cmdCompare(args);
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  };
  const save = (name: string, r: RunResult): string => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'results.json'), JSON.stringify(r));
    return d;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'perpx-compare-'));
    for (const i of [1, 2, 3]) save(`base-${i}`, variant(`base-${i}`, (r) => { r.latency.corrected.p99Ms *= 1 + i / 100; }));
    save('same', variant('same'));
    save('slow', variant('slow', (r) => { r.latency.corrected.p99Ms *= 2; }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exit 0 without a regression, 1 with one; the table names the figure and the verdict', async () => {
    expect(await run(join(dir, 'base-1'), join(dir, 'same'))).toBe(0);
    expect(out).toMatch(/^PASS: no regression/m);
    expect(await run(join(dir, 'base-1'), join(dir, 'slow', 'results.json'))).toBe(1);
    expect(out).toMatch(/^corrected\.p99\s.*REGRESSION$/m);
    expect(out).toMatch(/^FAIL: REGRESSION in 1 figure: corrected\.p99 \+\d/m);
    expect(await run(join(dir, 'base-1'), join(dir, 'slow'), '--tolerance', 'corrected.p99=150')).toBe(0);
  });

  it('repeated runs as a glob, a comma list or repeated --baseline; --json and --markdown', async () => {
    expect(await run(join(dir, 'base-*'), join(dir, 'slow'), '--json')).toBe(1);
    const j = JSON.parse(out) as { baseline: { ids: string[] }; regressions: string[]; figures: { key: string; baselineValues: number[] }[] };
    expect(j.baseline.ids).toEqual(['base-1', 'base-2', 'base-3']);
    expect(j.regressions).toEqual(['corrected.p99']);
    expect(j.figures.find((f) => f.key === 'corrected.p99')!.baselineValues).toHaveLength(3);
    expect(await run(`${join(dir, 'base-1')},${join(dir, 'base-2')}`, join(dir, 'same'), '--markdown')).toBe(0);
    expect(out).toMatch(/^\| figure \| baseline \| run \|/m);
    expect(out).toMatch(/2 runs \(median\)/);
    expect(await run('--baseline', join(dir, 'base-1'), '--baseline', join(dir, 'base-2'), '--run', join(dir, 'slow'), '--markdown')).toBe(1);
    expect(out).toMatch(/REGRESSION/);
  });

  it('tolerances from a file, overridden by --tolerance', async () => {
    const f = join(dir, 'tol.json');
    writeFileSync(f, JSON.stringify({ 'corrected.*': 150 }));
    expect(await run(join(dir, 'base-1'), join(dir, 'slow'), '--tolerances', f)).toBe(0);
    expect(await run(join(dir, 'base-1'), join(dir, 'slow'), '--tolerances', f, '--tolerance', 'corrected.p99=20')).toBe(1);
  });

  it('--valid-only leaves generator-invalid runs out (and fails when a side has none left)', async () => {
    save('invalid-slow', variant('invalid-slow', (r) => { r.valid = false; r.invalidReasons = ['schedule lag p99 90 ms exceeds 5 ms']; r.latency.corrected.p99Ms *= 3; }));
    const runs = `${join(dir, 'same')},${join(dir, 'invalid-slow')}`;
    expect(await run(join(dir, 'base-1'), runs, '--json')).toBe(1); // the invalid run drags the median up
    expect(await run(join(dir, 'base-1'), runs, '--valid-only', '--json')).toBe(0);
    const j = JSON.parse(out) as { run: { ids: string[] }; notes: string[] };
    expect(j.run.ids).toEqual(['same']);
    expect(j.notes[0]).toBe('--valid-only left out 1 GENERATOR INVALID run(s): invalid-slow');
    expect(await run(join(dir, 'base-1'), join(dir, 'invalid-slow'), '--valid-only')).toBe(1);
    expect(err).toMatch(/^perpx compare: --valid-only: no valid run on the run side \(1 GENERATOR INVALID: invalid-slow\)\n$/);
  });

  it('bad input: one line on stderr and exit 1', async () => {
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ schema: 'something/2' }));
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    const cases: [string[], RegExp][] = [
      [[join(dir, 'nope'), join(dir, 'same')], /no such run directory/],
      [[join(dir, 'other.json'), join(dir, 'same')], /not a perpx run result/],
      [[join(dir, 'broken.json'), join(dir, 'same')], /broken\.json: /],
      [[join(dir, 'base-1')], /usage: perpx compare/],
      [[join(dir, 'zzz-*'), join(dir, 'same')], /matches no file/],
      [[join(dir, 'base-1'), join(dir, 'same'), '--tolerance', 'p99'], /expected KEY=VALUE/],
      [[join(dir, 'base-1'), join(dir, 'same'), '--tolerance', 'corrected.p99=-3'], /tolerance must be a number/],
      [[join(dir, 'base-1'), join(dir, 'same'), '--tolerance', 'latency=5'], /unknown figure "latency"/],
      [[join(dir, 'base-1'), join(dir, 'same'), '--bogus'], /Unknown option '--bogus'\.\n$/],
      [[join(dir, 'base-1'), join(dir, 'same'), join(dir, 'slow')], /unexpected argument/],
    ];
    for (const [args, re] of cases) {
      expect(await run(...args), args.join(' ')).toBe(1);
      expect(err, args.join(' ')).toMatch(re);
      expect(err.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(err.startsWith('perpx compare: ')).toBe(true);
    }
  });
});
