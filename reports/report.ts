// The bottleneck report: one self-contained report.html (inline CSS and server-rendered SVG, no
// scripts, no external resources), summary.md and results.json, built from a RunResult.
//
//   const { html, markdown, json } = buildReport(result);
//   await writeReport(result, 'reports/runs/<id>');
//
// Reading order (also the page order): generator validity first, then the verdict with
// thresholds and checker results, the diagnosis, the numbers, and the charts.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResult, Finding, TimeSeries } from '../harness/result.ts';
import type { LatencySummary } from '../harness/histogram.ts';
import { formatThresholdValue } from '../harness/thresholds.ts';
import { lineChart as svgLineChart, scatterChart, barChart, escapeXml, PALETTE, CHART_CSS } from './svg.ts';
import type { Band, LineChartSpec } from './svg.ts';
import { chaosBands, chaosHtml, chaosMarkdown } from './chaos-timeline.ts';

/** Chaos runs: the fault windows of the report being rendered, shaded on every line chart. */
let chartBands: readonly Band[] = [];
const lineChart = (spec: LineChartSpec): string => svgLineChart(chartBands.length === 0 ? spec : { ...spec, bands: [...(spec.bands ?? []), ...chartBands] });
import type { LineSeries } from './svg.ts';
import { findKnee } from './knee.ts';
import type { Saturation } from './knee.ts';
import { computeFindings, stageAtPeak } from './diagnosis.ts';
import { buildJunit } from './junit.ts';
import { buildCiSummary } from './ci-summary.ts';
import type { StageAtPeak } from './diagnosis.ts';
import { profilingHtml, profilingMarkdown } from './profiling-section.ts';

export interface ReportAnalysis {
  verdict: 'PASS' | 'FAIL' | 'INVALID';
  saturation: Saturation;
  findings: Finding[];
  stageAtPeak: StageAtPeak | null;
}

export interface BuiltReport {
  html: string;
  markdown: string;
  json: string;
  analysis: ReportAnalysis;
}

export function analyze(r: RunResult): ReportAnalysis {
  const saturation = findKnee(r.series.offeredRps, r.series.corrected.p99Ms, r.series.corrected.count);
  const findings = computeFindings(r, saturation);
  const thresholdsOk = r.thresholds.every((t) => t.pass);
  const checkerOk = (r.checker ?? []).every((c) => c.ok);
  const verdict = !r.valid ? 'INVALID' : thresholdsOk && checkerOk ? 'PASS' : 'FAIL';
  return { verdict, saturation, findings, stageAtPeak: stageAtPeak(r) };
}

export function buildReport(r: RunResult): BuiltReport {
  const analysis = analyze(r);
  return {
    html: renderHtml(r, analysis),
    markdown: renderMarkdown(r, analysis),
    json: `${JSON.stringify({ ...r, analysis }, null, 1)}\n`,
    analysis,
  };
}

export async function writeReport(r: RunResult, dir: string): Promise<{ html: string; markdown: string; json: string; analysis: ReportAnalysis }> {
  await mkdir(dir, { recursive: true });
  const built = buildReport(r);
  const paths = { html: join(dir, 'report.html'), markdown: join(dir, 'summary.md'), json: join(dir, 'results.json') };
  await Promise.all([writeFile(paths.html, built.html), writeFile(paths.markdown, built.markdown), writeFile(paths.json, built.json)]);
  // CI outputs: test results of thresholds/checker/generator validity, and a step-summary Markdown.
  await Promise.all([
    writeFile(join(dir, 'junit.xml'), buildJunit(r)),
    writeFile(join(dir, 'ci-summary.md'), buildCiSummary(r, built.analysis.verdict, built.analysis.findings)),
  ]);
  return { ...paths, analysis: built.analysis };
}

// ---------------------------------------------------------------- formatting helpers

const ms = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x < 10 ? x.toFixed(3) : x.toFixed(1));
const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const pct = (x: number): string => `${(x * 100).toFixed(x < 0.001 && x > 0 ? 4 : 2)}%`;

