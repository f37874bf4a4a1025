// The chaos section of a report (chaos/runner.ts fills RunResult.chaos): shaded bands for every
// fault window on every line chart (red: the fault held, amber: until the SLO was met again),
// the headline figures (time to detect, time to recover, failed requests, lost orders, replay
// hash) and the timeline of inject / clear / detect / recover events.

import type { RunResult } from '../harness/result.ts';
import type { Band } from './svg.ts';
import { escapeXml } from './svg.ts';

const FAULT_COLOR = '#dc2626';
const RECOVERY_COLOR = '#f59e0b';
/** Timeline rows listed in full; the rest are counted (a 100-kill run has 400+ events). */
const EVENTS_LISTED_MAX = 400;

export function chaosBands(r: RunResult): Band[] {
  const out: Band[] = [];
  for (const w of r.chaos?.windows ?? []) {
    out.push({ fromX: w.injectS, toX: Math.max(w.clearS, w.injectS + 0.05), color: FAULT_COLOR, label: `${w.fault}: ${w.injectS.toFixed(2)}–${w.clearS.toFixed(2)} s` });
    if (w.recoveredS !== null && w.recoveredS > w.clearS) out.push({ fromX: w.clearS, toX: w.recoveredS, color: RECOVERY_COLOR, label: `recovering until ${w.recoveredS.toFixed(2)} s` });
  }
  return out;
}

export function chaosHtml(r: RunResult): string {
  const c = r.chaos;
  if (c === undefined) return '';
  const rows = c.figures.map(([k, v]) => `<tr><td>${escapeXml(k)}</td><td>${escapeXml(v)}</td></tr>`).join('');
  const ev = c.events.slice(0, EVENTS_LISTED_MAX).map((e) => `<tr><td class="num">${e.tS.toFixed(3)}</td><td>${escapeXml(e.kind)}</td><td>${escapeXml(e.fault)}</td><td>${escapeXml(e.detail)}</td></tr>`).join('');
  const more = c.events.length > EVENTS_LISTED_MAX ? `<p>${c.events.length - EVENTS_LISTED_MAX} more events in results.json (chaos.events).</p>` : '';
  return `<h2>Chaos: ${escapeXml(c.experiment)} (seed ${c.seed})</h2>` +
    `<p>Every chart below is shaded where a fault held (<span style="color:${FAULT_COLOR}">red</span>) and until the steady state was met again (<span style="color:${RECOVERY_COLOR}">amber</span>).</p>` +
    `<table><tbody>${rows}</tbody></table>` +
    `<details><summary>Fault timeline (${c.events.length} events, seconds since the load started)</summary><table><thead><tr><th>t (s)</th><th>event</th><th>fault</th><th>detail</th></tr></thead><tbody>${ev}</tbody></table>${more}</details>`;
}

export function chaosMarkdown(r: RunResult): string[] {
  const c = r.chaos;
  if (c === undefined) return [];
  const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [`## Chaos: ${c.experiment} (seed ${c.seed})`, '', '| figure | value |', '|---|---|', ...c.figures.map(([k, v]) => `| ${esc(k)} | ${esc(v)} |`), ''];
  lines.push('### Fault timeline (seconds since the load started)', '', '| t (s) | event | fault | detail |', '|---|---|---|---|');
  for (const e of c.events.slice(0, EVENTS_LISTED_MAX)) lines.push(`| ${e.tS.toFixed(3)} | ${e.kind} | ${esc(e.fault)} | ${esc(e.detail)} |`);
  if (c.events.length > EVENTS_LISTED_MAX) lines.push('', `${c.events.length - EVENTS_LISTED_MAX} more events in results.json (chaos.events).`);
  lines.push('');
  return lines;
}
