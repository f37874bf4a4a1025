// CI outputs of a run: junit.xml is well-formed XML (parsed by a strict reader, not compared as
// a string) whose tests/failures/skipped counts match the run's thresholds, checker results
// and generator validity, with hostile text escaped; ci-summary.md leads with the verdict and
// lists what failed, bounded; writeReport puts both into the run directory.

import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '../harness/result.ts';
import { syntheticResult } from './synthetic.ts';
import { buildJunit } from './junit.ts';
import { parseXml } from './junit-xml-reader.ts';
import type { XmlElement } from './junit-xml-reader.ts';
import { buildCiSummary } from './ci-summary.ts';
import { analyze, writeReport } from './report.ts';

const NASTY = 'order <7> & "quoted" \'single\' ]]> \u0001bell\u0007 \uD800 ok';

function withChecker(r: RunResult, violations: number): RunResult {
  r.checker = [
    { name: 'history', ok: violations === 0, detail: `checked ${NASTY}`, violations: Array.from({ length: violations }, (_, i) => ({ message: `lost ack ${i}: ${NASTY}` })) },
    { name: 'conservation', ok: true, detail: 'Σ wallets + fund + fees = deposits − withdrawals' },
  ];
  return r;
}

function attrNum(e: XmlElement, name: string): number {
  const v = e.attrs[name];
  expect(v, `${e.name}@${name}`).toBeDefined();
  return Number(v);
}

/** Checks every count attribute against the children actually present; returns the root's counts. */
function checkCounts(root: XmlElement): { tests: number; failures: number; skipped: number } {
  expect(root.name).toBe('testsuites');
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  for (const suite of root.children) {
    expect(suite.name).toBe('testsuite');
    const cases = suite.children.filter((c) => c.name === 'testcase');
    const failed = cases.filter((c) => c.children.some((x) => x.name === 'failure')).length;
    const skip = cases.filter((c) => c.children.some((x) => x.name === 'skipped')).length;
    expect(attrNum(suite, 'tests'), suite.attrs.name).toBe(cases.length);
    expect(attrNum(suite, 'failures'), suite.attrs.name).toBe(failed);
    expect(attrNum(suite, 'skipped'), suite.attrs.name).toBe(skip);
    expect(attrNum(suite, 'errors')).toBe(0);
    for (const c of cases) {
      expect(c.attrs.name, 'testcase name').toBeTruthy();
      expect(c.attrs.classname, 'testcase classname').toBeTruthy();
    }
    tests += cases.length;
    failures += failed;
    skipped += skip;
  }
  expect(attrNum(root, 'tests')).toBe(tests);
  expect(attrNum(root, 'failures')).toBe(failures);
  expect(attrNum(root, 'skipped')).toBe(skipped);
  return { tests, failures, skipped };
}

describe('the strict XML reader (so the test below can fail)', () => {
  it('rejects malformed XML', () => {
    for (const bad of ['<a><b></a></b>', '<a x="1" x="2"/>', '<a>1 < 2</a>', '<a>&nbsp;</a>', '<a/><b/>', '<a>', '<a x=1/>', 'text<a/>', '<a>\u0001</a>', '<a>&amp</a>']) {
      expect(() => parseXml(bad), bad).toThrow();
    }
    const ok = parseXml('<?xml version="1.0"?>\n<a k="&lt;&amp;&quot;&#65;&#x42;"><!-- c --><b/>t&apos;</a>\n');
    expect(ok.attrs.k).toBe('<&"AB');
    expect(ok.children.map((c) => c.name)).toEqual(['b']);
    expect(ok.text).toBe("t'");
  });
});

describe('junit.xml', () => {
  it('counts match the run: thresholds, checker cases, generator validity; hostile text survives escaped', () => {
    const r = withChecker(syntheticResult({ withServer: true, invalid: true }), 30);
    const root = parseXml(buildJunit(r));
    const counts = checkCounts(root);
    const expectedFailures = r.thresholds.filter((t) => !t.pass).length + r.checker!.filter((c) => !c.ok).length + (r.valid ? 0 : 1);
    expect(counts.tests).toBe(r.thresholds.length + r.checker!.length + 1);
    expect(counts.failures).toBe(expectedFailures);
    expect(counts.failures).toBeGreaterThanOrEqual(2); // the invalid generator and the history checker at least
    const suites = Object.fromEntries(root.children.map((s) => [s.attrs.name, s]));
    expect(Object.keys(suites)).toEqual(['generator', 'thresholds', 'checker']);
    expect(suites.thresholds!.children.map((c) => c.attrs.name)).toEqual(r.thresholds.map((t) => t.source));
    const history = suites.checker!.children.find((c) => c.attrs.name === 'history')!;
    const failure = history.children.find((c) => c.name === 'failure')!;
    expect(failure.attrs.message).toMatch(/^history: 30 violations — first: lost ack 0: order <7> & "quoted" 'single' \]\]> /);
    expect(failure.text).toContain('lost ack 19');
    expect(failure.text).not.toContain('lost ack 20:'); // bounded
    expect(failure.text).toContain('10 more in results.json');
    expect(suites.generator!.children.find((c) => c.name === 'testcase')!.children.find((c) => c.name === 'failure')!.text).toBe(r.invalidReasons.join('\n'));
  });

  it('a passing run has 0 failures; a run without a checker has one skipped case', () => {
    const r = syntheticResult({ withServer: true });
    r.thresholds = r.thresholds.map((t) => ({ ...t, pass: true }));
    let root = parseXml(buildJunit(withChecker(r, 0)));
    expect(checkCounts(root)).toEqual({ tests: r.thresholds.length + 3, failures: 0, skipped: 0 });
    delete r.checker;
    root = parseXml(buildJunit(r));
    expect(checkCounts(root)).toEqual({ tests: r.thresholds.length + 2, failures: 0, skipped: 1 });
  });
});

describe('ci-summary.md and writeReport', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perpx-junit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leads with the verdict, lists failed thresholds and a bounded list of violations', () => {
    const r = withChecker(syntheticResult({ withServer: true }), 12);
    const a = analyze(r);
    const md = buildCiSummary(r, a.verdict, a.findings);
    const first = md.split('\n')[0]!;
    expect(first).toMatch(/^### 🔴 perpx synthetic-steps: FAIL$/);
    for (const t of r.thresholds.filter((x) => !x.pass)) expect(md).toContain(`| \`${t.source}\` |`);
    expect(md.match(/^- lost ack/gm)).toHaveLength(5);
    expect(md).toContain('7 more in results.json');
    // Every table row has as many cells as its header.
    for (const block of md.split('\n\n').filter((b) => b.startsWith('|'))) {
      const rows = block.split('\n').map((l) => l.replace(/\\\|/g, '').split('|').length);
      expect(new Set(rows).size, block).toBe(1);
    }
    expect(md.length).toBeLessThan(16_000);
  });

  it('writeReport writes junit.xml and ci-summary.md next to report.html', async () => {
    const r = withChecker(syntheticResult({ withServer: true }), 1);
    await writeReport(r, dir);
    const root = parseXml(readFileSync(join(dir, 'junit.xml'), 'utf8'));
    expect(checkCounts(root).tests).toBe(r.thresholds.length + 3);
    expect(readFileSync(join(dir, 'ci-summary.md'), 'utf8')).toMatch(/^### .* perpx synthetic-steps: (PASS|FAIL)/);
  });
});