function latencyRow(name: string, s: LatencySummary): string[] {
  return [name, int(s.count), ms(s.p50Ms), ms(s.p90Ms), ms(s.p99Ms), ms(s.p999Ms), ms(s.maxMs)];
}

function latencyRows(r: RunResult): string[][] {
  return [latencyRow('corrected (from intended send)', r.latency.corrected), latencyRow('service (from actual send)', r.latency.service), latencyRow('schedule lag (generator)', r.latency.lag)];
}

function summaryRows(r: RunResult): string[][] {
  const t = r.totals;
  return [
    ['offered rate (profile)', `${int(t.offeredRps)} req/s`],
    ['achieved send rate', `${int(t.achievedRps)} req/s (${pct(t.achievedRatio)} of intended)`],
    ['throughput (completions)', `${int(t.throughputRps)} req/s`],
    ['requests', `${int(t.intended)} intended, ${int(t.sent)} sent, ${int(t.completed)} completed`],
    ['outcomes', `${int(t.ok)} ok, ${int(t.fail)} fail (definite), ${int(t.info)} info (indeterminate), ${int(t.dropped)} dropped`],
    ['error rate', pct(t.errorRate)],
    ['sends that waited for a slot', `${int(t.capBlocked)} (in-flight limit ${r.generator.workers} × ${r.generator.maxInFlightPerWorker})`],
    ['generator', `${r.generator.workers} workers; lag p99 ${ms(r.generator.lag.p99Ms)} ms; ${int(r.generator.lateSends)} sends > ${r.generator.limits.lateMs} ms late`],
    ['duration', `${r.durationS.toFixed(1)} s scheduled, ${r.elapsedS.toFixed(1)} s until the last response`],
  ];
}

const CAPACITY_HEAD = ['connections', 'throughput', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'counts toward capacity'];

function capacityRows(r: RunResult): string[][] {
  const c = r.capacity!;
  return c.steps.map((s) => [String(s.connections), `${int(s.throughputRps)} req/s`, ms(s.p50Ms), ms(s.p99Ms), ms(s.p999Ms), pct(s.errorRate),
    s.within ? (s.connections === c.capacityConnections ? 'yes — capacity' : 'yes') : `no (${c.criterion})`]);
}

function pad<T>(values: readonly T[], n: number, fill: T): T[] {
  const out = values.slice(0, n);
  while (out.length < n) out.push(fill);
  return out;
}

