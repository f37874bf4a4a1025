// Server-side SVG charts for the self-contained report: plain strings, no DOM, no scripts, no
// external resources. Line charts (optional right axis for an overlay such as the offered load,
// optional log scale for latency), scatter plots (saturation) and horizontal bars (error codes).
// Missing values (null) break a line instead of drawing it through zero.

export interface LineSeries {
  name: string;
  values: readonly (number | null)[];
  color: string;
  dash?: string;
  axis?: 'left' | 'right';
  widthPx?: number;
}

export interface Marker {
  x: number;
  label: string;
  color?: string;
}

/** A shaded x-range drawn behind the data (e.g. a chaos fault window). */
export interface Band {
  fromX: number;
  toX: number;
  color: string;
  label?: string;
}

export interface LineChartSpec {
  title: string;
  x: readonly number[];
  xLabel: string;
  yLabel: string;
  y2Label?: string;
  series: readonly LineSeries[];
  yLog?: boolean;
  markers?: readonly Marker[];
  bands?: readonly Band[];
  widthPx?: number;
  heightPx?: number;
}

export interface ScatterSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  points: readonly { x: number; y: number }[];
  color: string;
  markers?: readonly Marker[];
  yLog?: boolean;
  line?: readonly { x: number; y: number }[];
  widthPx?: number;
  heightPx?: number;
}

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

const MARGIN = { left: 64, right: 64, top: 34, bottom: 44 };
const LEGEND_ROW_PX = 14;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 100) return String(Math.round(v));
  if (a >= 1) return String(+v.toPrecision(3));
  return String(+v.toPrecision(2));
}

/** "Nice" linear ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  const first = Math.floor(lo / step + 1e-9) * step;
  const last = Math.ceil(hi / step - 1e-9) * step;
  for (let i = 0; first + i * step <= last + step * 1e-9; i++) ticks.push(+(first + i * step).toPrecision(12));
  return ticks;
}

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
    }
  }
  return ticks;
}

interface Scale {
  map(v: number): number;
  ticks: number[];
}

/** Linear scale; `tight` keeps the domain to the data (x axes), else it extends to nice ticks. */
function linearScale(values: number[], pxLo: number, pxHi: number, zero = true, tight = false): Scale {
  let lo = values.length === 0 ? 0 : Math.min(...values);
  let hi = values.length === 0 ? 1 : Math.max(...values);
  if (zero) lo = Math.min(0, lo);
  if (hi === lo) hi = lo + 1;
  const nice = niceTicks(lo, hi, tight ? 8 : 5);
  const ticks = tight ? nice.filter((t) => t >= lo - 1e-9 && t <= hi + 1e-9) : nice;
  const tLo = tight ? lo : nice[0]!;
  const tHi = tight ? hi : nice[nice.length - 1]!;
  return { ticks, map: (v) => pxLo + ((v - tLo) / (tHi - tLo)) * (pxHi - pxLo) };
}

function logScale(values: number[], pxLo: number, pxHi: number): Scale {
  const pos = values.filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(pos.length === 0 ? 0.1 : Math.min(...pos)));
  const hi = 10 ** Math.ceil(Math.log10(pos.length === 0 ? 1 : Math.max(...pos)));
  const top = hi === lo ? lo * 10 : hi;
  return {
    ticks: logTicks(lo, top),
    map: (v) => pxLo + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(top) - Math.log10(lo))) * (pxHi - pxLo),
  };
}

function finite(values: readonly (number | null)[]): number[] {
  const out: number[] = [];
  for (const v of values) if (v !== null && Number.isFinite(v)) out.push(v);
  return out;
}

function frame(title: string, w: number, h: number, body: string): string {
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeXml(title)}">` +
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#fff"/>` +
    `<text x="${MARGIN.left}" y="20" class="ct">${escapeXml(title)}</text>${body}</svg>`;
}

