// A Grafana-less preview of a dashboard: every panel's queries run as range queries against a
// Prometheus and drawn as offline SVG charts (reports/svg.ts) in one self-contained HTML page,
// laid out in the dashboard's rows. For machines without Grafana (like the one perpx is built
// on) and for the screenshots in docs/. Template variables are substituted the way Grafana
// does with "All" selected: each variable's label values as a regex alternation.
//
//   npx node dashboards/preview.ts --prometheus http://127.0.0.1:9090 \
//     --dashboard dashboards/grafana/perpx-engine.json --out /tmp/engine.html [--minutes 15]

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CHART_CSS, escapeXml, lineChart, PALETTE } from '../reports/svg.ts';
import type { LineSeries } from '../reports/svg.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Dashboard = Record<string, any>;

interface RangeSeries { metric: Record<string, string>; values: [number, string][] }

async function promGet<T>(promUrl: string, path: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${promUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
  const body = await res.json() as { status: string; error?: string; data: T };
  if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
  return body.data;
}

/** Each query variable → `(v1|v2|…)` of its label values (regex-escaped for a PromQL string), in order. */
export async function resolveVariables(promUrl: string, d: Dashboard): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const v of d.templating.list as any[]) {
    if (v.type !== 'query') continue;
    const m = /^label_values\((.+),\s*([A-Za-z_]+)\)$/.exec(v.definition as string);
    if (m === null) throw new Error(`variable ${v.name}: unsupported definition ${v.definition}`);
    let selector = m[1]!.trim();
    for (const [k, val] of Object.entries(values)) selector = selector.replaceAll(`$${k}`, val);
    const series = await promGet<Record<string, string>[]>(promUrl, '/api/v1/series', { 'match[]': selector });
    const labelValues = [...new Set(series.map((s) => s[m[2]!]).filter((x): x is string => x !== undefined))].sort();
    values[v.name] = labelValues.length === 0 ? '.*' : `(${labelValues.map((x) => x.replace(/[.*+?^${}()|[\]\\/]/g, '\\\\$&')).join('|')})`;
  }
  return values;
}

export function substitute(expr: string, vars: Record<string, string>, rateInterval: string): string {
  let out = expr.replaceAll('$__rate_interval', rateInterval);
  for (const name of Object.keys(vars).sort((a, b) => b.length - a.length)) out = out.replaceAll(`$${name}`, vars[name]!);
  return out;
}

function legendOf(format: string, metric: Record<string, string>): string {
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => metric[k] ?? '').trim() || JSON.stringify(metric);
}

/** Display unit: seconds → ms, bytes → MB, ratios → %. */
function scaleFor(unit: string): { factor: number; label: string } {
  switch (unit) {
    case 's': return { factor: 1000, label: 'ms' };
    case 'bytes': return { factor: 1e-6, label: 'MB' };
    case 'Bps': return { factor: 1e-6, label: 'MB/s' };
    case 'percentunit': return { factor: 100, label: '%' };
    case 'reqps': return { factor: 1, label: 'req/s' };
    case 'ops': return { factor: 1, label: 'per second' };
    case 'short': return { factor: 1, label: '' };
    default: return { factor: 1, label: unit };
  }
}

export interface PreviewOptions {
  promUrl: string;
  dashboard: Dashboard;
  startS: number;
  endS: number;
  stepS?: number;
  rateInterval?: string;
}

