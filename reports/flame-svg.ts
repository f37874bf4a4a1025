// An offline flame graph as an inline SVG string (no scripts, no external resources): root
// at the bottom, each frame as wide as its share of the thread's busy time, callers below
// callees. Hovering a frame shows its <title> (name, location, total and self ms).

import { escapeXml } from './svg.ts';

export interface FlameFrame {
  name: string;
  location: string;
  totalMs: number;
  selfMs: number;
  children: FlameFrame[];
}

const ROW_PX = 17;
const CHAR_PX = 6.6;
const MAX_DEPTH = 48;

function colorOf(name: string): string {
  if (name === '(garbage collector)') return '#9ca3af';
  if (name === '(program)' || name.startsWith('(')) return '#d1d5db';
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  // Warm hues (red → yellow), like classic flame graphs.
  return `hsl(${(h % 55) + 5}, ${70 + (h % 20)}%, ${58 + ((h >> 5) % 12)}%)`;
}

function fit(text: string, widthPx: number): string {
  const n = Math.floor((widthPx - 6) / CHAR_PX);
  if (n < 3) return '';
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}

export function flameGraphSvg(root: FlameFrame, opts: { title: string; widthPx?: number }): string {
  const width = opts.widthPx ?? 920;
  const total = root.totalMs;
  const rects: string[] = [];
  let maxDepth = 0;
  const walk = (f: FlameFrame, x: number, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    const w = total > 0 ? (f.totalMs / total) * width : 0;
    if (w < 0.5) return;
    maxDepth = Math.max(maxDepth, depth);
    rects.push(`<g data-depth="${depth}"><title>${escapeXml(`${f.name}${f.location ? ` (${f.location})` : ''}: total ${f.totalMs.toFixed(1)} ms (${total > 0 ? ((f.totalMs / total) * 100).toFixed(1) : '0'}%), self ${f.selfMs.toFixed(1)} ms`)}</title>` +
      `<rect x="${x.toFixed(2)}" y="{Y${depth}}" width="${Math.max(0.5, w - 0.5).toFixed(2)}" height="${ROW_PX - 1}" fill="${colorOf(f.name)}" rx="1"/>` +
      (fit(f.name, w) === '' ? '' : `<text x="${(x + 3).toFixed(2)}" y="{T${depth}}" font-size="11" fill="#111827">${escapeXml(fit(f.name, w))}</text>`) + '</g>');
    let cx = x;
    for (const c of f.children) {
      walk(c, cx, depth + 1);
      cx += total > 0 ? (c.totalMs / total) * width : 0;
    }
  };
  walk(root, 0, 0);
  const top = 22;
  const height = top + (maxDepth + 1) * ROW_PX + 4;
  // Root at the bottom: row d sits at height − (d+1)·ROW_PX.
  const body = rects.join('').replace(/\{([YT])(\d+)\}/g, (_, kind: string, d: string) => {
    const y = height - 4 - (Number(d) + 1) * ROW_PX;
    return String(kind === 'Y' ? y : y + 12);
  });
  return `<svg class="chart flame" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(opts.title)}">` +
    `<text x="0" y="14" font-size="13" font-weight="600" fill="#111827">${escapeXml(opts.title)}</text>${body}</svg>`;
}
