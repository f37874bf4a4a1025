// Where telemetry goes, from the standard OpenTelemetry environment variables (pure: takes
// the env as a parameter, so tests need no network and no process.env edits).
//
//   OTEL_SDK_DISABLED=true                       everything off (no /metrics, no traces)
//   OTEL_EXPORTER_OTLP_ENDPOINT                  base URL; traces go to <base>/v1/traces,
//                                                metrics to <base>/v1/metrics (http/*)
//   OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT per-signal URL, used as is
//   OTEL_EXPORTER_OTLP[_{TRACES,METRICS}]_PROTOCOL http/protobuf (default) | http/json | grpc
//   OTEL_TRACES_EXPORTER  otlp (default) | console | none
//   OTEL_METRICS_EXPORTER otlp (default) | prometheus | none   (/metrics is served unless none)
//   OTEL_METRIC_EXPORT_INTERVAL / _TIMEOUT       push period / timeout, ms (60000 / 30000)
//   OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
//   OTEL_BSP_EXPORT_TIMEOUT                      batch span processor
//   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES  resource
// OTLP export happens only when an endpoint variable is set: perpx never sends telemetry to
// a default address nobody configured. Headers, certificates, compression and timeouts are
// read by the OTLP exporters themselves from the same variables.

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';
const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json', 'grpc'];

export interface OtlpTarget {
  protocol: OtlpProtocol;
  url: string;
}

export interface BatchSpanConfig {
  scheduledDelayMillis: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
  exportTimeoutMillis: number;
}

export interface ExportConfig {
  disabled: boolean;
  traces: { exporter: 'otlp' | 'console' | 'none'; otlp: OtlpTarget | null; batch: BatchSpanConfig };
  metrics: { prometheus: boolean; otlp: OtlpTarget | null; intervalMs: number; timeoutMs: number };
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function int(env: Env, name: string, dflt: number, min: number): number {
  const v = str(env, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}='${v}' must be an integer ≥ ${min}`);
  return n;
}

function protocol(env: Env, signal: 'TRACES' | 'METRICS'): OtlpProtocol {
  const p = (str(env, `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`) ?? str(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf').toLowerCase();
  if (!PROTOCOLS.includes(p)) throw new Error(`OTLP protocol '${p}' is not one of ${PROTOCOLS.join(', ')}`);
  return p as OtlpProtocol;
}

/** The signal's OTLP URL per the spec, or null when no endpoint variable is set. */
export function otlpTarget(env: Env, signal: 'TRACES' | 'METRICS'): OtlpTarget | null {
  const proto = protocol(env, signal);
  const specific = str(env, `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
  if (specific !== undefined) return { protocol: proto, url: specific };
  const base = str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base === undefined) return null;
  if (proto === 'grpc') return { protocol: proto, url: base };
  return { protocol: proto, url: `${base.replace(/\/+$/, '')}/v1/${signal.toLowerCase()}` };
}

export function resolveExportConfig(env: Env): ExportConfig {
  const disabled = str(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true';
  const tracesExporter = (str(env, 'OTEL_TRACES_EXPORTER') ?? 'otlp').toLowerCase().split(',')[0]!.trim();
  if (!['otlp', 'console', 'none'].includes(tracesExporter)) throw new Error(`OTEL_TRACES_EXPORTER '${tracesExporter}' is not one of otlp, console, none`);
  const metricsExporters = (str(env, 'OTEL_METRICS_EXPORTER') ?? 'otlp').toLowerCase().split(',').map((s) => s.trim());
  const metricsNone = metricsExporters.includes('none');
  const batch: BatchSpanConfig = {
    scheduledDelayMillis: int(env, 'OTEL_BSP_SCHEDULE_DELAY', 5_000, 0),
    maxQueueSize: int(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2_048, 1),
    maxExportBatchSize: int(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1),
    exportTimeoutMillis: int(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000, 0),
  };
  return {
    disabled,
    traces: {
      exporter: tracesExporter as 'otlp' | 'console' | 'none',
      otlp: tracesExporter === 'otlp' ? otlpTarget(env, 'TRACES') : null,
      batch,
    },
    metrics: {
      prometheus: !metricsNone,
      otlp: !metricsNone && metricsExporters.includes('otlp') ? otlpTarget(env, 'METRICS') : null,
      intervalMs: int(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000, 100),
      timeoutMs: int(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000, 0),
    },
  };
}
