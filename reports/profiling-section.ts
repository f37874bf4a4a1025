// The report's "Profiling" section (HTML and Markdown) from result.profiling: per thread, the
// top functions by self time with their total time, an offline flame graph, links to the
// .cpuprofile files (Chrome DevTools, speedscope); the heap diff (what grew, by constructor);
// the clinic tools' reports or the exact reason there is none.

import type { RunProfiling, CpuProfiling } from '../harness/profiling/types.ts';
import { cpuAnchorId } from '../harness/profiling/types.ts';
import { escapeXml } from './svg.ts';
import { flameGraphSvg } from './flame-svg.ts';

const ms1 = (x: number): string => x.toFixed(1);
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const mb = (b: number): string => `${(b / 1e6).toFixed(2)} MB`;
const signed = (x: number, f: (v: number) => string): string => `${x >= 0 ? '+' : '−'}${f(Math.abs(x))}`;
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('') + '</tbody></table>';
}

const link = (href: string, text: string): string => `<a href="${escapeXml(href)}">${escapeXml(text)}</a>`;

function cpuHtml(c: CpuProfiling, withFlame: boolean): string {
  const parts: string[] = [];
  parts.push(`<h3 id="${escapeXml(cpuAnchorId(c.label))}">CPU: ${escapeXml(c.label)} (t=${c.fromS.toFixed(1)}–${c.toS.toFixed(1)} s, ${escapeXml(c.source)})</h3>`);
  if (c.p99Ms !== undefined) parts.push(`<p>Chosen because its corrected p99 was the worst of the captured windows: ${c.p99Ms.toFixed(1)} ms.</p>`);
  if (c.candidates !== undefined && c.candidates.length > 0) {
    parts.push(`<p class="detail">Windows captured: ${escapeXml(c.candidates.map((w) => `${w.fromS.toFixed(1)}–${w.toS.toFixed(1)} s p99 ${w.p99Ms === null ? 'n/a' : `${w.p99Ms.toFixed(1)} ms`}`).join('; '))}</p>`);
  }
  for (const t of c.threads) {
    const links = [link(t.file, `${t.thread}.cpuprofile`)];
    if (t.speedscope !== undefined) links.push(link(t.speedscope, 'open in speedscope (offline)'));
    parts.push(`<h4>${escapeXml(t.thread)} thread — ${int(t.samples)} samples, busy ${ms1(t.busyMs)} ms of ${ms1(t.windowMs)} ms (GC ${ms1(t.gcMs)} ms, idle ${ms1(t.idleMs)} ms) · ${links.join(' · ')}</h4>`);
    parts.push(table(['function', 'location', 'self ms', 'self % of busy', 'total ms', 'total % of busy'],
      t.top.map((f) => [f.name, f.location, ms1(f.selfMs), pct(f.selfShare), ms1(f.totalMs), pct(f.totalShare)])));
    if (withFlame && t.flame !== undefined && t.busyMs > 0) parts.push(flameGraphSvg(t.flame, { title: `${t.thread} thread: flame graph of busy time, ${c.label}` }));
  }
  return parts.join('\n');
}

export function profilingHtml(p: RunProfiling | undefined): string {
  if (p === undefined) return '';
  const parts: string[] = ['<h2 id="profiling">Profiling</h2>'];
  for (const note of p.notes ?? []) parts.push(`<p class="detail">${escapeXml(note)}</p>`);
  (p.cpu ?? []).forEach((c, i) => parts.push(cpuHtml(c, i === 0 || c.threads.some((t) => t.flame !== undefined))));
  if (p.heap !== undefined) {
    const h = p.heap;
    parts.push(`<h3 id="heap">Heap: ${escapeXml(h.beforeLabel)} → ${escapeXml(h.afterLabel)} (what grew, by constructor; shallow sizes)</h3>`);
    for (const e of h.errors) parts.push(`<div class="placeholder">${escapeXml(e)}</div>`);
    for (const t of h.threads) {
      parts.push(`<h4>${escapeXml(t.thread)} thread: ${mb(t.beforeBytes)} → ${mb(t.afterBytes)} (${signed(t.afterBytes - t.beforeBytes, mb)}), ${int(t.beforeObjects)} → ${int(t.afterObjects)} objects; snapshots paused the thread ${ms1(t.snapshotMs[0])} / ${ms1(t.snapshotMs[1])} ms · ${link(t.beforeFile, 'before')} · ${link(t.afterFile, 'after')}</h4>`);
      parts.push(table(['constructor / type', 'count before', 'count after', 'Δ count', 'bytes before', 'bytes after', 'Δ bytes'],
        t.rows.map((r) => [r.name, int(r.countBefore), int(r.countAfter), signed(r.countAfter - r.countBefore, int), int(r.bytesBefore), int(r.bytesAfter), signed(r.bytesAfter - r.bytesBefore, int)])));
    }
  }
  for (const c of p.clinic ?? []) {
    parts.push(`<h3 id="clinic-${c.tool}">clinic ${escapeXml(c.tool)}</h3>`);
    parts.push(c.ok && c.html !== undefined
      ? `<p>${link(c.html, `clinic ${c.tool} report`)}${c.check === undefined ? '' : ` — ${escapeXml(c.check)}`}</p>`
      : `<div class="placeholder"><strong>no clinic ${escapeXml(c.tool)} report</strong> — ${escapeXml(c.failure ?? 'unknown failure')}</div>`);
  }
  return parts.join('\n');
}

export function profilingMarkdown(p: RunProfiling | undefined): string[] {
  if (p === undefined) return [];
  const lines: string[] = ['## Profiling', ''];
  for (const c of p.cpu ?? []) {
    lines.push(`### CPU: ${c.label} (t=${c.fromS.toFixed(1)}–${c.toS.toFixed(1)} s, ${c.source})`, '');
    for (const t of c.threads) {
      lines.push(`${t.thread} thread (\`${t.file}\`): busy ${ms1(t.busyMs)} of ${ms1(t.windowMs)} ms, GC ${ms1(t.gcMs)} ms. Top self time: ` +
        t.top.slice(0, 5).map((f) => `${f.name} ${pct(f.selfShare)}`).join(', '), '');
    }
  }
  if (p.heap !== undefined) {
    lines.push(`### Heap: ${p.heap.beforeLabel} → ${p.heap.afterLabel}`, '');
    for (const t of p.heap.threads) {
      lines.push(`${t.thread}: ${mb(t.beforeBytes)} → ${mb(t.afterBytes)}; grew most: ` + t.rows.slice(0, 5).map((r) => `${r.name} ${signed(r.bytesAfter - r.bytesBefore, int)} B (${signed(r.countAfter - r.countBefore, int)})`).join(', '), '');
    }
  }
  for (const c of p.clinic ?? []) lines.push(`- clinic ${c.tool}: ${c.ok ? `\`${c.html}\`${c.check === undefined ? '' : ` (${c.check})`}` : `no report — ${c.failure}`}`);
  lines.push('');
  return lines;
}
