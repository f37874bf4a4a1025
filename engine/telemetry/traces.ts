// A sampled request's trace, built after its response was written from the stamps it carried:
// one SERVER span for the request and a child per stage, back to back, in pipeline order.
// Stamps are clamped so each stage starts where the previous one ended (stamps from the
// engine thread come from another thread's clock origin and may be off by a microsecond).

import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import type { Attributes, Context, Tracer } from '@opentelemetry/api';
import { ROOT_TRACE } from './stamps.ts';
import type { RequestStamps } from './stamps.ts';

/** Child span names, in pipeline order. */
export const SPAN_DECODE_AUTH = 'decode+auth';
export const SPAN_QUEUE_WAIT = 'queue wait';
export const SPAN_ENGINE_APPLY = 'engine apply';
export const SPAN_JOURNAL_WAIT = 'journal wait';
export const SPAN_ENCODE_WRITE = 'encode+write';
/** A command whose host carried no stamps: submit → reply as one span. */
export const SPAN_HOST = 'host';
/** A request that submitted nothing (a query): handler → response written. */
export const SPAN_HANDLE = 'handle';

function parentContext(s: RequestStamps): Context {
  const t = s.trace!;
  if (t === ROOT_TRACE) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: t.traceId, spanId: t.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
}

function child(tracer: Tracer, parent: Context, name: string, startMs: number, endMs: number): void {
  tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: startMs }, parent).end(endMs);
}

/** Emit the request's spans (the request must be sampled: s.trace !== null). */
export function emitRequestSpans(tracer: Tracer, r: RequestStamps, method: string, route: string, status: number, endMs: number): void {
  const start = r.startMs;
  const attributes: Attributes = { 'http.request.method': method, 'http.route': route, 'http.response.status_code': status };
  const root = tracer.startSpan(`${method} ${route}`, { kind: SpanKind.SERVER, startTime: start, attributes }, parentContext(r));
  if (status >= 500) root.setStatus({ code: SpanStatusCode.ERROR });
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  const clamp = (t: number, lo: number) => Math.min(Math.max(t, lo), endMs);
  if (r.submitMs > 0 && r.replyMs > 0) {
    const submit = clamp(r.submitMs, start);
    const reply = clamp(r.replyMs, submit);
    child(tracer, ctx, SPAN_DECODE_AUTH, start, submit);
    const e = r.engineStamps;
    if (e !== null) {
      const applyStart = clamp(e.applyStartMs, submit);
      const applyEnd = clamp(e.applyEndMs, applyStart);
      child(tracer, ctx, SPAN_QUEUE_WAIT, submit, Math.min(applyStart, reply));
      child(tracer, ctx, SPAN_ENGINE_APPLY, Math.min(applyStart, reply), Math.min(applyEnd, reply));
      child(tracer, ctx, SPAN_JOURNAL_WAIT, Math.min(applyEnd, reply), reply);
    } else {
      child(tracer, ctx, SPAN_HOST, submit, reply);
    }
    child(tracer, ctx, SPAN_ENCODE_WRITE, reply, endMs);
  } else {
    const handler = r.handlerMs > 0 ? clamp(r.handlerMs, start) : endMs;
    child(tracer, ctx, SPAN_DECODE_AUTH, start, handler);
    if (handler < endMs) child(tracer, ctx, SPAN_HANDLE, handler, endMs);
  }
  root.end(endMs);
}