function axes(w: number, h: number, top: number, xs: Scale, ys: Scale, xLabel: string, yLabel: string, y2?: { scale: Scale; label: string }): string {
  const x0 = MARGIN.left;
  const x1 = w - MARGIN.right;
  const y0 = h - MARGIN.bottom;
  const y1 = top;
  let s = '';
  for (const t of ys.ticks) {
    const y = ys.map(t).toFixed(1);
    s += `<line x1="${x0}" x2="${x1}" y1="${y}" y2="${y}" class="grid"/><text x="${x0 - 6}" y="${y}" class="yt">${fmt(t)}</text>`;
  }
  for (const t of xs.ticks) {
    const x = xs.map(t).toFixed(1);
    s += `<line x1="${x}" x2="${x}" y1="${y0}" y2="${y0 + 4}" class="axis"/><text x="${x}" y="${y0 + 16}" class="xt">${fmt(t)}</text>`;
  }
  if (y2 !== undefined) {
    for (const t of y2.scale.ticks) s += `<text x="${x1 + 6}" y="${y2.scale.map(t).toFixed(1)}" class="y2t">${fmt(t)}</text>`;
    s += `<text transform="translate(${w - 14},${(y0 + y1) / 2}) rotate(90)" class="al">${escapeXml(y2.label)}</text>`;
  }
  s += `<line x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}" class="axis"/><line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" class="axis"/>`;
  s += `<text x="${(x0 + x1) / 2}" y="${h - 8}" class="al">${escapeXml(xLabel)}</text>`;
  s += `<text transform="translate(16,${(y0 + y1) / 2}) rotate(-90)" class="al">${escapeXml(yLabel)}</text>`;
  return s;
}

function markersSvg(markers: readonly Marker[] | undefined, xs: Scale, h: number, top: number): string {
  let s = '';
  for (const m of markers ?? []) {
    const x = xs.map(m.x).toFixed(1);
    const c = m.color ?? '#111827';
    s += `<line x1="${x}" x2="${x}" y1="${top}" y2="${h - MARGIN.bottom}" stroke="${c}" stroke-dasharray="4 3"/>` +
      `<text x="${x}" y="${top + 12}" class="mk" fill="${c}">${escapeXml(m.label)}</text>`;
  }
  return s;
}

function bandsSvg(bands: readonly Band[] | undefined, xs: Scale, h: number, top: number): string {
  let s = '';
  for (const b of bands ?? []) {
    const x0 = xs.map(b.fromX);
    const wPx = Math.max(1, xs.map(b.toX) - x0);
    s += `<rect x="${x0.toFixed(1)}" y="${top}" width="${wPx.toFixed(1)}" height="${h - MARGIN.bottom - top}" fill="${b.color}" fill-opacity="0.18">` +
      `${b.label === undefined ? '' : `<title>${escapeXml(b.label)}</title>`}</rect>`;
  }
  return s;
}

function legendItemPx(name: string): number {
  return 28 + name.length * 6.8;
}

/** Rows the legend needs above the plot. */
function legendRows(series: readonly { name: string }[], w: number): number {
  if (series.length === 0) return 0;
  let rows = 1;
  let x = MARGIN.left + 4;
  for (const ser of series) {
    const width = legendItemPx(ser.name);
    if (x + width > w - MARGIN.right && x > MARGIN.left + 4) {
      rows++;
      x = MARGIN.left + 4;
    }
    x += width;
  }
  return rows;
}

/** The legend sits between the title and the plot, never over the data. */
function legend(series: readonly { name: string; color: string; dash?: string }[], w: number): string {
  let s = '';
  let x = MARGIN.left + 4;
  let y = MARGIN.top + 4;
  for (const ser of series) {
    const width = legendItemPx(ser.name);
    if (x + width > w - MARGIN.right && x > MARGIN.left + 4) {
      x = MARGIN.left + 4;
      y += LEGEND_ROW_PX;
    }
    s += `<line x1="${x}" x2="${x + 16}" y1="${y - 4}" y2="${y - 4}" stroke="${ser.color}" stroke-width="2"${ser.dash === undefined ? '' : ` stroke-dasharray="${ser.dash}"`}/>` +
      `<text x="${x + 20}" y="${y}" class="lg">${escapeXml(ser.name)}</text>`;
    x += width;
  }
  return s;
}

