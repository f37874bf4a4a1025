// JUnit XML for CI test reporters (GitHub, GitLab, Jenkins): one run's pass/fail criteria as
// test cases, written as junit.xml into every run directory by writeReport.
//
//   <testsuites name="perpx <scenario>" tests= failures= errors=0 skipped=>
//     <testsuite name="generator">  1 case: the generator kept its schedule (failure: the reasons)
//     <testsuite name="thresholds"> one case per scenario threshold (failure: actual vs limit)
//     <testsuite name="checker">    one case per checker result (failure: the violations),
//                                   or one skipped case when the checker did not run
//
// Only XML 1.0 characters survive (control characters are dropped, & < > " ' escaped).

import type { RunResult } from '../harness/result.ts';
import { formatThresholdValue } from '../harness/thresholds.ts';

export interface JunitCase {
  name: string;
  classname: string;
  /** null = passed. */
  failure: { message: string; detail: string } | null;
  skipped?: string;
}

export interface JunitSuite {
  name: string;
  cases: JunitCase[];
}

/** Escape for XML attribute values and text; drops characters XML 1.0 forbids. */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const VIOLATIONS_SHOWN = 20;

export function junitSuites(r: RunResult): JunitSuite[] {
  const cls = `perpx.${r.scenario.name}`;
  const generator: JunitSuite = {
    name: 'generator',
    cases: [{
      name: 'load generator kept its schedule (run valid)', classname: `${cls}.generator`,
      failure: r.valid ? null : { message: 'GENERATOR INVALID: the latencies describe the load generator, not the target', detail: r.invalidReasons.join('\n') },
    }],
  };
  const thresholds: JunitSuite = {
    name: 'thresholds',
    cases: r.thresholds.map((t) => ({
      name: t.source, classname: `${cls}.thresholds`,
      failure: t.pass ? null : {
        message: `${t.source}: actual ${formatThresholdValue(t.actual, t.unit)}`,
        detail: `threshold ${t.source} failed: actual ${formatThresholdValue(t.actual, t.unit)}, limit ${t.op} ${formatThresholdValue(t.limit, t.unit)}`,
      },
    })),
  };
  const checker: JunitSuite = {
    name: 'checker',
    cases: r.checker === undefined
      ? [{ name: 'history checker', classname: `${cls}.checker`, failure: null, skipped: 'the checker did not run for this run' }]
      : r.checker.map((c) => {
        const v = c.violations ?? [];
        return {
          name: c.name, classname: `${cls}.checker`,
          failure: c.ok ? null : {
            message: `${c.name}: ${v.length} violation${v.length === 1 ? '' : 's'}${v[0] === undefined ? '' : ` — first: ${v[0].message}`}`,
            detail: [c.detail ?? '', ...v.slice(0, VIOLATIONS_SHOWN).map((x) => `- ${x.message}`), v.length > VIOLATIONS_SHOWN ? `… ${v.length - VIOLATIONS_SHOWN} more in results.json` : ''].filter((s) => s !== '').join('\n'),
          },
        };
      }),
  };
  return [generator, thresholds, checker];
}

export function buildJunit(r: RunResult): string {
  const suites = junitSuites(r);
  const count = (cases: JunitCase[]) => ({
    tests: cases.length,
    failures: cases.filter((c) => c.failure !== null).length,
    skipped: cases.filter((c) => c.skipped !== undefined).length,
  });
  const all = count(suites.flatMap((s) => s.cases));
  const timeS = r.elapsedS.toFixed(3);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(`perpx ${r.scenario.name}`)}" tests="${all.tests}" failures="${all.failures}" errors="0" skipped="${all.skipped}" time="${timeS}">`,
  ];
  for (const s of suites) {
    const c = count(s.cases);
    out.push(`  <testsuite name="${xmlEscape(s.name)}" tests="${c.tests}" failures="${c.failures}" errors="0" skipped="${c.skipped}" time="${s.name === 'generator' ? timeS : '0'}" timestamp="${xmlEscape(r.startedAt)}">`);
    if (s.name === 'generator') out.push(`    <properties><property name="run" value="${xmlEscape(r.id)}"/><property name="target" value="${xmlEscape(r.target)}"/></properties>`);
    for (const tc of s.cases) {
      const open = `    <testcase name="${xmlEscape(tc.name)}" classname="${xmlEscape(tc.classname)}" time="0"`;
      if (tc.failure === null && tc.skipped === undefined) {
        out.push(`${open}/>`);
        continue;
      }
      out.push(`${open}>`);
      if (tc.skipped !== undefined) out.push(`      <skipped message="${xmlEscape(tc.skipped)}"/>`);
      if (tc.failure !== null) out.push(`      <failure message="${xmlEscape(tc.failure.message)}" type="perpx">${xmlEscape(tc.failure.detail)}</failure>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
