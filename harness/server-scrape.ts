// Scrape the server's Prometheus /metrics once a second during a run and turn cumulative
// counters into per-second series for the report: per-stage latency p50/p99 (from the
// stage histogram's bucket deltas), event-loop delay p99 and utilization per thread, GC
// time per second per thread, heap per thread.

import type { ServerSeries, TimeSeries } from './result.ts';

interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parse Prometheus text exposition (the subset perpx emits). */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    if (m[2] !== undefined) for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    if (!Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Quantile from cumulative bucket counts [(le, count)], linear inside the bucket; ms. */
export function quantileFromBuckets(buckets: [number, number][], q: number): number | null {
  const total = buckets.length === 0 ? 0 : buckets[buckets.length - 1]![1];
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      const upper = Number.isFinite(le) ? le : prevLe;
      const span = count - prevCount;
      const frac = span <= 0 ? 1 : (rank - prevCount) / span;
      return (prevLe + (upper - prevLe) * frac) * 1000;
    }
    prevLe = Number.isFinite(le) ? le : prevLe;
    prevCount = count;
  }
  return prevLe * 1000;
}

function push(map: Record<string, TimeSeries>, key: string, tS: number, v: number): void {
  const s = (map[key] ??= { tS: [], values: [] });
  s.tS.push(tS);
  s.values.push(v);
}

export interface Scraper {
  stop(): ServerSeries;
}

/**
 * Start scraping url/metrics every second; times are relative to startMsRef.v once it is set.
 * `onScrape` sees the growing series after each successful scrape (the live run page reads the points at `tS`).
 */
export function startMetricsScraper(url: string, startMsRef: { v: number }, onScrape?: (series: Readonly<ServerSeries>, tS: number) => void): Scraper {
  let prevStage = new Map<string, Map<number, number>>(); // stage → le → cumulative count
  let prevGc = new Map<string, number>(); // thread → cumulative GC seconds
  const series: ServerSeries = { stages: {}, eventLoopDelayMs: {}, elu: {}, gcPauseMs: {}, heapMb: {} };
  // Whole-run usage for `perpx compare` (CPU and allocation per request): first and last scrape.
  let usageFirst: { tS: number; cpuS: number; allocB: number; requests: number } | null = null;
  let usageLast: { tS: number; cpuS: number; allocB: number; requests: number } | null = null;
  let busy = false;
  const scrape = async () => {
    if (busy || startMsRef.v === 0) return;
    busy = true;
    try {
      const res = await fetch(`${url}/metrics`);
      if (!res.ok) return;
      const samples = parsePrometheus(await res.text());
      const tS = (Date.now() - startMsRef.v) / 1000;
      const stage = new Map<string, Map<number, number>>();
      const gc = new Map<string, number>();
      let cpuS = -1;
      let allocB = 0;
      let requests = 0;
      for (const s of samples) {
        if (s.name === 'perpx_stage_duration_seconds_bucket') {
          const m = stage.get(s.labels.stage!) ?? new Map<number, number>();
          m.set(s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value);
          stage.set(s.labels.stage!, m);
        } else if (s.name === 'perpx_eventloop_delay_seconds' && s.labels.stat === 'p99') {
          push(series.eventLoopDelayMs!, s.labels.thread!, tS, s.value * 1000);
        } else if (s.name === 'perpx_eventloop_utilization') {
          push(series.elu!, s.labels.thread!, tS, s.value);
        } else if (s.name === 'perpx_heap_used_bytes') {
          push(series.heapMb!, s.labels.thread!, tS, s.value / 1e6);
        } else if (s.name === 'perpx_process_cpu_seconds_total') {
          cpuS = Math.max(0, cpuS) + s.value;
        } else if (s.name === 'perpx_heap_allocated_bytes_total') {
          allocB += s.value;
        } else if (s.name === 'perpx_http_requests_total') {
          requests += s.value;
        } else if (s.name === 'perpx_gc_duration_seconds_sum') {
          gc.set(s.labels.thread!, (gc.get(s.labels.thread!) ?? 0) + s.value);
        }
      }
      for (const [name, m] of stage) {
        const prev = prevStage.get(name);
        const buckets: [number, number][] = [...m.entries()].sort((a, b) => a[0] - b[0]).map(([le, c]) => [le, c - (prev?.get(le) ?? 0)]);
        const p50 = quantileFromBuckets(buckets, 0.5);
        const p99 = quantileFromBuckets(buckets, 0.99);
        if (p50 === null || p99 === null) continue;
        const st = (series.stages![name] ??= { p50Ms: { tS: [], values: [] }, p99Ms: { tS: [], values: [] } });
        st.p50Ms!.tS.push(tS);
        st.p50Ms!.values.push(p50);
        st.p99Ms.tS.push(tS);
        st.p99Ms.values.push(p99);
      }
      for (const [thread, secs] of gc) {
        const prev = prevGc.get(thread);
        if (prev !== undefined) push(series.gcPauseMs!, thread, tS, Math.max(0, (secs - prev) * 1000));
      }
      prevStage = stage;
      prevGc = gc;
      if (cpuS >= 0) {
        const now = { tS, cpuS, allocB, requests };
        if (usageLast !== null && tS > usageLast.tS) push((series.cpuPct ??= {}), 'process', tS, ((cpuS - usageLast.cpuS) / (tS - usageLast.tS)) * 100);
        usageFirst ??= now;
        usageLast = now;
      }
      onScrape?.(series, tS);
    } catch {
      // A missed scrape is a gap in the series, not a failed run.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void scrape(), 1000);
  return {
    stop() {
      clearInterval(timer);
      // host_round_trip (submit → reply) contains queue wait, engine apply and journal wait:
      // keep it out of the stage breakdown when those are present, or it is counted twice.
      if (series.stages!.journal_wait !== undefined || series.stages!.engine_apply !== undefined) delete series.stages!.host_round_trip;
      if (usageFirst !== null && usageLast !== null && usageLast.tS > usageFirst.tS) {
        series.usage = {
          fromS: usageFirst.tS, toS: usageLast.tS, cpuSeconds: usageLast.cpuS - usageFirst.cpuS,
          allocatedBytes: usageLast.allocB - usageFirst.allocB, requests: usageLast.requests - usageFirst.requests,
        };
      }
      return series;
    },
  };
}
