// A short Markdown for a CI step summary (GitHub: `cat ci-summary.md >> $GITHUB_STEP_SUMMARY`;
// GitLab/others: attach as an artifact): the verdict first, the handful of figures a reviewer
// looks at, failed thresholds and checker violations, the top findings, and where the full
// report is. Written as ci-summary.md into every run directory by writeReport. GitHub caps a
// step summary at 1 MiB; this stays a few KB (bounded lists).

import type { Finding, RunResult } from '../harness/result.ts';
import { formatThresholdValue } from '../harness/thresholds.ts';

const FINDINGS_SHOWN = 5;
const VIOLATIONS_SHOWN = 5;

const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const ms = (x: number): string => (Number.isFinite(x) ? (x < 10 ? x.toFixed(3) : x.toFixed(1)) : 'n/a');
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

export function buildCiSummary(r: RunResult, verdict: 'PASS' | 'FAIL' | 'INVALID', findings: readonly Finding[]): string {
  const icon = verdict === 'PASS' ? '🟢' : verdict === 'FAIL' ? '🔴' : '⚠️';
  const passed = r.thresholds.filter((t) => t.pass).length;
  const checkerBad = (r.checker ?? []).filter((c) => !c.ok);
  const lines: string[] = [];
  lines.push(`### ${icon} perpx ${esc(r.scenario.name)}: ${verdict}`, '');
  if (!r.valid) lines.push(`> **GENERATOR INVALID** — the load generator could not keep its schedule; the latencies describe the generator, not the target: ${esc(r.invalidReasons.join('; '))}`, '');
  lines.push(`${passed}/${r.thresholds.length} thresholds passed; checker: ${r.checker === undefined ? 'not run' : checkerBad.length === 0 ? 'no violations' : `${checkerBad.length} check(s) violated`}. Run \`${esc(r.id)}\`, ${r.durationS.toFixed(0)} s ${esc(r.scenario.profile.kind)} profile against ${esc(r.target)}.`, '');
  const t = r.totals;
  const c = r.latency.corrected;
  const s = r.latency.service;
  lines.push(
    '| figure | value |', '|---|---:|',
    `| offered / achieved rate | ${int(t.offeredRps)} / ${int(t.achievedRps)} req/s (${(t.achievedRatio * 100).toFixed(2)}%) |`,
    `| corrected p50 / p99 / p99.9 | ${ms(c.p50Ms)} / ${ms(c.p99Ms)} / ${ms(c.p999Ms)} ms |`,
    `| service p50 / p99 / p99.9 | ${ms(s.p50Ms)} / ${ms(s.p99Ms)} / ${ms(s.p999Ms)} ms |`,
    `| errors / timeouts | ${(t.errorRate * 100).toFixed(3)}% / ${(t.timeoutRate * 100).toFixed(3)}% (${int(t.fail)} fail, ${int(t.info)} info, ${int(t.dropped)} dropped) |`,
  );
  const u = r.server?.usage;
  if (u !== undefined && u.requests > 0) {
    lines.push(`| server CPU / heap allocated per request | ${((u.cpuSeconds * 1000) / u.requests).toFixed(3)} ms / ${(u.allocatedBytes / 1024 / u.requests).toFixed(1)} KB |`);
  }
  lines.push('');
  if (r.thresholds.length > 0) {
    lines.push('| threshold | actual | result |', '|---|---:|---|');
    for (const th of r.thresholds) lines.push(`| \`${esc(th.source)}\` | ${formatThresholdValue(th.actual, th.unit)} | ${th.pass ? 'pass' : '**FAIL**'} |`);
    lines.push('');
  }
  for (const bad of checkerBad) {
    const v = bad.violations ?? [];
    lines.push(`**checker ${esc(bad.name)}**: ${v.length} violation(s)`);
    for (const x of v.slice(0, VIOLATIONS_SHOWN)) lines.push(`- ${esc(x.message)}`);
    if (v.length > VIOLATIONS_SHOWN) lines.push(`- … ${v.length - VIOLATIONS_SHOWN} more in results.json`);
    lines.push('');
  }
  const top = findings.filter((f) => f.severity !== 'info').slice(0, FINDINGS_SHOWN);
  if (top.length > 0) {
    lines.push('**Diagnosis**', '');
    for (const f of top) lines.push(`- ${f.severity}: ${esc(f.title)}`);
    lines.push('');
  }
  lines.push('Full report: `report.html` (self-contained), `summary.md`, `results.json`; test results: `junit.xml`.', '');
  return lines.join('\n');
}
