// OpenTelemetry SDK setup for one gateway thread: a MeterProvider whose readers (the
// Prometheus exporter, served by the gateway at /metrics on its own port, and an OTLP push
// reader when OTEL_EXPORTER_OTLP_* is set) collect the slabs through SlabProducer, and a
// TracerProvider (AlwaysOn: sampling is decided per request before the tracer is touched)
// with a batch span processor to OTLP, the console, or an exporter given in code.
//
// Nothing is registered globally: several gateways (tests, one per thread) each own theirs.

import type { Tracer } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { IMetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { AlwaysOnSampler, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { resolveExportConfig } from './otlp-config.ts';
import type { ExportConfig, OtlpTarget } from './otlp-config.ts';
import { OTHER_ROUTE, SlabProducer } from './producer.ts';
import type { GatewaySources, RouteLabel } from './producer.ts';
import { engineRecorder } from './recorder.ts';
import type { EngineRecorder } from './recorder.ts';
import { NOOP_RUNTIME_SAMPLER, RUNTIME_SAMPLE_MS_DEFAULT, startRuntimeSampler } from './runtime.ts';
import type { RuntimeSampler } from './runtime.ts';
import { resolveSampling, samplingDecision } from './sampling.ts';
import type { SampleDecision, SamplerName, SamplingConfig } from './sampling.ts';
import { createSlabHandle, Slab } from './slab.ts';
import type { SlabHandle } from './slab.ts';

/** Longest a shutdown waits for the last exports. */
export const SHUTDOWN_TIMEOUT_MS = 2_000;

export interface TelemetryOptions {
  /** false: no metrics, no traces, no /metrics; every gateway hook is a no-op. Default true. */
  enabled?: boolean;
  /** Request/stage/runtime metrics and /metrics. Default true. */
  metrics?: boolean;
  /** Where the gateway serves Prometheus text; null = not served. Default '/metrics'. */
  metricsPath?: string | null;
  /** Overrides OTEL_TRACES_SAMPLER (default parentbased_traceidratio). */
  sampler?: SamplerName;
  /** Overrides OTEL_TRACES_SAMPLER_ARG (default 0.01). */
  sampleRatio?: number;
  /** Spans go here instead of where OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_* say. */
  spanExporter?: SpanExporter;
  /** 'batch' (default) or 'simple' (export each span at once: tests). */
  spanProcessor?: 'batch' | 'simple';
  /** Metrics are pushed here instead of OTLP from the env (tests, custom backends). */
  metricExporter?: PushMetricExporter;
  /**
   * Push metrics when a push exporter is configured (default true). With several gateway
   * threads reading the same slabs, let exactly one push, or every series is sent N times.
   */
  pushMetrics?: boolean;
  /** This thread's slab (default: a new one labelled `thread`). */
  slab?: SlabHandle;
  /** Other threads' slabs (engine thread, other gateway threads), reported by this one too. */
  peerSlabs?: readonly SlabHandle[];
  /** Label of a slab made here. Default 'gateway-0'. */
  thread?: string;
  runtimeSampleMs?: number;
  /** Default process.env. */
  env?: Record<string, string | undefined>;
}

export interface TelemetryParts {
  cfg: ExportConfig;
  resource: Resource;
  spanExporter: SpanExporter | null;
  metricExporter: PushMetricExporter | null;
}

export class Telemetry {
  readonly exportConfig: ExportConfig;
  readonly sampling: SamplingConfig;
  /** Per-request sampling; null when no trace is ever taken (no trace exporter, or always_off). */
  readonly decide: SampleDecision | null;
  readonly tracer: Tracer | null;
  readonly metricsEnabled: boolean;
  /** Where the gateway serves Prometheus text (null: not served). */
  readonly metricsPath: string | null;
  /** This thread's slab: the gateway records requests here. */
  readonly slab: Slab;
  readonly slabs: readonly Slab[];
  /** For an engine/journal running on this thread (the in-process host). */
  readonly recorder: EngineRecorder;
  readonly spanExporter: SpanExporter | null;
  readonly metricExporter: PushMetricExporter | null;
  /** OTLP destinations resolved from the env (null: not configured). */
  readonly otlp: { traces: OtlpTarget | null; metrics: OtlpTarget | null };
  private readonly meterProvider: MeterProvider | null;
  private readonly prometheus: PrometheusExporter | null;
  private readonly serializer = new PrometheusSerializer('', false, undefined, true, true);
  private readonly tracerProvider: TracerProvider | null;
  private readonly runtime: RuntimeSampler;
  private routes: RouteLabel[] = [];
  private gatewaySources: GatewaySources | null = null;

  /** Use createTelemetry (OTLP exporter modules are loaded on demand). */
  constructor(opts: TelemetryOptions, parts: TelemetryParts) {
    const { cfg, resource, spanExporter, metricExporter } = parts;
    this.exportConfig = cfg;
    this.sampling = resolveSampling({ sampler: opts.sampler, ratio: opts.sampleRatio }, opts.env ?? process.env);
    this.metricsEnabled = opts.metrics ?? true;
    this.metricsPath = this.metricsEnabled && cfg.metrics.prometheus ? (opts.metricsPath === undefined ? '/metrics' : opts.metricsPath) : null;
    this.slab = new Slab(opts.slab ?? createSlabHandle(opts.thread ?? 'gateway-0'));
    this.slabs = [this.slab, ...(opts.peerSlabs ?? []).map((h) => new Slab(h))];
    this.recorder = engineRecorder(this.slab);
    this.otlp = { traces: cfg.traces.otlp, metrics: cfg.metrics.otlp };
    this.spanExporter = spanExporter;
    this.metricExporter = metricExporter;
    this.runtime = NOOP_RUNTIME_SAMPLER;
    this.meterProvider = null;
    this.prometheus = null;
    if (this.metricsEnabled) {
      this.runtime = startRuntimeSampler(this.slab, opts.runtimeSampleMs ?? RUNTIME_SAMPLE_MS_DEFAULT);
      const metricProducers = [new SlabProducer(this.slabs, (id) => this.routes[id] ?? OTHER_ROUTE, () => this.runtime.refresh(), () => this.gatewaySources)];
      const readers: IMetricReader[] = [];
      if (this.metricsPath !== null) {
        this.prometheus = new PrometheusExporter({ preventServerStart: true, metricProducers });
        readers.push(this.prometheus);
      }
      if (metricExporter !== null) {
        readers.push(new PeriodicExportingMetricReader({
          exporter: metricExporter, exportIntervalMillis: cfg.metrics.intervalMs, exportTimeoutMillis: Math.min(cfg.metrics.timeoutMs, cfg.metrics.intervalMs), metricProducers,
        }));
      }
      this.meterProvider = new MeterProvider({ resource, readers });
    }
    this.tracerProvider = null;
    this.tracer = null;
    this.decide = null;
    if (spanExporter !== null) {
      const b = cfg.traces.batch;
      const processor: SpanProcessor = opts.spanProcessor === 'simple'
        ? new SimpleSpanProcessor({ exporter: spanExporter })
        : new BatchSpanProcessor({ exporter: spanExporter, ...b, maxExportBatchSize: Math.min(b.maxExportBatchSize, b.maxQueueSize) });
      this.tracerProvider = new TracerProvider({ resource, sampler: new AlwaysOnSampler(), spanProcessors: [processor] });
      this.tracer = this.tracerProvider.getTracer('perpx-gateway');
      this.decide = samplingDecision(this.sampling);
    }
  }

  /**
   * Fix the routeId → labels table (every gateway thread registers the same list, in the
   * same order, so ids agree across slabs). Returns the id of each label, in order.
   */
  registerRoutes(labels: readonly RouteLabel[]): void {
    this.routes = labels.map((l) => ({ method: l.method, route: l.route }));
  }

  /** Report these gateway counters (error codes, WebSocket connections and drops) too. */
  observeGateway(sources: GatewaySources): void {
    this.gatewaySources = sources;
  }

  /** Prometheus text exposition of every slab (and any SDK instruments). */
  async metricsText(): Promise<string> {
    if (this.prometheus === null) return '';
    const { resourceMetrics, errors } = await this.prometheus.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metrics collection failed');
    return this.serializer.serialize(resourceMetrics);
  }

  /** One line for a startup banner: where metrics and traces go. */
  describe(): string {
    const m = this.metricsPath === null ? 'metrics: not served' : `metrics: GET ${this.metricsPath} (Prometheus)`;
    const push = this.metricExporter === null ? '' : this.otlp.metrics !== null ? `, OTLP ${this.otlp.metrics.protocol} → ${this.otlp.metrics.url}` : ', pushed to a custom exporter';
    const t = this.decide === null ? 'traces: off (no OTEL_EXPORTER_OTLP_*ENDPOINT)'
      : `traces: ${this.sampling.sampler}${this.sampling.sampler.endsWith('ratio') ? ` ${this.sampling.ratio}` : ''} → ${this.otlp.traces !== null ? `OTLP ${this.otlp.traces.protocol} ${this.otlp.traces.url}` : this.exportConfig.traces.exporter === 'console' ? 'console' : 'custom exporter'}`;
    return `telemetry: ${m}${push}; ${t}`;
  }

  /** Export what is buffered (spans, a final metrics push). */
  async flush(): Promise<void> {
    await Promise.all([this.tracerProvider?.forceFlush(), this.meterProvider?.forceFlush()]);
  }

  /**
   * Stop sampling, export what is buffered, close exporters. Bounded by `timeoutMs` so an
   * unreachable collector cannot hold up a shutdown (the OTLP exporters retry for 10 s+).
   */
  async shutdown(timeoutMs = SHUTDOWN_TIMEOUT_MS): Promise<void> {
    this.runtime.stop();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    await Promise.race([Promise.all([this.tracerProvider?.shutdown(), this.meterProvider?.shutdown()]).then(() => undefined, () => undefined), late]);
    clearTimeout(timer);
  }
}

async function otlpSpanExporter(t: OtlpTarget): Promise<SpanExporter> {
  switch (t.protocol) {
    case 'http/json': return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ url: t.url });
    case 'http/protobuf': return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter({ url: t.url });
    case 'grpc': return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter({ url: t.url });
  }
}

