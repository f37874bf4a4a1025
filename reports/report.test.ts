// Proves the report builder on a synthetic run: the HTML is one self-contained document (its
// tags balance, it has the charts, and nothing in it loads from anywhere — no scripts, no src,
// href or url() references); the Markdown carries the threshold table; the JSON round-trips;
// an invalid generator is announced before anything else; the diagnosis names the dominant
// server stage at peak when stage series are present; the knee detector finds the planted knee.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, writeReport } from './report.ts';
import { syntheticResult } from './synthetic.ts';
import { findKnee } from './knee.ts';
import { niceTicks, lineChart, escapeXml } from './svg.ts';

function tagsBalance(html: string): void {
  const voidTags = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);
  const stack: string[] = [];
  const body = html.replace(/<!doctype html>/i, '').replace(/<style>[\s\S]*?<\/style>/g, '');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    const tag = name!.toLowerCase();
    if (selfClose === '/' || voidTags.has(tag)) continue;
    if (close === '/') expect(stack.pop(), `closing </${tag}>`).toBe(tag);
    else stack.push(tag);
  }
  expect(stack).toEqual([]);
}

describe('report builder', () => {
  it('writes a self-contained HTML report with the charts and no external references', () => {
    const { html } = buildReport(syntheticResult({ withServer: true }));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    tagsBalance(html);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/@import/i);
    expect(html).not.toMatch(/xlink:/i);
    const charts = html.match(/<svg class="chart"/g) ?? [];
    expect(charts.length).toBeGreaterThanOrEqual(8);
    for (const title of ['Offered vs achieved rate', 'Latency over time', 'Errors by code', 'Saturation', 'Per-stage server latency', 'Event-loop utilization per thread', 'Generator: worst schedule lag']) {
      expect(html).toContain(title);
    }
    // Charts carry data: the latency chart draws paths, the saturation chart draws points.
    expect((html.match(/<path d="M/g) ?? []).length).toBeGreaterThan(10);
    expect((html.match(/<circle /g) ?? []).length).toBeGreaterThan(20);
  });

  it('shows placeholders for what the run did not measure', () => {
    const { html } = buildReport(syntheticResult());
    expect(html).toContain('Per-stage server latency</strong> — not available');
    expect(html).toContain('Checker</strong> — not run');
  });

  it('writes summary.md with the threshold table and results.json that round-trips', async () => {
    const r = syntheticResult({ withServer: true });
    const dir = mkdtempSync(join(tmpdir(), 'perpx-report-'));
    try {
      const paths = await writeReport(r, dir);
      {
        const md = readFileSync(paths.markdown, 'utf8');
        expect(md).toMatch(/^# perpx load report: synthetic-steps/);
        expect(md).toContain('| threshold | actual | result |');
        for (const t of r.thresholds) expect(md).toContain(`| ${t.source.replace(/\|/g, '\\|')} |`);
        expect(md).toMatch(/\| p99 < 50ms \| [\d.]+ ms \| \*\*FAIL\*\* \|/);
        const json = JSON.parse(readFileSync(paths.json, 'utf8')) as Record<string, unknown>;
        const { analysis, ...rest } = json;
        expect(rest).toEqual(r);
        expect(analysis).toEqual(JSON.parse(JSON.stringify(paths.analysis)));
        expect(readFileSync(paths.html, 'utf8')).toContain('<svg class="chart"');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('announces an invalid generator first, in every format', () => {
    const { html, markdown, analysis } = buildReport(syntheticResult({ invalid: true }));
    expect(analysis.verdict).toBe('INVALID');
    expect(markdown.split('\n')[0]).toMatch(/^> \*\*GENERATOR INVALID\*\*/);
    expect(analysis.findings[0]!.title).toMatch(/^Generator invalid/);
    const banner = html.indexOf('GENERATOR INVALID');
    expect(banner).toBeGreaterThan(0);
    expect(banner).toBeLessThan(html.indexOf('<h2>'));
  });

  it('diagnoses the dominant stage at peak and the saturation point', () => {
    const { analysis } = buildReport(syntheticResult({ withServer: true }));
    expect(analysis.stageAtPeak?.dominant).toBe('queue wait');
    const titles = analysis.findings.map((f) => f.title);
    expect(titles.some((t) => /^queue wait is \d+% of the stage p99 at 4,000 req\/s .*: the engine thread is \d+% busy$/.test(t))).toBe(true);
    expect(titles.some((t) => /^p99 turns up at ≈ /.test(t))).toBe(true);
    expect(titles.some((t) => /thresholds failed/.test(t))).toBe(true);
    expect(analysis.verdict).toBe('FAIL');
  });

  it('reports error codes the scenario expects apart from failures, as information', () => {
    const r = syntheticResult({});
    const plain = buildReport(r).analysis.findings;
    expect(plain.some((f) => /errors \(.*most common 400:-2019/.test(f.title) && f.severity !== 'info')).toBe(true);
    r.scenario.expectedErrors = ['-2019'];
    const findings = buildReport(r).analysis.findings;
    const expected = findings.find((f) => /expected business rejections/.test(f.title));
    expect(expected?.severity).toBe('info');
    expect(expected?.detail).toMatch(/400:-2019: \d+/);
    const failures = findings.find((f) => /errors \(/.test(f.title) && f.severity !== 'info');
    expect(failures?.title).toMatch(/most common 503:-1008/);
    expect(failures?.detail).not.toMatch(/-2019/);
  });
});

describe('knee detection', () => {
  it('finds the planted knee of the synthetic run', () => {
    const r = syntheticResult({ kneeRps: 2500 });
    const k = findKnee(r.series.offeredRps, r.series.corrected.p99Ms, r.series.corrected.count);
    expect(k.found).toBe(true);
    expect(k.kneeRps!).toBeGreaterThanOrEqual(2500);
    expect(k.kneeRps!).toBeLessThanOrEqual(3500);
    expect(k.lastGoodRps!).toBeLessThan(k.kneeRps!);
  });

  it('a hockey stick: flat, then rising — knee at the first persistent rise', () => {
    const rates = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000].flatMap((r) => [r, r, r]);
    const p99 = rates.map((r) => (r <= 600 ? 5 + (r % 3) * 0.1 : 5 + (r - 600) * 0.2));
    const k = findKnee(rates, p99, rates.map(() => 100));
    expect(k).toMatchObject({ found: true, kneeRps: 700, lastGoodRps: 600 });
  });

  it('no knee when flat, when a blip does not persist, or when the rate hardly varies', () => {
    const rates = Array.from({ length: 30 }, (_, i) => 100 + i * 30);
    expect(findKnee(rates, rates.map(() => 4), rates.map(() => 50)).found).toBe(false);
    const blip = rates.map((_, i) => (i === 15 ? 40 : 4));
    expect(findKnee(rates, blip, rates.map(() => 50)).found).toBe(false);
    const constant = findKnee(rates.map(() => 1000), rates.map((_, i) => i), rates.map(() => 50));
    expect(constant).toMatchObject({ found: false });
    expect(constant.reason).toMatch(/hardly varied/);
    expect(findKnee([1, 2], [1, 2], [100, 100]).reason).toMatch(/too few/);
  });
});

describe('svg primitives', () => {
  it('nice ticks cover the range; text is escaped; empty data renders a note', () => {
    const t = niceTicks(0.5, 9.5);
    expect(t[0]!).toBeLessThanOrEqual(0.5);
    expect(t[t.length - 1]!).toBeGreaterThanOrEqual(9.5);
    expect(escapeXml('<a & "b">')).toBe('&lt;a &amp; &quot;b&quot;&gt;');
    expect(lineChart({ title: 't<', x: [], xLabel: 'x', yLabel: 'y', series: [] })).toContain('no data');
  });
});
