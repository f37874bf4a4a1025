// Trace sampling, decided by the gateway when a request starts — before any tracer call,
// because the SDK generates trace and span ids before it samples (≈ 0.8 µs per span even at
// 1%, toolchain.md). An unsampled request costs one Math.random() (and, for parent-based
// samplers, one header lookup); it never reaches the tracer.
//
// Samplers are the OTEL_TRACES_SAMPLER names. For a root request the ratio decision is
// Math.random() < ratio; for a remote parent under `traceidratio` it is the SDK's
// TraceIdRatioBased rule on the parent's trace id, so every service keeps the same traces.

import type { IncomingHttpHeaders } from 'node:http';
import { ROOT_TRACE } from './stamps.ts';
import type { TraceParent } from './stamps.ts';

export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface SamplingConfig {
  sampler: SamplerName;
  /** 0..1, used by the *traceidratio samplers. */
  ratio: number;
}

/** perpx's default: parent-based, 1% of new traces. */
export const SAMPLING_DEFAULT: SamplingConfig = Object.freeze({ sampler: 'parentbased_traceidratio', ratio: 0.01 });

export function isSamplerName(s: string): s is SamplerName {
  return (SAMPLERS as readonly string[]).includes(s);
}

/**
 * Precedence: explicit option, then OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, then the
 * default. An unknown sampler name or a bad ratio throws (a misconfiguration should not
 * silently trace everything or nothing).
 */
export function resolveSampling(opt: Partial<SamplingConfig>, env: Record<string, string | undefined>): SamplingConfig {
  const envName = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  const sampler = opt.sampler ?? (envName === undefined || envName === '' ? SAMPLING_DEFAULT.sampler : envName);
  if (!isSamplerName(sampler)) throw new Error(`OTEL_TRACES_SAMPLER '${sampler}' is not one of ${SAMPLERS.join(', ')}`);
  const envArg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = opt.ratio ?? (envArg === undefined || envArg === '' ? SAMPLING_DEFAULT.ratio : Number(envArg));
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new Error(`trace sampling ratio must be within 0..1, got ${String(ratio)}`);
  return { sampler, ratio };
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

export interface ParsedTraceparent extends TraceParent {
  sampled: boolean;
}

/** W3C traceparent → ids and the sampled flag; null when absent or malformed. */
export function parseTraceparent(v: string | string[] | undefined): ParsedTraceparent | null {
  if (typeof v !== 'string' || v.length < 55 || v.length > 256) return null;
  const m = TRACEPARENT.exec(v.trim().toLowerCase().slice(0, 55));
  if (m === null || m[1] === 'ff' || m[2] === ZERO_TRACE || m[3] === ZERO_SPAN) return null;
  return { traceId: m[2]!, spanId: m[3]!, sampled: (parseInt(m[4]!, 16) & 1) === 1 };
}

/** The SDK's TraceIdRatioBasedSampler rule (consistent across services for one trace id). */
export function traceIdRatioSampled(traceId: string, ratio: number): boolean {
  let acc = 0;
  for (let i = 0; i < traceId.length / 8; i++) {
    const pos = i * 8;
    acc = (acc ^ parseInt(traceId.slice(pos, pos + 8), 16)) >>> 0;
  }
  return acc <= ratio * 0xffffffff;
}

/** Per-request decision: the request's trace parent when sampled, else null. */
export type SampleDecision = (headers: IncomingHttpHeaders) => TraceParent | null;

function never(): null {
  return null;
}

/** Build the decision function once; it is the only per-request sampling code. */
export function samplingDecision(cfg: SamplingConfig): SampleDecision | null {
  const { sampler, ratio } = cfg;
  const root = (): TraceParent | null => (Math.random() < ratio ? ROOT_TRACE : null);
  switch (sampler) {
    case 'always_off':
      return null;
    case 'always_on':
      return (h) => parseTraceparent(h.traceparent) ?? ROOT_TRACE;
    case 'traceidratio':
      return (h) => {
        const p = parseTraceparent(h.traceparent);
        if (p === null) return root();
        return traceIdRatioSampled(p.traceId, ratio) ? p : null;
      };
    case 'parentbased_always_on':
      return (h) => {
        const p = parseTraceparent(h.traceparent);
        return p === null ? ROOT_TRACE : p.sampled ? p : null;
      };
    case 'parentbased_always_off':
      return (h) => {
        const p = parseTraceparent(h.traceparent);
        return p !== null && p.sampled ? p : null;
      };
    case 'parentbased_traceidratio':
      if (ratio === 0) {
        return (h) => {
          const p = parseTraceparent(h.traceparent);
          return p !== null && p.sampled ? p : null;
        };
      }
      return (h) => {
        const p = parseTraceparent(h.traceparent);
        return p === null ? root() : p.sampled ? p : null;
      };
    default:
      return never;
  }
}