function path(xv: readonly number[], values: readonly (number | null)[], xs: Scale, ys: Scale): string {
  let d = '';
  let pen = false;
  for (let i = 0; i < values.length && i < xv.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${xs.map(xv[i]!).toFixed(1)} ${ys.map(v).toFixed(1)}`;
    pen = true;
  }
  return d;
}

export function lineChart(spec: LineChartSpec): string {
  const w = spec.widthPx ?? 900;
  const h = spec.heightPx ?? 300;
  const left = spec.series.filter((s) => s.axis !== 'right');
  const right = spec.series.filter((s) => s.axis === 'right');
  const leftValues = left.flatMap((s) => finite(s.values));
  if (spec.x.length === 0 || leftValues.length === 0) return frame(spec.title, w, 80, `<text x="${MARGIN.left}" y="50" class="lg">no data</text>`);
  const top = MARGIN.top + legendRows(spec.series, w) * LEGEND_ROW_PX + 6;
  const xs = linearScale([0, ...spec.x], MARGIN.left, w - MARGIN.right, false, true);
  const useLog = spec.yLog === true && leftValues.some((v) => v > 0);
  const ys = useLog ? logScale(leftValues, h - MARGIN.bottom, top) : linearScale(leftValues, h - MARGIN.bottom, top);
  const rightValues = right.flatMap((s) => finite(s.values));
  const y2 = right.length > 0 && rightValues.length > 0 ? linearScale(rightValues, h - MARGIN.bottom, top) : undefined;
  let body = bandsSvg(spec.bands, xs, h, top) + axes(w, h, top, xs, ys, spec.xLabel, spec.yLabel, y2 === undefined ? undefined : { scale: y2, label: spec.y2Label ?? '' });
  for (const s of [...right, ...left]) {
    const scale = s.axis === 'right' && y2 !== undefined ? y2 : ys;
    const d = path(spec.x, s.values, xs, scale);
    if (d.length > 0) {
      body += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.widthPx ?? 1.6}"${s.dash === undefined ? '' : ` stroke-dasharray="${s.dash}"`}/>`;
    }
  }
  body += markersSvg(spec.markers, xs, h, top) + legend(spec.series, w);
  return frame(spec.title, w, h, body);
}

export function scatterChart(spec: ScatterSpec): string {
  const w = spec.widthPx ?? 900;
  const h = spec.heightPx ?? 300;
  if (spec.points.length === 0) return frame(spec.title, w, 80, `<text x="${MARGIN.left}" y="50" class="lg">no data</text>`);
  const xs = linearScale(spec.points.map((p) => p.x), MARGIN.left, w - MARGIN.right);
  const yv = [...spec.points.map((p) => p.y), ...(spec.line ?? []).map((p) => p.y)];
  const top = MARGIN.top;
  const ys = spec.yLog === true ? logScale(yv, h - MARGIN.bottom, top) : linearScale(yv, h - MARGIN.bottom, top);
  let body = axes(w, h, top, xs, ys, spec.xLabel, spec.yLabel);
  for (const p of spec.points) body += `<circle cx="${xs.map(p.x).toFixed(1)}" cy="${ys.map(p.y).toFixed(1)}" r="2.5" fill="${spec.color}" fill-opacity="0.55"/>`;
  if (spec.line !== undefined && spec.line.length > 1) {
    const d = path(spec.line.map((p) => p.x), spec.line.map((p) => p.y), xs, ys);
    body += `<path d="${d}" fill="none" stroke="#111827" stroke-width="1.8"/>`;
  }
  body += markersSvg(spec.markers, xs, h, top);
  return frame(spec.title, w, h, body);
}

export function barChart(title: string, bars: readonly { label: string; value: number; color?: string }[], widthPx = 900): string {
  const rowPx = 22;
  const h = MARGIN.top + 10 + bars.length * rowPx;
  if (bars.length === 0) return frame(title, widthPx, 80, `<text x="${MARGIN.left}" y="50" class="lg">none</text>`);
  const labelPx = 170;
  const max = Math.max(...bars.map((b) => b.value), 1);
  let body = '';
  bars.forEach((b, i) => {
    const y = MARGIN.top + 6 + i * rowPx;
    const bw = ((widthPx - labelPx - 120) * b.value) / max;
    body += `<text x="${labelPx - 6}" y="${y + 13}" class="yt">${escapeXml(b.label)}</text>` +
      `<rect x="${labelPx}" y="${y}" width="${Math.max(1, bw).toFixed(1)}" height="${rowPx - 6}" fill="${b.color ?? PALETTE[i % PALETTE.length]}"/>` +
      `<text x="${(labelPx + bw + 6).toFixed(1)}" y="${y + 13}" class="lg">${b.value.toLocaleString('en-US')}</text>`;
  });
  return frame(title, widthPx, h, body);
}

/** CSS for the chart classes, inlined once in the report. */
export const CHART_CSS = `
svg.chart{display:block;margin:8px 0 18px;max-width:100%;height:auto;border:1px solid #e5e7eb;border-radius:6px}
svg.chart text{font:11px system-ui,-apple-system,Segoe UI,sans-serif;fill:#374151}
svg.chart .ct{font-weight:600;font-size:13px;fill:#111827}
svg.chart .yt{text-anchor:end;dominant-baseline:middle}
svg.chart .y2t{text-anchor:start;dominant-baseline:middle;fill:#6b7280}
svg.chart .xt{text-anchor:middle}
svg.chart .al{text-anchor:middle;fill:#6b7280}
svg.chart .mk{text-anchor:middle;font-weight:600}
svg.chart .grid{stroke:#f3f4f6}
svg.chart .axis{stroke:#9ca3af}
`;
