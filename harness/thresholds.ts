// k6-like thresholds: "p99 < 50ms", "service.p99.9 <= 120ms", "error_rate < 0.1%",
// "achieved_ratio >= 99%", "lag.p99 < 1ms", "throughput > 1000". Parsed when a scenario is
// normalized (a typo fails before any load is sent) and evaluated on the run result.
//
// Latency metrics default to the coordinated-omission-corrected latency (from the intended send
// time); prefix `service.` for the time from the actual send. Percentiles: p50, p90, p95, p99,
// p99.9 (also p999 and k6's p(99)), plus min, mean, max.

export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==';

export type ThresholdMetric =
  | { kind: 'latency'; which: 'corrected' | 'service' | 'lag'; stat: LatencyStat }
  | { kind: 'ratio'; name: 'error_rate' | 'unexpected_error_rate' | 'timeout_rate' | 'achieved_ratio' }
  | { kind: 'rate'; name: 'throughput' | 'achieved_rate' };

export type LatencyStat = { percentile: number } | 'min' | 'mean' | 'max';

export interface Threshold {
  readonly source: string;
  readonly metric: ThresholdMetric;
  readonly op: ThresholdOp;
  /** Milliseconds for latency, a fraction (0.001 = 0.1%) for ratios, req/s for rates. */
  readonly limit: number;
}

export interface ThresholdResult {
  readonly source: string;
  readonly pass: boolean;
  /** null when there was nothing to measure (e.g. no completed request). */
  readonly actual: number | null;
  readonly limit: number;
  readonly op: ThresholdOp;
  readonly unit: 'ms' | 'ratio' | 'req/s';
}

/** What a threshold is evaluated against; latency in milliseconds. */
export interface ThresholdInputs {
  latencyMs(which: 'corrected' | 'service' | 'lag', stat: LatencyStat): number;
  errorRate: number;
  timeoutRate: number;
  unexpectedErrorRate: number;
  achievedRatio: number;
  throughputRps: number;
  achievedRps: number;
}

const LINE = /^\s*([a-z_.]+(?:\(\s*[\d.]+\s*\))?[\d.]*)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*(us|µs|ms|s|%|req\/s|rps)?\s*$/i;
const LATENCY_UNIT_MS: Record<string, number> = { us: 1e-3, µs: 1e-3, ms: 1, s: 1000 };

export function parseThreshold(source: string): Threshold {
  if (typeof source !== 'string') throw new Error(`threshold must be a string like "p99 < 50ms", got ${JSON.stringify(source)}`);
  const m = LINE.exec(source);
  if (m === null) throw new Error(`bad threshold "${source}" (expected e.g. "p99 < 50ms" or "error_rate < 0.1%")`);
  const metric = parseMetric(m[1]!.toLowerCase().replace(/\s+/g, ''), source);
  const value = Number(m[3]);
  const unit = m[4]?.toLowerCase();
  let limit: number;
  if (metric.kind === 'latency') {
    if (unit !== undefined && !(unit in LATENCY_UNIT_MS)) throw new Error(`bad threshold "${source}": latency unit must be us, ms or s`);
    limit = value * LATENCY_UNIT_MS[unit ?? 'ms']!;
  } else if (metric.kind === 'ratio') {
    if (unit !== undefined && unit !== '%') throw new Error(`bad threshold "${source}": a ratio takes % or a plain fraction`);
    limit = unit === '%' ? value / 100 : value;
  } else {
    if (unit !== undefined && unit !== 'req/s' && unit !== 'rps') throw new Error(`bad threshold "${source}": a rate takes req/s`);
    limit = value;
  }
  return { source: source.trim(), metric, op: m[2] as ThresholdOp, limit };
}

