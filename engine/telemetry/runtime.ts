// Per-thread runtime metrics into the thread's slab: event-loop delay (monitorEventLoopDelay,
// min/mean/p50/p99/max over the last interval), event-loop utilization
// (performance.eventLoopUtilization over the last interval), V8 heap, and GC pauses by kind
// (PerformanceObserver 'gc' entries into a histogram), and bytes allocated (V8 has no
// allocation counter: heap growth between samples + what each GC freed, from a v8.GCProfiler
// restarted at every sample). A timer samples every intervalMs (unref'd: it never keeps a
// thread alive); refresh() samples on demand (a scrape).
// Cost: one observer callback and one profiler record per GC, one sample per interval; nothing per request.

import { constants as perf, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import type { EventLoopUtilization, ELDHistogram } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { assert } from '../core/int.ts';
import { nowMs } from './clock.ts';
import {
  GC_BASE, GC_SIZE, observe, PAUSE_BOUNDS_S, RT_ARRAY_BUFFERS, RT_ELD_MAX, RT_ELD_MEAN, RT_ELD_MIN, RT_ELD_P50, RT_ELD_P99,
  RT_ALLOCATED_BYTES, RT_ELU, RT_EXTERNAL, RT_HEAP_LIMIT, RT_HEAP_TOTAL, RT_HEAP_USED, Slab,
} from './slab.ts';

export const RUNTIME_SAMPLE_MS_DEFAULT = 1_000;
/** monitorEventLoopDelay timer resolution (ms): the finest delay it can see. */
const ELD_RESOLUTION_MS = 10;

export interface RuntimeSampler {
  refresh(): void;
  stop(): void;
}

export const NOOP_RUNTIME_SAMPLER: RuntimeSampler = Object.freeze({ refresh() {}, stop() {} });

function delayS(intervalNs: number): number {
  const d = intervalNs / 1e9 - ELD_RESOLUTION_MS / 1000;
  return d > 0 ? d : 0;
}

function gcKindIndex(kind: number | undefined): number {
  if (kind === perf.NODE_PERFORMANCE_GC_MINOR) return 0;
  if (kind === perf.NODE_PERFORMANCE_GC_MAJOR) return 1;
  if (kind === perf.NODE_PERFORMANCE_GC_INCREMENTAL) return 2;
  return 3; // weak callbacks
}

class Sampler implements RuntimeSampler {
  private readonly a: Float64Array;
  private readonly slab: Slab;
  private readonly eld: ELDHistogram;
  private elu: EventLoopUtilization;
  private readonly gc: PerformanceObserver;
  private readonly timer: NodeJS.Timeout;
  private gcProfiler: GCProfiler | null = null;
  private usedHeapLast = 0;

  constructor(slab: Slab, intervalMs: number) {
    assert(Number.isFinite(intervalMs) && intervalMs >= 10, 'runtime sample interval ≥ 10 ms');
    this.slab = slab;
    this.a = slab.a;
    this.eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
    this.eld.enable();
    this.elu = performance.eventLoopUtilization();
    const a = this.a;
    this.gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as { detail?: { kind?: number } }).detail?.kind;
        observe(a, GC_BASE + gcKindIndex(kind) * GC_SIZE, PAUSE_BOUNDS_S, e.duration / 1000);
      }
    });
    this.gc.observe({ entryTypes: ['gc'] });
    this.sampleHeap();
    this.usedHeapLast = a[RT_HEAP_USED]!;
    this.gcProfiler = new GCProfiler();
    this.gcProfiler.start();
    this.timer = setInterval(() => this.sample(true), intervalMs);
    this.timer.unref();
  }

  refresh(): void {
    this.sample(false);
  }

  stop(): void {
    clearInterval(this.timer);
    this.eld.disable();
    this.gc.disconnect();
    this.gcProfiler?.stop();
    this.gcProfiler = null;
  }

  /** The timer's sample closes the interval (resets the delay histogram); a refresh does not. */
  private sample(closeInterval: boolean): void {
    const a = this.a;
    const h = this.eld;
    if (h.count > 0) {
      // The monitor records the interval between its timer's runs (an idle loop reads ≈ the
      // resolution, a 50 ms block ≈ 58 ms at 10 ms): delay = interval − resolution, in s.
      a[RT_ELD_MIN] = delayS(h.min);
      a[RT_ELD_MEAN] = delayS(h.mean);
      a[RT_ELD_P50] = delayS(h.percentile(50));
      a[RT_ELD_P99] = delayS(h.percentile(99));
      a[RT_ELD_MAX] = delayS(h.max);
    }
    const now = performance.eventLoopUtilization();
    a[RT_ELU] = performance.eventLoopUtilization(now, this.elu).utilization;
    if (closeInterval) {
      h.reset();
      this.elu = now;
    }
    this.sampleHeap();
    this.countAllocated();
    this.slab.markSampled(nowMs());
  }

  /** allocated since the last sample = heap growth + bytes freed by the GCs in between. */
  private countAllocated(): void {
    const p = this.gcProfiler;
    if (p === null) return;
    const stats = p.stop()?.statistics ?? [];
    p.start();
    let freed = 0;
    for (const g of stats) {
      const d = g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
      if (d > 0) freed += d;
    }
    const used = this.a[RT_HEAP_USED]!;
    const allocated = used - this.usedHeapLast + freed;
    this.usedHeapLast = used;
    if (allocated > 0) this.a[RT_ALLOCATED_BYTES] += allocated;
  }

  private sampleHeap(): void {
    const a = this.a;
    const s = getHeapStatistics();
    a[RT_HEAP_USED] = s.used_heap_size;
    a[RT_HEAP_TOTAL] = s.total_heap_size;
    a[RT_HEAP_LIMIT] = s.heap_size_limit;
    a[RT_EXTERNAL] = s.external_memory;
    const m = process.memoryUsage;
    a[RT_ARRAY_BUFFERS] = typeof m === 'function' ? m().arrayBuffers : 0;
  }
}

/** Start sampling this thread's runtime into `slab` (the thread must own the slab). */
export function startRuntimeSampler(slab: Slab, intervalMs = RUNTIME_SAMPLE_MS_DEFAULT): RuntimeSampler {
  return new Sampler(slab, intervalMs);
}
