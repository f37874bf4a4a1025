// Proves that per-worker histograms merge exactly: values split at random across several
// histograms, each serialized (as a worker posts it), decoded and added, give the same counts
// and percentiles as one histogram of all the values; serialization round-trips; clamping.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { newHistogram, recordMs, encodeHistogram, decodeHistogram, mergeEncoded, summarize, summarizeEncoded, HIST_HIGHEST_US } from './histogram.ts';

describe('histograms', () => {
  it('merging serialized parts equals recording everything in one histogram (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 60_000, noNaN: true }), fc.integer({ min: 0, max: 4 })), { minLength: 1, maxLength: 400 }),
        (values) => {
          const whole = newHistogram();
          const parts = Array.from({ length: 5 }, () => newHistogram());
          for (const [ms, part] of values) {
            recordMs(whole, ms);
            recordMs(parts[part]!, ms);
          }
          const merged = decodeHistogram(mergeEncoded(parts.map(encodeHistogram)));
          expect(merged.totalCount).toBe(whole.totalCount);
          for (const p of [0, 10, 50, 90, 99, 99.9, 100]) expect(merged.getValueAtPercentile(p)).toBe(whole.getValueAtPercentile(p));
          expect(summarize(merged)).toEqual(summarize(whole));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('round-trips through the V2 base64 encoding and summarizes in milliseconds', () => {
    const h = newHistogram();
    for (let i = 1; i <= 1000; i++) recordMs(h, i / 10);
    const s = summarizeEncoded(encodeHistogram(h));
    expect(s.count).toBe(1000);
    expect(s.p50Ms).toBeCloseTo(50, 1);
    expect(s.p99Ms).toBeCloseTo(99, 1);
    expect(s.maxMs).toBeCloseTo(100, 1);
  });

  it('clamps values outside [0, 1 h] instead of throwing; empty summaries are zeros, not NaN', () => {
    const h = newHistogram();
    recordMs(h, -5);
    recordMs(h, 10 * 3600 * 1000);
    expect(h.totalCount).toBe(2);
    expect(h.getValueAtPercentile(100)).toBeGreaterThanOrEqual(HIST_HIGHEST_US * 0.999);
    const empty = summarize(newHistogram());
    expect(Object.values(empty).every((v) => v === 0)).toBe(true);
  });
});