async function otlpMetricExporter(t: OtlpTarget): Promise<PushMetricExporter> {
  switch (t.protocol) {
    case 'http/json': return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter({ url: t.url });
    case 'http/protobuf': return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter({ url: t.url });
    case 'grpc': return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter({ url: t.url });
  }
}

function buildResource(env: Record<string, string | undefined>): Resource {
  const name = env.OTEL_SERVICE_NAME?.trim();
  return defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'perpx' }))
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(name === undefined || name === '' ? null : resourceFromAttributes({ 'service.name': name }));
}

/** Telemetry for one gateway thread, or null when it is off (opts.enabled false, OTEL_SDK_DISABLED). */
export async function createTelemetry(opts: TelemetryOptions = {}): Promise<Telemetry | null> {
  const env = opts.env ?? process.env;
  const cfg = resolveExportConfig(env);
  if (opts.enabled === false || cfg.disabled) return null;
  let spanExporter: SpanExporter | null = opts.spanExporter ?? null;
  if (spanExporter === null && cfg.traces.exporter === 'console') spanExporter = new ConsoleSpanExporter();
  if (spanExporter === null && cfg.traces.otlp !== null) spanExporter = await otlpSpanExporter(cfg.traces.otlp);
  let metricExporter: PushMetricExporter | null = null;
  if ((opts.metrics ?? true) && (opts.pushMetrics ?? true)) {
    metricExporter = opts.metricExporter ?? (cfg.metrics.otlp !== null ? await otlpMetricExporter(cfg.metrics.otlp) : null);
  }
  return new Telemetry(opts, { cfg, resource: buildResource(env), spanExporter, metricExporter });
}
