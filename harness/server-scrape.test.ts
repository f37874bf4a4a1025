// The scraper's arithmetic: Prometheus text parsing and quantiles from bucket deltas.
import { describe, expect, it } from 'vitest';
import { parsePrometheus, quantileFromBuckets } from './server-scrape.ts';

describe('server metrics scraping', () => {
  it('parses samples with labels, +Inf and comments', () => {
    const s = parsePrometheus('# HELP x\nperpx_stage_duration_seconds_bucket{stage="queue_wait",le="0.001"} 5\nperpx_stage_duration_seconds_bucket{stage="queue_wait",le="+Inf"} 9\nperpx_eventloop_utilization{thread="engine"} 0.5\n');
    expect(s).toEqual([
      { name: 'perpx_stage_duration_seconds_bucket', labels: { stage: 'queue_wait', le: '0.001' }, value: 5 },
      { name: 'perpx_stage_duration_seconds_bucket', labels: { stage: 'queue_wait', le: '+Inf' }, value: 9 },
      { name: 'perpx_eventloop_utilization', labels: { thread: 'engine' }, value: 0.5 },
    ]);
  });

  it('interpolates quantiles inside buckets and returns null with no observations', () => {
    // 100 observations: 50 in (0, 1 ms], 49 in (1, 2 ms], 1 in (2, 4 ms]
    const b: [number, number][] = [[0.001, 50], [0.002, 99], [0.004, 100], [Infinity, 100]];
    expect(quantileFromBuckets(b, 0.5)).toBeCloseTo(1, 6);
    expect(quantileFromBuckets(b, 0.99)).toBeCloseTo(2, 6);
    expect(quantileFromBuckets(b, 1)).toBeCloseTo(4, 6);
    expect(quantileFromBuckets([[0.001, 0], [Infinity, 0]], 0.99)).toBeNull();
  });
});
