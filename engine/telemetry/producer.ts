// An OpenTelemetry MetricProducer over the slabs: at each collection (a Prometheus scrape or
// an OTLP push) it reads every thread's slab and hands the SDK explicit-bucket histograms,
// sums and gauges (cumulative temporality). Nothing here runs per request.
//
// Request and stage series are summed over the gateway threads; runtime series carry a
// `thread` label; engine/journal series are summed over every slab (only the engine thread
// writes them).

import { ValueType } from '@opentelemetry/api';
import type { Attributes, HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { CollectionResult, DataPoint, Histogram, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import { nowMs } from './clock.ts';
import {
  COUNT_BOUNDS, ENGINE_BATCH_BASE, GC_BASE, GC_KINDS, GC_SIZE, HTTP_BOUNDS_S, JOURNAL_BATCH_BASE, JOURNAL_BYTES, JOURNAL_FSYNC_BASE,
  ENGINE_LIQUIDATIONS, HOST_INFLIGHT, PAUSE_BOUNDS_S, readHistogram, readHttpSeries, ROUTE_OVERFLOW, RT_ALLOCATED_BYTES, RT_ARRAY_BUFFERS, RT_ELD_MAX, RT_ELD_MEAN, RT_ELD_MIN, RT_ELD_P50,
  RT_ELD_P99, RT_ELU, RT_EXTERNAL, RT_HEAP_LIMIT, RT_HEAP_TOTAL, RT_HEAP_USED, STAGE_BOUNDS_S, stageBase, STAGES,
} from './slab.ts';
import type { HistogramRead, Slab } from './slab.ts';

/**
 * Counters the gateway keeps in plain objects on its own thread (engine/gateway GatewayStats
 * and the WebSocket gateway's WsStats), read at collection time. Only the thread that owns
 * them reports them (one gateway thread today).
 */
export interface GatewaySources {
  errorsByCode?: ReadonlyMap<number, number>;
  ws?: {
    readonly connections: number;
    readonly stats: { connectionsOpened: number; connectionsRejected: number; slowConsumers: number; pingTimeouts: number; messagesIn: number; messagesOut: number };
  };
}

/** routeId → labels; the same list (same order) on every thread. */
export interface RouteLabel {
  method: string;
  route: string;
}

export const SCOPE = { name: 'perpx' };
export const OTHER_ROUTE: RouteLabel = Object.freeze({ method: 'other', route: 'other' });

const ELD_STATS: [string, number][] = [['min', RT_ELD_MIN], ['mean', RT_ELD_MEAN], ['p50', RT_ELD_P50], ['p99', RT_ELD_P99], ['max', RT_ELD_MAX]];
const HEAP: [string, string, number][] = [
  ['perpx_heap_used_bytes', 'V8 heap in use', RT_HEAP_USED],
  ['perpx_heap_total_bytes', 'V8 heap reserved', RT_HEAP_TOTAL],
  ['perpx_heap_limit_bytes', 'V8 heap size limit', RT_HEAP_LIMIT],
  ['perpx_external_memory_bytes', 'memory held outside the V8 heap (buffers …)', RT_EXTERNAL],
  ['perpx_array_buffers_bytes', 'ArrayBuffer and SharedArrayBuffer memory', RT_ARRAY_BUFFERS],
];

function histPoint(h: HistogramRead, bounds: readonly number[], attributes: Attributes, start: HrTime, end: HrTime): DataPoint<Histogram> {
  return { startTime: start, endTime: end, attributes, value: { buckets: { boundaries: bounds as number[], counts: h.counts }, count: h.count, sum: h.sum } };
}

function histogram(name: string, description: string, unit: string, points: DataPoint<Histogram>[]): MetricData {
  return {
    descriptor: { name, description, unit, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: points,
  };
}

function sum(name: string, description: string, unit: string, points: DataPoint<number>[]): MetricData {
  return {
    descriptor: { name, description, unit, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: points,
  };
}

function gauge(name: string, description: string, unit: string, points: DataPoint<number>[]): MetricData {
  return {
    descriptor: { name, description, unit, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points,
  };
}

export class SlabProducer implements MetricProducer {
  private readonly slabs: readonly Slab[];
  /** routeId → labels, looked up at collection (routes are registered after start). */
  private readonly routeLabel: (routeId: number) => RouteLabel;
  private readonly start: HrTime;
  /** Called before reading (the scraping thread refreshes its own runtime gauges). */
  private readonly beforeCollect: () => void;
  private readonly gatewaySources: () => GatewaySources | null;

  constructor(slabs: readonly Slab[], routeLabel: (routeId: number) => RouteLabel, beforeCollect: () => void, gatewaySources: () => GatewaySources | null = () => null) {
    this.slabs = slabs;
    this.routeLabel = routeLabel;
    this.beforeCollect = beforeCollect;
    this.gatewaySources = gatewaySources;
    this.start = millisToHrTime(Math.min(...slabs.map((s) => s.createdMs)));
  }

  collect(): Promise<CollectionResult> {
    this.beforeCollect();
    const end = millisToHrTime(nowMs());
    const metrics = [...this.requests(end), ...this.stages(end), ...this.engine(end), ...this.runtime(end), ...this.process(end), ...this.gateway(end)];
    return Promise.resolve({ resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: SCOPE, metrics }] }, errors: [] });
  }

  private requests(end: HrTime): MetricData[] {
    const merged = new Map<number, { routeId: number; status: number; hist: HistogramRead }>();
    for (const slab of this.slabs) {
      for (const s of readHttpSeries(slab.a)) {
        const key = s.routeId * 1000 + s.status;
        const m = merged.get(key);
        if (m === undefined) merged.set(key, s);
        else {
          for (let i = 0; i < s.hist.counts.length; i++) m.hist.counts[i] += s.hist.counts[i]!;
          m.hist.count += s.hist.count;
          m.hist.sum += s.hist.sum;
        }
      }
    }
    const hist: DataPoint<Histogram>[] = [];
    const count: DataPoint<number>[] = [];
    for (const s of merged.values()) {
      if (s.hist.count === 0) continue;
      const label = s.routeId === ROUTE_OVERFLOW ? OTHER_ROUTE : this.routeLabel(s.routeId);
      const attributes = { method: label.method, route: label.route, status: s.status === 0 ? 'other' : String(s.status) };
      hist.push(histPoint(s.hist, HTTP_BOUNDS_S, attributes, this.start, end));
      count.push({ startTime: this.start, endTime: end, attributes, value: s.hist.count });
    }
    return [
      sum('perpx_http_requests', 'Requests answered, by route and status (REST and WebSocket API)', '{request}', count),
      histogram('perpx_http_request_duration_seconds', 'Request start (head parsed) to response written, by route and status', 's', hist),
    ];
  }

  private stages(end: HrTime): MetricData[] {
    const points: DataPoint<Histogram>[] = [];
    for (let st = 0; st < STAGES.length; st++) {
      let h: HistogramRead | null = null;
      for (const slab of this.slabs) h = readHistogram(slab.a, stageBase(st), STAGE_BOUNDS_S, h);
      points.push(histPoint(h!, STAGE_BOUNDS_S, { stage: STAGES[st]! }, this.start, end));
    }
    return [histogram('perpx_stage_duration_seconds', 'Order pipeline stages: decode_auth, queue_wait, engine_apply, journal_wait, encode_write; host_round_trip = submit to reply', 's', points)];
  }

  private engine(end: HrTime): MetricData[] {
    let batch: HistogramRead | null = null;
    let jbatch: HistogramRead | null = null;
    let fsync: HistogramRead | null = null;
    let bytes = 0;
    let inflight = 0;
    let liquidations = 0;
    for (const slab of this.slabs) {
      batch = readHistogram(slab.a, ENGINE_BATCH_BASE, COUNT_BOUNDS, batch);
      jbatch = readHistogram(slab.a, JOURNAL_BATCH_BASE, COUNT_BOUNDS, jbatch);
      fsync = readHistogram(slab.a, JOURNAL_FSYNC_BASE, PAUSE_BOUNDS_S, fsync);
      bytes += slab.a[JOURNAL_BYTES]!;
      inflight += slab.a[HOST_INFLIGHT]!;
      liquidations += slab.a[ENGINE_LIQUIDATIONS]!;
    }
    const one = (value: number): DataPoint<number>[] => [{ startTime: this.start, endTime: end, attributes: {}, value }];
    const p = (h: HistogramRead, b: readonly number[]) => [histPoint(h, b, {}, this.start, end)];
    return [
      histogram('perpx_engine_batch_size', 'Commands applied per engine batch', '{command}', p(batch!, COUNT_BOUNDS)),
      histogram('perpx_journal_batch_size', 'Commands per journal group commit', '{command}', p(jbatch!, COUNT_BOUNDS)),
      histogram('perpx_journal_fsync_duration_seconds', 'Journal fsync latency', 's', p(fsync!, PAUSE_BOUNDS_S)),
      sum('perpx_journal_written_bytes', 'Bytes appended to the journal', 'By', one(bytes)),
      gauge('perpx_host_inflight_commands', 'Commands submitted to the engine and not yet answered (ring + apply + journal wait): the queue depth', '{command}', one(inflight)),
      sum('perpx_liquidations', 'Liquidation events applied (one per liquidated position)', '{position}', one(liquidations)),
    ];
  }

  private runtime(end: HrTime): MetricData[] {
    const eld: DataPoint<number>[] = [];
    const elu: DataPoint<number>[] = [];
    const heap: DataPoint<number>[][] = HEAP.map(() => []);
    const gc: DataPoint<Histogram>[] = [];
    const allocated: DataPoint<number>[] = [];
    const point = (attributes: Attributes, value: number): DataPoint<number> => ({ startTime: this.start, endTime: end, attributes, value });
    for (const slab of this.slabs) {
      const a = slab.a;
      const thread = slab.thread;
      for (const [stat, at] of ELD_STATS) eld.push(point({ thread, stat }, a[at]!));
      elu.push(point({ thread }, a[RT_ELU]!));
      allocated.push(point({ thread }, a[RT_ALLOCATED_BYTES]!));
      HEAP.forEach(([, , at], i) => heap[i]!.push(point({ thread }, a[at]!)));
      GC_KINDS.forEach((kind, i) => gc.push(histPoint(readHistogram(a, GC_BASE + i * GC_SIZE, PAUSE_BOUNDS_S, null), PAUSE_BOUNDS_S, { thread, kind }, this.start, end)));
    }
    return [
      gauge('perpx_eventloop_delay_seconds', 'Event-loop delay over the last sample interval (monitorEventLoopDelay, 10 ms resolution)', 's', eld),
      gauge('perpx_eventloop_utilization', 'Event-loop utilization over the last sample interval (0..1)', '1', elu),
      ...HEAP.map(([name, help], i) => gauge(name, help, 'By', heap[i]!)),
      histogram('perpx_gc_duration_seconds', 'GC pauses by kind (PerformanceObserver)', 's', gc),
      sum('perpx_heap_allocated_bytes', 'Bytes allocated on the V8 heap (heap growth + bytes freed by GC, sampled each second)', 'By', allocated),
    ];
  }

  /** Whole process: CPU time of every thread, resident memory. */
  private process(end: HrTime): MetricData[] {
    const cpu = process.cpuUsage();
    const p = (attributes: Attributes, value: number): DataPoint<number> => ({ startTime: this.start, endTime: end, attributes, value });
    return [
      sum('perpx_process_cpu_seconds', 'CPU time of the whole process (all threads), by mode', 's', [p({ mode: 'user' }, cpu.user / 1e6), p({ mode: 'system' }, cpu.system / 1e6)]),
      gauge('perpx_process_resident_memory_bytes', 'Resident set size of the process', 'By', [p({}, process.memoryUsage.rss())]),
    ];
  }

  private gateway(end: HrTime): MetricData[] {
    const src = this.gatewaySources();
    if (src === null) return [];
    const p = (attributes: Attributes, value: number): DataPoint<number> => ({ startTime: this.start, endTime: end, attributes, value });
    const out: MetricData[] = [];
    if (src.errorsByCode !== undefined) {
      // Every code the gateway answered, plus -1008 (shed load) at 0 so its rate exists before the first shed.
      const codes = new Map(src.errorsByCode);
      if (!codes.has(-1008)) codes.set(-1008, 0);
      out.push(sum('perpx_gateway_errors', 'Error responses by Binance code (REST; -1008 = load shed)', '{response}', [...codes].map(([code, n]) => p({ code: String(code) }, n))));
    }
    const ws = src.ws;
    if (ws !== undefined) {
      const s = ws.stats;
      out.push(
        gauge('perpx_ws_connections', 'Open WebSocket connections', '{connection}', [p({}, ws.connections)]),
        sum('perpx_ws_connections_opened', 'WebSocket connections accepted', '{connection}', [p({}, s.connectionsOpened)]),
        sum('perpx_ws_connections_rejected', 'WebSocket upgrades refused (connection limit, bad stream, shutting down)', '{connection}', [p({}, s.connectionsRejected)]),
        sum('perpx_ws_dropped', 'WebSocket connections closed by the server, by reason', '{connection}', [p({ reason: 'slow_consumer' }, s.slowConsumers), p({ reason: 'ping_timeout' }, s.pingTimeouts)]),
        sum('perpx_ws_messages', 'WebSocket messages, by direction', '{message}', [p({ direction: 'in' }, s.messagesIn), p({ direction: 'out' }, s.messagesOut)]),
      );
    }
    return out;
  }
}