// ---------------------------------------------------------------- HTML

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((row) => `<tr>${row.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('') + '</tbody></table>';
}

function findingHtml(f: Finding): string {
  const link = f.link === undefined ? '' : ` <a href="${escapeXml(f.link.href)}">${escapeXml(f.link.text)}</a>`;
  return `<li class="f-${f.severity}"><strong>${escapeXml(f.severity)}</strong> ${escapeXml(f.title)}${link}${f.detail ? `<div class="detail">${escapeXml(f.detail)}</div>` : ''}</li>`;
}

function placeholder(title: string, text: string): string {
  return `<div class="placeholder"><strong>${escapeXml(title)}</strong> — ${escapeXml(text)}</div>`;
}

function seriesCharts(title: string, group: Record<string, TimeSeries> | undefined, yLabel: string, absent: string): string {
  if (group === undefined || Object.keys(group).length === 0) return placeholder(title, absent);
  const xsAll = [...new Set(Object.values(group).flatMap((s) => s.tS))].sort((a, b) => a - b);
  const series: LineSeries[] = Object.entries(group).map(([name, s], i) => {
    const byT = new Map(s.tS.map((t, j) => [t, s.values[j]!] as const));
    return { name, color: PALETTE[i % PALETTE.length]!, values: xsAll.map((t) => byT.get(t) ?? null) };
  });
  return lineChart({ title, x: xsAll, xLabel: 'time (s)', yLabel, series });
}

function rateChart(r: RunResult): string {
  const s = r.series;
  const n = Math.max(s.tS.length, s.sent.length, s.completed.length);
  const x = Array.from({ length: n }, (_, i) => i + 0.5);
  return lineChart({
    title: 'Offered vs achieved rate', x, xLabel: 'time since start (s)', yLabel: 'requests / s',
    series: [
      { name: 'offered (profile)', values: pad(s.offeredRps, n, null), color: '#9ca3af', widthPx: 3 },
      { name: 'sent (achieved)', values: pad(s.sent, n, null), color: PALETTE[0]! },
      { name: 'completed', values: pad(s.completed, n, null), color: PALETTE[2]!, dash: '5 3' },
      { name: 'errors', values: pad(s.fail.map((f, i) => f + s.info[i]! + s.dropped[i]!), n, null), color: PALETTE[1]! },
    ],
  });
}

function latencyChart(r: RunResult): string {
  const s = r.series;
  const x = s.tS.map((t) => t + 0.5);
  const all = [...s.corrected.p999Ms, ...s.service.p50Ms].filter((v): v is number => v !== null && v > 0);
  const wide = all.length > 0 && Math.max(...all) / Math.min(...all) > 30;
  return lineChart({
    title: 'Latency over time (by intended send second) with the load profile', x, xLabel: 'time since start (s)',
    yLabel: `latency (ms${wide ? ', log' : ''})`, y2Label: 'offered req/s', yLog: wide,
    series: [
      { name: 'offered req/s', values: s.offeredRps, color: '#d1d5db', axis: 'right', widthPx: 3 },
      { name: 'corrected p50', values: s.corrected.p50Ms, color: PALETTE[0]! },
      { name: 'corrected p99', values: s.corrected.p99Ms, color: PALETTE[1]! },
      { name: 'corrected p99.9', values: s.corrected.p999Ms, color: PALETTE[3]! },
      { name: 'service p50', values: s.service.p50Ms, color: PALETTE[0]!, dash: '4 3' },
      { name: 'service p99', values: s.service.p99Ms, color: PALETTE[1]!, dash: '4 3' },
      { name: 'service p99.9', values: s.service.p999Ms, color: PALETTE[3]!, dash: '4 3' },
    ],
  });
}

function errorCharts(r: RunResult): string {
  const codes = Object.entries(r.totals.errors).sort((a, b) => b[1] - a[1]);
  if (codes.length === 0) return placeholder('Errors by code', 'no errors in this run');
  const x = r.series.tS.map((t) => t + 0.5);
  const series: LineSeries[] = codes.slice(0, 10).map(([code], i) => ({ name: code, values: r.series.errorsByCode[code] ?? [], color: PALETTE[(i + 1) % PALETTE.length]! }));
  return barChart('Errors by code (total)', codes.map(([label, value]) => ({ label, value }))) +
    lineChart({ title: 'Errors by code over time (by intended send second)', x, xLabel: 'time since start (s)', yLabel: 'errors / s', series });
}

function saturationChart(r: RunResult, sat: Saturation): string {
  const pts: { x: number; y: number }[] = [];
  r.series.offeredRps.forEach((rate, i) => {
    const p = r.series.corrected.p99Ms[i];
    if (p !== null && p !== undefined && p > 0 && rate > 0) pts.push({ x: rate, y: p });
  });
  const markers = sat.found ? [{ x: sat.kneeRps!, label: `knee ≈ ${int(sat.kneeRps!)} req/s`, color: PALETTE[1]! }] : [];
  const chart = scatterChart({
    title: 'Saturation: corrected p99 per second vs offered rate (line: bin medians)', xLabel: 'offered req/s', yLabel: 'p99 (ms)',
    points: pts, color: PALETTE[0]!, line: sat.bins.map((b) => ({ x: b.rateRps, y: b.p99Ms })), markers,
    yLog: pts.length > 0 && Math.max(...pts.map((p) => p.y)) / Math.max(1e-3, Math.min(...pts.map((p) => p.y))) > 30,
  });
  const text = sat.found
    ? `p99 turns up at ≈ ${int(sat.kneeRps!)} req/s: ${ms(sat.kneeP99Ms)} ms vs a baseline of ${ms(sat.baselineP99Ms)} ms (last rate near baseline: ${int(sat.lastGoodRps!)} req/s).`
    : `No saturation point: ${sat.reason ?? ''}.`;
  return `<p>${escapeXml(text)}</p>${chart}`;
}

function stageChart(r: RunResult): string {
  const stages = r.server?.stages;
  if (stages === undefined || Object.keys(stages).length === 0) {
    return placeholder('Per-stage server latency', 'not available for this run (the perpx campaign scrapes decode/auth, queue wait, engine, journal and encode latencies from the server metrics at 1 Hz)');
  }
  const group: Record<string, TimeSeries> = {};
  for (const [name, s] of Object.entries(stages)) group[`${name} p99`] = s.p99Ms;
  return seriesCharts('Per-stage server latency (p99)', group, 'ms', '');
}

function generatorCharts(r: RunResult): string {
  const x = r.series.tS.map((t) => t + 0.5);
  const w = r.generator.perWorker;
  const sec = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 0.5);
  const longest = Math.max(0, ...w.map((p) => p.eldP99MsBySecond.length));
  return lineChart({
    title: 'Generator: worst schedule lag per second', x, xLabel: 'time since start (s)', yLabel: 'lag (ms)',
    series: [{ name: 'max lag', values: r.series.lagMaxMs, color: PALETTE[4]! }],
  }) + lineChart({
    title: 'Generator workers: event-loop delay p99 and CPU', x: sec(longest), xLabel: 'time since start (s)', yLabel: 'event-loop delay p99 (ms)', y2Label: 'CPU %',
    series: [
      ...w.map((p, i) => ({ name: `worker ${p.worker} ELD p99`, values: p.eldP99MsBySecond, color: PALETTE[i % PALETTE.length]! })),
      ...w.map((p, i) => ({ name: `worker ${p.worker} CPU %`, values: p.cpuPctBySecond, color: PALETTE[i % PALETTE.length]!, dash: '4 3', axis: 'right' as const })),
    ],
  });
}

const PAGE_CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:#111827;max-width:960px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.meta{color:#6b7280;margin-bottom:14px}
.banner{padding:12px 14px;border-radius:6px;margin:12px 0;font-weight:600}
.invalid{background:#fef2f2;border:2px solid #dc2626;color:#991b1b}
.pass{background:#f0fdf4;border:1px solid #16a34a;color:#166534}
.fail{background:#fff7ed;border:1px solid #ea580c;color:#9a3412}
table{border-collapse:collapse;margin:6px 0 14px;font-size:13px}th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left}
th{background:#f9fafb}td.num{text-align:right}
ul.findings{padding-left:18px}ul.findings li{margin:4px 0}.f-critical strong{color:#dc2626}.f-warning strong{color:#ea580c}.f-info strong{color:#2563eb}
.detail{color:#4b5563;font-size:13px}
.placeholder{padding:10px 12px;border:1px dashed #d1d5db;border-radius:6px;color:#6b7280;margin:8px 0 16px}
details{margin:10px 0}code{background:#f3f4f6;padding:0 3px;border-radius:3px}
` + CHART_CSS;

function renderHtml(r: RunResult, a: ReportAnalysis): string {
  const title = `perpx load report — ${r.scenario.name}`;
  const parts: string[] = [];
  chartBands = chaosBands(r);
  parts.push(`<h1>${escapeXml(title)}</h1><div class="meta">run ${escapeXml(r.id)} · target ${escapeXml(r.target)} · started ${escapeXml(r.startedAt)} · ${r.durationS.toFixed(0)} s ${escapeXml(r.scenario.profile.kind)} profile, ${escapeXml(r.scenario.arrivals)} arrivals</div>`);
  if (!r.valid) {
    parts.push(`<div class="banner invalid">GENERATOR INVALID — the load generator could not keep its schedule; the numbers below describe the generator, not the target. ${escapeXml(r.invalidReasons.join('; '))}</div>`);
  }
  const passed = r.thresholds.filter((t) => t.pass).length;
  const checkerBad = (r.checker ?? []).filter((c) => !c.ok).length;
  const verdictText = `${a.verdict}: ${passed}/${r.thresholds.length} thresholds passed` + (r.checker === undefined ? '; checker not run' : `; checker: ${checkerBad === 0 ? 'no violations' : `${checkerBad} violated`}`);
  parts.push(`<div class="banner ${a.verdict === 'PASS' ? 'pass' : a.verdict === 'FAIL' ? 'fail' : 'invalid'}">${escapeXml(verdictText)}</div>`);
  parts.push('<h2>Thresholds</h2>');
  parts.push(r.thresholds.length === 0 ? placeholder('Thresholds', 'none declared in the scenario')
    : table(['threshold', 'actual', 'result'], r.thresholds.map((t) => [t.source, formatThresholdValue(t.actual, t.unit), t.pass ? 'pass' : 'FAIL'])));
  parts.push('<h2>Checker</h2>');
  parts.push(r.checker === undefined ? placeholder('Checker', 'not run for this run (the perpx campaign checks acknowledged orders, fills, conservation, open interest, client ids and WS sequences)')
    : table(['check', 'result', 'detail'], r.checker.map((c) => [c.name, c.ok ? 'ok' : 'VIOLATED', [c.detail ?? '', ...(c.violations ?? []).slice(0, 5).map((v) => v.message)].filter(Boolean).join(' | ')])));
  parts.push('<h2>Diagnosis</h2>');
  parts.push(`<ul class="findings">${a.findings.map(findingHtml).join('')}</ul>`);
  parts.push(chaosHtml(r));
  parts.push('<h2>Summary</h2>');
  parts.push(table(['', ''], summaryRows(r)));
  if (r.capacity !== undefined) parts.push(`<h3>Capacity (${escapeXml(r.capacity.model)})</h3>`, table(CAPACITY_HEAD, capacityRows(r)));
  if (r.notes !== undefined && r.notes.length > 0) parts.push(`<ul class="notes">${r.notes.map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul>`);
  parts.push(table(['latency (ms)', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'], latencyRows(r)));
  parts.push('<h2>Load</h2>', rateChart(r));
  parts.push('<h2>Latency</h2>', latencyChart(r));
  parts.push('<h2>Errors</h2>', errorCharts(r));
  parts.push('<h2>Saturation point</h2>', saturationChart(r, a.saturation));
  parts.push('<h2>Server stages</h2>', stageChart(r));
  parts.push('<h2>Server runtime</h2>');
  const sv = r.server;
  const absent = 'not available for this run (scraped from the server metrics by the perpx campaign)';
  parts.push(seriesCharts('Event-loop delay per thread', sv?.eventLoopDelayMs, 'ms', absent));
  parts.push(seriesCharts('Event-loop utilization per thread', sv?.elu, 'utilization (0–1)', absent));
  parts.push(seriesCharts('GC pause time', sv?.gcPauseMs, 'ms per second', absent));
  parts.push(seriesCharts('Heap used', sv?.heapMb, 'MB', absent));
  parts.push(seriesCharts('CPU', sv?.cpuPct, '%', absent));
  parts.push(profilingHtml(r.profiling));
  parts.push('<h2>Generator self-health</h2>', generatorCharts(r));
  parts.push(table(['worker', 'ELD p50 (ms)', 'ELD p99 (ms)', 'ELD max (ms)', 'ELU', 'CPU %'],
    r.generator.perWorker.map((w) => [String(w.worker), ms(w.eldP50Ms), ms(w.eldP99Ms), ms(w.eldMaxMs), w.elu.toFixed(2), w.cpuPct.toFixed(1)])));
  const opRows = Object.entries(r.ops).map(([op, o]) => [op, int(o.sent), int(o.ok), int(o.fail), int(o.info)]);
  parts.push('<h2>Operations</h2>', table(['op', 'sent', 'ok', 'fail', 'info'], opRows));
  if (r.historyFile !== null) parts.push(`<p>Operation history (Jepsen-style NDJSON): <code>${escapeXml(r.historyFile)}</code></p>`);
  parts.push(HOW_TO_READ);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeXml(title)}</title><style>${PAGE_CSS}</style></head><body>${parts.join('\n')}</body></html>\n`;
}

const HOW_TO_READ = `<details><summary>How to read this report</summary>
<p><b>Corrected latency</b> is measured from the time each request was <i>scheduled</i> to be sent; <b>service time</b> from when it was actually sent. They differ when requests had to wait client-side (all in-flight slots busy during a stall, or a slow generator): a closed-loop tool reports only the service time and hides that wait (coordinated omission). The gap between the solid and dashed lines in the latency chart is that hidden wait.</p>
<p><b>Generator validity</b>: every send records its schedule lag (actual − intended, not counting waits for a free slot). If the lag's p99 is too high, or too many sends were late, the run is marked invalid and says so first: the latency numbers would then blame the target for the generator's own delays.</p>
<p><b>Saturation point</b>: each second is a point (offered rate, corrected p99); the knee is the lowest offered rate where p99 rises to at least twice its low-load value and stays up at higher rates.</p>
<p><b>Outcomes</b> follow Jepsen: <i>ok</i> (2xx), <i>fail</i> (a definite rejection: 4xx with a Binance code), <i>info</i> (indeterminate: timeout, network error, 5xx — the operation may or may not have happened).</p>
</details>`;

// ---------------------------------------------------------------- Markdown

function mdTable(head: string[], rows: string[][]): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${head.map(esc).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function renderMarkdown(r: RunResult, a: ReportAnalysis): string {
  const lines: string[] = [];
  if (!r.valid) lines.push(`> **GENERATOR INVALID** — the load generator could not keep its schedule; these numbers describe the generator, not the target. ${r.invalidReasons.join('; ')}`, '');
  lines.push(`# perpx load report: ${r.scenario.name}`, '');
  lines.push(`Run \`${r.id}\` against ${r.target}, started ${r.startedAt}, ${r.durationS.toFixed(0)} s ${r.scenario.profile.kind} profile (${r.scenario.arrivals} arrivals).`, '');
  const passed = r.thresholds.filter((t) => t.pass).length;
  lines.push(`**Verdict: ${a.verdict}** — ${passed}/${r.thresholds.length} thresholds passed` + (r.checker === undefined ? '; checker not run.' : `; checker: ${(r.checker ?? []).every((c) => c.ok) ? 'no violations' : 'violations found'}.`), '');
  lines.push('## Thresholds', '');
  lines.push(r.thresholds.length === 0 ? '_none declared_' : mdTable(['threshold', 'actual', 'result'], r.thresholds.map((t) => [t.source, formatThresholdValue(t.actual, t.unit), t.pass ? 'pass' : '**FAIL**'])), '');
  if (r.checker !== undefined) {
    lines.push('## Checker', '', mdTable(['check', 'result', 'detail'], r.checker.map((c) => [c.name, c.ok ? 'ok' : '**VIOLATED**', c.detail ?? ''])), '');
  }
  lines.push('## Diagnosis', '');
  for (const f of a.findings) lines.push(`- **${f.severity}** ${f.title}${f.detail ? ` — ${f.detail}` : ''}`);
  lines.push('', ...chaosMarkdown(r));
  lines.push('', '## Summary', '', mdTable(['', ''], summaryRows(r)), '');
  if (r.capacity !== undefined) lines.push(`## Capacity (${r.capacity.model})`, '', mdTable(CAPACITY_HEAD, capacityRows(r)), '');
  if (r.notes !== undefined && r.notes.length > 0) lines.push(...r.notes.map((n) => `- ${n}`), '');
  lines.push('## Latency (ms)', '', mdTable(['', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'], latencyRows(r)), '');
  const codes = Object.entries(r.totals.errors).sort((x, y) => y[1] - x[1]);
  lines.push('## Errors by code', '', codes.length === 0 ? '_none_' : mdTable(['code', 'count'], codes.map(([c, n]) => [c, int(n)])), '');
  lines.push('## Saturation', '', a.saturation.found ? `p99 turns up at ≈ ${int(a.saturation.kneeRps!)} req/s (${ms(a.saturation.kneeP99Ms)} ms vs baseline ${ms(a.saturation.baselineP99Ms)} ms).` : `No saturation point: ${a.saturation.reason ?? ''}.`, '');
  lines.push(...profilingMarkdown(r.profiling));
  lines.push('Charts: `report.html`. Raw numbers and exact histograms: `results.json`.' + (r.historyFile === null ? '' : ' Operation history: `history.ndjson`.'), '');
  return lines.join('\n');
}