function parseMetric(name: string, source: string): ThresholdMetric {
  if (name === 'error_rate' || name === 'unexpected_error_rate' || name === 'timeout_rate' || name === 'achieved_ratio') return { kind: 'ratio', name };
  if (name === 'throughput' || name === 'achieved_rate') return { kind: 'rate', name };
  let which: 'corrected' | 'service' | 'lag' = 'corrected';
  let stat = name;
  for (const prefix of ['corrected.', 'service.', 'lag.'] as const) {
    if (name.startsWith(prefix)) {
      which = prefix.slice(0, -1) as typeof which;
      stat = name.slice(prefix.length);
    }
  }
  if (stat === 'min' || stat === 'mean' || stat === 'max') return { kind: 'latency', which, stat };
  if (stat === 'med') return { kind: 'latency', which, stat: { percentile: 50 } };
  const pm = /^p(?:\(([\d.]+)\)|([\d.]+))$/.exec(stat);
  if (pm !== null) {
    const digits = pm[1] ?? pm[2]!;
    // "p999" means 99.9 and "p9999" 99.99 (HdrHistogram naming); "p99.9" is taken literally.
    const percentile = pm[1] === undefined && /^9{3,}$/.test(digits) ? 100 - 10 ** (2 - digits.length) : Number(digits);
    if (Number.isFinite(percentile) && percentile > 0 && percentile <= 100) return { kind: 'latency', which, stat: { percentile } };
  }
  throw new Error(`bad threshold "${source}": unknown metric "${name}" (try p99, service.p99, max, error_rate, achieved_ratio, throughput, lag.p99)`);
}

export function evaluateThresholds(thresholds: readonly Threshold[], inputs: ThresholdInputs): ThresholdResult[] {
  return thresholds.map((t) => {
    const actual = actualValue(t.metric, inputs);
    const unit = t.metric.kind === 'latency' ? 'ms' : t.metric.kind === 'ratio' ? 'ratio' : 'req/s';
    const known = Number.isFinite(actual);
    return { source: t.source, pass: known && compare(actual, t.op, t.limit), actual: known ? actual : null, limit: t.limit, op: t.op, unit };
  });
}

function actualValue(metric: ThresholdMetric, inputs: ThresholdInputs): number {
  switch (metric.kind) {
    case 'latency':
      return inputs.latencyMs(metric.which, metric.stat);
    case 'ratio':
      switch (metric.name) {
        case 'error_rate': return inputs.errorRate;
        case 'unexpected_error_rate': return inputs.unexpectedErrorRate;
        case 'timeout_rate': return inputs.timeoutRate;
        case 'achieved_ratio': return inputs.achievedRatio;
      }
    case 'rate':
      return metric.name === 'throughput' ? inputs.throughputRps : inputs.achievedRps;
  }
}

function compare(actual: number, op: ThresholdOp, limit: number): boolean {
  if (Number.isNaN(actual)) return false;
  switch (op) {
    case '<':
      return actual < limit;
    case '<=':
      return actual <= limit;
    case '>':
      return actual > limit;
    case '>=':
      return actual >= limit;
    case '==':
      return actual === limit;
  }
}

/** "p99 < 50ms" → k6 `http_req_duration: ['p(99)<50']`; null when k6 has no equivalent. */
export function toK6Threshold(t: Threshold): { metric: string; expr: string } | null {
  const op = t.op === '==' ? '==' : t.op;
  if (t.metric.kind === 'latency') {
    if (t.metric.which === 'lag') return null;
    const s = t.metric.stat;
    const stat = typeof s === 'object' ? `p(${s.percentile})` : s === 'mean' ? 'avg' : s;
    return { metric: 'http_req_duration', expr: `${stat}${op}${t.limit}` };
  }
  if (t.metric.kind === 'ratio' && t.metric.name === 'error_rate') return { metric: 'http_req_failed', expr: `rate${op}${t.limit}` };
  if (t.metric.kind === 'rate' && t.metric.name === 'throughput') return { metric: 'http_reqs', expr: `rate${op}${t.limit}` };
  return null;
}

/** A human form of a threshold value: "12.3 ms", "0.05%", "1,000 req/s". */
export function formatThresholdValue(value: number | null, unit: ThresholdResult['unit']): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  if (unit === 'ms') return `${value < 10 ? value.toFixed(3) : value.toFixed(1)} ms`;
  if (unit === 'ratio') return `${(value * 100).toPrecision(3)}%`;
  return `${Math.round(value).toLocaleString('en-US')} req/s`;
}