export async function renderPreview(o: PreviewOptions): Promise<{ html: string; panels: number; emptyPanels: string[] }> {
  const vars = await resolveVariables(o.promUrl, o.dashboard);
  const step = o.stepS ?? Math.max(1, Math.round((o.endS - o.startS) / 240));
  const rate = o.rateInterval ?? `${Math.max(4 * step, 10)}s`;
  const parts: string[] = [];
  const emptyPanels: string[] = [];
  let open = false;
  let panels = 0;
  for (const p of o.dashboard.panels as any[]) {
    if (p.type === 'row') {
      if (open) parts.push('</div>');
      parts.push(`<h2>${escapeXml(p.title)}</h2><div class="grid">`);
      open = true;
      continue;
    }
    panels++;
    const { factor, label } = scaleFor(p.fieldConfig?.defaults?.unit ?? '');
    const lines: LineSeries[] = [];
    const times = new Set<number>();
    const fetched: { name: string; points: Map<number, number> }[] = [];
    for (const t of p.targets as any[]) {
      const data = await promGet<{ result: RangeSeries[] }>(o.promUrl, '/api/v1/query_range', {
        query: substitute(t.expr, vars, rate), start: String(o.startS), end: String(o.endS), step: String(step),
      });
      for (const s of data.result) {
        const points = new Map<number, number>();
        for (const [ts, v] of s.values) {
          const x = Number(v);
          if (!Number.isFinite(x)) continue;
          points.set(ts, x * factor);
          times.add(ts);
        }
        fetched.push({ name: legendOf(t.legendFormat ?? '', s.metric), points });
      }
    }
    const xsAbs = [...times].sort((a, b) => a - b);
    fetched.slice(0, 12).forEach((f, i) => lines.push({ name: f.name, color: PALETTE[i % PALETTE.length]!, values: xsAbs.map((t) => f.points.get(t) ?? null) }));
    if (xsAbs.length === 0) emptyPanels.push(p.title);
    const desc = `<p class="desc">${escapeXml(p.description ?? '')}</p>`;
    if (p.type === 'stat') {
      const last = fetched.map((f) => [...f.points.entries()].sort((a, b) => a[0] - b[0]).at(-1)?.[1]).filter((v): v is number => v !== undefined);
      const text = last.length === 0 ? 'no data' : last.map((v) => `${Number(v.toPrecision(4)).toLocaleString('en-US')} ${label}`.trim()).join(' · ');
      parts.push(`<div class="panel"><div class="stat-title">${escapeXml(p.title)}</div><div class="stat">${escapeXml(text)}</div>${desc}</div>`);
      continue;
    }
    const x = xsAbs.map((t) => t - o.startS);
    parts.push(`<div class="panel">${lineChart({ title: p.title, x, xLabel: 'seconds', yLabel: label, series: lines, widthPx: 560, heightPx: 260 })}${desc}</div>`);
  }
  if (open) parts.push('</div>');
  const title = String(o.dashboard.title);
  const when = `${new Date(o.startS * 1000).toISOString()} … ${new Date(o.endS * 1000).toISOString()}`;
  const css = `body{font:13px/1.4 system-ui,sans-serif;color:#111827;margin:16px;background:#f9fafb}h1{font-size:19px;margin:0 0 2px}h2{font-size:15px;margin:18px 0 6px;border-bottom:1px solid #e5e7eb}
.meta{color:#6b7280}.grid{display:grid;grid-template-columns:repeat(2,580px);gap:10px}.panel{background:#fff;border:1px solid #e5e7eb;border-radius:4px;padding:6px}
.desc{color:#6b7280;font-size:11px;margin:2px 4px}.stat-title{font-weight:600;margin:4px}.stat{font-size:30px;font-weight:600;color:#16a34a;margin:18px 8px}` + CHART_CSS;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>${css}</style></head><body>` +
    `<h1>${escapeXml(title)}</h1><div class="meta">preview of dashboards/grafana (not Grafana): every panel's queries from ${escapeXml(o.promUrl)}, ${escapeXml(when)}, step ${step} s, rate interval ${escapeXml(rate)}</div>` +
    `${parts.join('\n')}</body></html>\n`;
  return { html, panels, emptyPanels };
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && fileURLToPath(new URL(`file://${process.argv[1]}`)) === self) {
  const { values } = parseArgs({ options: { prometheus: { type: 'string' }, dashboard: { type: 'string' }, out: { type: 'string' }, minutes: { type: 'string' } } });
  if (values.prometheus === undefined || values.dashboard === undefined || values.out === undefined) {
    process.stderr.write('usage: npx node dashboards/preview.ts --prometheus URL --dashboard FILE --out FILE.html [--minutes 15]\n');
    process.exit(1);
  }
  const minutes = Number(values.minutes ?? '15');
  const endS = Date.now() / 1000;
  renderPreview({ promUrl: values.prometheus, dashboard: JSON.parse(readFileSync(values.dashboard, 'utf8')), startS: endS - minutes * 60, endS }).then((r) => {
    writeFileSync(values.out!, r.html);
    process.stdout.write(`wrote ${values.out} (${r.panels} panels${r.emptyPanels.length > 0 ? `; no data: ${r.emptyPanels.join(', ')}` : ''})\n`);
  }, (e: Error) => {
    process.stderr.write(`preview: ${e.message}\n`);
    process.exit(1);
  });
}
