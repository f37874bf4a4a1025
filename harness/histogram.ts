// Latency histograms: HdrHistogram (hdr-histogram-js) of integer microseconds, 3 significant
// digits, fixed range 1 µs .. 1 h (values above are clamped and counted). One fixed layout
// everywhere, so a histogram serialized in a worker (compressed base64, the HdrHistogram V2
// encoding) decodes and adds into a coordinator histogram bucket for bucket: totals and per-
// second series merged across workers are exact, not averages of percentiles.

import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

export type { Histogram };

export const HIST_HIGHEST_US = 3_600_000_000;
const HIST_DIGITS = 3;

export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIST_HIGHEST_US,
    numberOfSignificantValueDigits: HIST_DIGITS,
    bitBucketSize: 32,
    autoResize: false,
    useWebAssembly: false,
  });
}

/** Records a latency in milliseconds (as whole microseconds, clamped to [0, 1 h]). */
export function recordMs(h: Histogram, ms: number): void {
  let us = Math.round(ms * 1000);
  if (!(us >= 0)) us = 0; // negative or NaN: a clock artefact, never expected (asserted in tests)
  if (us > HIST_HIGHEST_US) us = HIST_HIGHEST_US;
  h.recordValue(us);
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(b64: string): Histogram {
  return hdr.decodeFromCompressedBase64(b64, 32, false);
}

/** Adds a serialized histogram into `into` (exact, bucket by bucket). */
export function addEncoded(into: Histogram, b64: string): void {
  const part = decodeHistogram(b64);
  into.add(part);
  part.destroy();
}

/** Merges serialized histograms into one serialized histogram. */
export function mergeEncoded(parts: readonly string[]): string {
  const h = newHistogram();
  for (const p of parts) addEncoded(h, p);
  const out = encodeHistogram(h);
  h.destroy();
  return out;
}

export interface LatencySummary {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  p9999Ms: number;
  maxMs: number;
}

/** An empty histogram summarizes to zeros (never NaN: results must survive JSON). */
export const EMPTY_SUMMARY: LatencySummary = Object.freeze({
  count: 0, minMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, p9999Ms: 0, maxMs: 0,
});

export function percentileMs(h: Histogram, percentile: number): number {
  return h.totalCount === 0 ? NaN : h.getValueAtPercentile(percentile) / 1000;
}

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { ...EMPTY_SUMMARY };
  return {
    count: h.totalCount,
    minMs: h.getValueAtPercentile(0) / 1000,
    meanMs: h.mean / 1000,
    p50Ms: percentileMs(h, 50),
    p90Ms: percentileMs(h, 90),
    p95Ms: percentileMs(h, 95),
    p99Ms: percentileMs(h, 99),
    p999Ms: percentileMs(h, 99.9),
    p9999Ms: percentileMs(h, 99.99),
    // Bucket-level max (percentile 100), not the raw maxValue: a merged histogram only knows
    // buckets, so this keeps a merge of parts exactly equal to the whole.
    maxMs: h.getValueAtPercentile(100) / 1000,
  };
}

export function summarizeEncoded(b64: string): LatencySummary {
  const h = decodeHistogram(b64);
  const s = summarize(h);
  h.destroy();
  return s;
}
