// Measurement helpers shared by the benchmarks: forced GC, GC pause log from a
// PerformanceObserver, HDR histograms of nanoseconds summarised in microseconds, medians,
// the cost of the timer itself.

import { PerformanceObserver, performance, constants as perfConstants } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import hdr from 'hdr-histogram-js';

export interface GcSummary {
  count: number;
  totalMs: number;
  maxMs: number;
  minorCount: number;
  majorCount: number;
  incrementalCount: number;
}

export interface LatencyUs {
  samples: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}


let gcFn: (() => void) | null = null;

/** globalThis.gc with --expose-gc; otherwise enable it at runtime (works on Node 24). */
export function forceGc(): void {
  if (gcFn === null) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gcFn = g;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}

interface GcEntry {
  startMs: number;
  durationMs: number;
  kind: number;
}

export class GcLog {
  readonly entries: GcEntry[] = [];
  private readonly observer: PerformanceObserver;

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries() as PerformanceEntry[]) {
        const detail = (e as PerformanceEntry & { detail?: { kind?: number } }).detail;
        this.entries.push({ startMs: e.startTime, durationMs: e.duration, kind: detail?.kind ?? 0 });
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** GC entries are delivered from the event loop: let it turn, then sum a time window. */
  async summary(fromMs: number, toMs: number): Promise<GcSummary> {
    await settle();
    const s: GcSummary = { count: 0, totalMs: 0, maxMs: 0, minorCount: 0, majorCount: 0, incrementalCount: 0 };
    for (const e of this.entries) {
      if (e.startMs < fromMs || e.startMs > toMs) continue;
      s.count++;
      s.totalMs += e.durationMs;
      if (e.durationMs > s.maxMs) s.maxMs = e.durationMs;
      if (e.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) s.minorCount++;
      else if (e.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) s.majorCount++;
      else if (e.kind === perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL) s.incrementalCount++;
    }
    s.totalMs = round3(s.totalMs);
    s.maxMs = round3(s.maxMs);
    return s;
  }

  stop(): void {
    this.observer.disconnect();
  }
}

export function settle(): Promise<void> {
  return new Promise((r) => setTimeout(() => setTimeout(r, 10), 10));
}

export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 });
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function latencyOf(h: hdr.Histogram): LatencyUs {
  return {
    samples: h.totalCount,
    meanUs: round3(h.mean / 1000),
    p50Us: round3(h.getValueAtPercentile(50) / 1000),
    p99Us: round3(h.getValueAtPercentile(99) / 1000),
    p999Us: round3(h.getValueAtPercentile(99.9) / 1000),
    maxUs: round3(h.maxValue / 1000),
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >>> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function measureTimerOverhead(n: number): { p50: number; mean: number; p99: number } {
  const h = newHistogram();
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    const b = performance.now();
    h.recordValue(Math.round((b - a) * 1e6));
  }
  return { p50: h.getValueAtPercentile(50), mean: round3(h.mean), p99: h.getValueAtPercentile(99) };
}

export function heapAndBuffers(): { heapUsed: number; arrayBuffers: number } {
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
}
