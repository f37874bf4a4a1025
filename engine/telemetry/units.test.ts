// The pieces under the gateway hooks, each against an independent statement of what it must
// do: histogram buckets follow OpenTelemetry's (lo, hi] rule; the HTTP series table is bounded
// and overflows into one labelled slot; traceparent parsing accepts exactly the W3C shape;
// the trace-id ratio rule agrees with the SDK's own TraceIdRatioBasedSampler on random ids;
// root sampling hits its ratio; option > env > default for the sampler; the event-loop
// delay gauge sees a blocked loop.

import { ROOT_CONTEXT } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../journal/random.ts';
import { startRuntimeSampler } from './runtime.ts';
import { parseTraceparent, resolveSampling, samplingDecision, traceIdRatioSampled } from './sampling.ts';
import { createSlabHandle, HTTP_SERIES_MAX, observe, observeHttp, readHistogram, readHttpSeries, ROUTE_OVERFLOW, RT_ELD_MAX, Slab } from './slab.ts';
import { ROOT_TRACE } from './stamps.ts';

describe('slab histograms', () => {
  it('put v into the first bucket whose bound is ≥ v, above the last into +Inf, and sum', () => {
    const bounds = [1, 2, 5];
    const a = new Float64Array(bounds.length + 2);
    for (const v of [0, 1, 1.0001, 2, 4.9, 5, 5.0001, 1e9]) observe(a, 0, bounds, v);
    const h = readHistogram(a, 0, bounds, null);
    expect(h.counts).toEqual([2, 2, 2, 2]);
    expect(h.count).toBe(8);
    expect(h.sum).toBeCloseTo(0 + 1 + 1.0001 + 2 + 4.9 + 5 + 5.0001 + 1e9, 3);
  });

  it('bound the (route, status) series; later combinations share the overflow slot', () => {
    const slab = new Slab(createSlabHandle('t'));
    for (let i = 0; i < HTTP_SERIES_MAX + 20; i++) observeHttp(slab.a, slab.httpSlot(i, 200), 0.5);
    expect(slab.httpSlot(3, 200)).toBe(slab.httpSlot(3, 200));
    const series = readHttpSeries(slab.a);
    expect(series).toHaveLength(HTTP_SERIES_MAX);
    const overflow = series.filter((s) => s.routeId === ROUTE_OVERFLOW);
    expect(overflow).toHaveLength(1);
    expect(overflow[0]!.hist.count).toBe(21);
    expect(series.reduce((n, s) => n + s.hist.count, 0)).toBe(HTTP_SERIES_MAX + 20);
  });
});

describe('sampling', () => {
  it('parses exactly the W3C traceparent shape', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(parseTraceparent(`00-${id}-00f067aa0ba902b7-01`)).toEqual({ traceId: id, spanId: '00f067aa0ba902b7', sampled: true });
    expect(parseTraceparent(`00-${id}-00f067aa0ba902b7-02`)?.sampled).toBe(false);
    for (const bad of [undefined, '', `ff-${id}-00f067aa0ba902b7-01`, `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `00-${id}-${'0'.repeat(16)}-01`,
      `00-${id.slice(1)}-00f067aa0ba902b7-01`, `00-${id}-00f067aa0ba902b7-0g`, ['a', 'b']]) {
      expect(parseTraceparent(bad as string | undefined)).toBeNull();
    }
  });

  it('the trace-id ratio rule agrees with the SDK sampler on 2,000 random ids', () => {
    const rnd = seededRandom(42);
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
    for (const ratio of [0, 0.01, 0.3, 1]) {
      const sdk = new TraceIdRatioBasedSampler(ratio);
      for (let i = 0; i < 500; i++) {
        const traceId = hex(32);
        const want = sdk.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
        expect(traceIdRatioSampled(traceId, ratio)).toBe(want);
      }
    }
  });

  it('samples about `ratio` of new traces and follows a parent\'s flag when parent-based', () => {
    const decide = samplingDecision({ sampler: 'parentbased_traceidratio', ratio: 0.25 })!;
    let n = 0;
    for (let i = 0; i < 20_000; i++) if (decide({}) === ROOT_TRACE) n++;
    expect(n / 20_000).toBeGreaterThan(0.23);
    expect(n / 20_000).toBeLessThan(0.27);
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(decide({ traceparent: `00-${id}-00f067aa0ba902b7-01` })?.traceId).toBe(id);
    expect(decide({ traceparent: `00-${id}-00f067aa0ba902b7-00` })).toBeNull();
    expect(samplingDecision({ sampler: 'always_off', ratio: 1 })).toBeNull();
    expect(samplingDecision({ sampler: 'always_on', ratio: 0 })!({ traceparent: `00-${id}-00f067aa0ba902b7-00` })?.traceId).toBe(id);
  });

  it('option beats OTEL_TRACES_SAMPLER(_ARG), which beats the default; nonsense throws', () => {
    expect(resolveSampling({}, {})).toEqual({ sampler: 'parentbased_traceidratio', ratio: 0.01 });
    expect(resolveSampling({}, { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' })).toEqual({ sampler: 'traceidratio', ratio: 0.5 });
    expect(resolveSampling({ sampler: 'always_on', ratio: 0.2 }, { OTEL_TRACES_SAMPLER: 'always_off', OTEL_TRACES_SAMPLER_ARG: '0.5' })).toEqual({ sampler: 'always_on', ratio: 0.2 });
    expect(() => resolveSampling({}, { OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(() => resolveSampling({}, { OTEL_TRACES_SAMPLER_ARG: '1.5' })).toThrow(/ratio/);
  });
});

describe('runtime sampler', () => {
  it('sees a 40 ms block of the event loop as ≥ 20 ms of delay', async () => {
    const slab = new Slab(createSlabHandle('t'));
    const rt = startRuntimeSampler(slab, 60_000);
    try {
      await new Promise((r) => setTimeout(r, 30));
      const t = Date.now();
      while (Date.now() - t < 40) { /* block */ }
      await new Promise((r) => setTimeout(r, 30));
      rt.refresh();
      expect(slab.a[RT_ELD_MAX]).toBeGreaterThan(0.02);
    } finally {
      rt.stop();
    }
  });
});
