// Proves threshold parsing (k6-like syntax, units, aliases, clear errors), evaluation against a
// run's numbers, and the mapping to k6 threshold expressions.

import { describe, expect, it } from 'vitest';
import { parseThreshold, evaluateThresholds, toK6Threshold, formatThresholdValue } from './thresholds.ts';
import type { ThresholdInputs, LatencyStat } from './thresholds.ts';

const inputs: ThresholdInputs = {
  latencyMs: (which: string, stat: LatencyStat) => {
    const base = which === 'corrected' ? 40 : which === 'service' ? 20 : 0.5;
    if (stat === 'max') return base * 3;
    if (stat === 'min') return 1;
    if (stat === 'mean') return base / 2;
    return (base * stat.percentile) / 99;
  },
  errorRate: 0.0005, timeoutRate: 0, unexpectedErrorRate: 0.0002, achievedRatio: 0.995, throughputRps: 1200, achievedRps: 1210,
};

describe('thresholds', () => {
  it('parses metrics, operators and units', () => {
    expect(parseThreshold('p99 < 50ms')).toMatchObject({ metric: { kind: 'latency', which: 'corrected', stat: { percentile: 99 } }, op: '<', limit: 50 });
    expect(parseThreshold('service.p99.9<=0.2s')).toMatchObject({ metric: { which: 'service', stat: { percentile: 99.9 } }, op: '<=', limit: 200 });
    expect(parseThreshold('p999 < 10')).toMatchObject({ metric: { stat: { percentile: 99.9 } }, limit: 10 });
    expect(parseThreshold('p(95) < 500us')).toMatchObject({ metric: { stat: { percentile: 95 } }, limit: 0.5 });
    expect(parseThreshold('error_rate < 0.1%')).toMatchObject({ metric: { kind: 'ratio', name: 'error_rate' }, limit: 0.001 });
    expect(parseThreshold('achieved_ratio >= 0.99')).toMatchObject({ limit: 0.99, op: '>=' });
    expect(parseThreshold('throughput > 1000 req/s')).toMatchObject({ metric: { kind: 'rate' }, limit: 1000 });
    expect(parseThreshold('lag.p99 < 1ms')).toMatchObject({ metric: { which: 'lag' } });
    expect(parseThreshold('max < 1s').metric).toEqual({ kind: 'latency', which: 'corrected', stat: 'max' });
  });

  it('rejects nonsense with a one-line message naming the problem', () => {
    expect(() => parseThreshold('p99 50ms')).toThrow(/bad threshold "p99 50ms"/);
    expect(() => parseThreshold('latency < 5ms')).toThrow(/unknown metric "latency"/);
    expect(() => parseThreshold('error_rate < 5ms')).toThrow(/ratio/);
    expect(() => parseThreshold('p99 < 5%')).toThrow(/latency unit/);
    expect(() => parseThreshold(42 as unknown as string)).toThrow(/must be a string/);
  });

  it('evaluates against the run and formats actual values', () => {
    const results = evaluateThresholds(['p99 < 50ms', 'service.p99 < 10ms', 'error_rate < 0.1%', 'achieved_ratio >= 99%', 'throughput > 2000'].map(parseThreshold), inputs);
    expect(results.map((r) => r.pass)).toEqual([true, false, true, true, false]);
    expect(results[0]!.actual).toBeCloseTo(40);
    expect(formatThresholdValue(results[2]!.actual, results[2]!.unit)).toBe('0.0500%');
    expect(formatThresholdValue(null, 'ms')).toBe('n/a');
  });

  it('unexpected_error_rate is its own metric (expected business rejections excluded)', () => {
    const [strict, loose] = evaluateThresholds(['unexpected_error_rate < 0.01%', 'unexpected_error_rate < 0.1%'].map(parseThreshold), inputs);
    expect(strict).toMatchObject({ pass: false, actual: 0.0002 });
    expect(loose).toMatchObject({ pass: true, actual: 0.0002 });
    expect(toK6Threshold(parseThreshold('unexpected_error_rate < 0.1%'))).toBeNull();
  });

  it('an unmeasurable metric fails with actual null (no NaN in results)', () => {
    const [r] = evaluateThresholds([parseThreshold('p99 < 5ms')], { ...inputs, latencyMs: () => NaN });
    expect(r).toMatchObject({ pass: false, actual: null });
  });

  it('maps to k6 where k6 has an equivalent', () => {
    expect(toK6Threshold(parseThreshold('p99 < 50ms'))).toEqual({ metric: 'http_req_duration', expr: 'p(99)<50' });
    expect(toK6Threshold(parseThreshold('mean <= 5ms'))).toEqual({ metric: 'http_req_duration', expr: 'avg<=5' });
    expect(toK6Threshold(parseThreshold('error_rate < 0.1%'))).toEqual({ metric: 'http_req_failed', expr: 'rate<0.001' });
    expect(toK6Threshold(parseThreshold('lag.p99 < 1ms'))).toBeNull();
    expect(toK6Threshold(parseThreshold('achieved_ratio > 0.99'))).toBeNull();
  });
});
