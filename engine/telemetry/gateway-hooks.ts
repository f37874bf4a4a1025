// The gateway's side of telemetry: four hooks server.ts calls at stage boundaries, and a
// host wrapper that stamps submit/reply and picks up the engine's stamps. With telemetry
// off the gateway gets NOOP_GATEWAY_TELEMETRY: empty functions and the host unwrapped.
//
//   onRequest(ctx)            request head parsed: startMs, trace sampling decision
//   runHandler(handler, ctx)  auth passed (handlerMs, sampled only); host submits made while the handler's
//                             synchronous part runs belong to this request
//   onResponse(ctx, status)   response written: metrics, and spans if the request was sampled
//
// Per request with metrics on: 4–5 clock reads, one Map lookup, ~8 histogram adds and one
// closure for the submit's reply; sampled requests additionally build their spans.

import type { IncomingHttpHeaders } from 'node:http';
import type { ExchangeHost, QueryOf, QueryResult, QueryType, SubmitResult, AppliedCommand } from '../host/host.ts';
import type { Command } from '../core/commands.ts';
import { nowMs } from './clock.ts';
import type { RouteLabel } from './producer.ts';
import {
  HOST_INFLIGHT, observe, observeHttp, STAGE_BOUNDS_S, STAGE_DECODE_AUTH, STAGE_ENCODE_WRITE, STAGE_ENGINE_APPLY, STAGE_HOST_ROUND_TRIP,
  STAGE_JOURNAL_WAIT, STAGE_QUEUE_WAIT, stageBase,
} from './slab.ts';
import type { Slab } from './slab.ts';
import type { RequestStamps, StampedResult } from './stamps.ts';
import type { Telemetry } from './telemetry.ts';
import { emitRequestSpans } from './traces.ts';

/** What the hooks read and write on the gateway's per-request context. */
export interface TelemetryCtx extends RequestStamps {
  readonly route: { readonly method: string; readonly path: string };
  readonly req: { readonly headers: IncomingHttpHeaders };
}

export interface GatewayTelemetry {
  /** null when telemetry is off. */
  readonly telemetry: Telemetry | null;
  onRequest(ctx: TelemetryCtx): void;
  runHandler<C extends TelemetryCtx>(handler: (ctx: C) => Promise<void> | void, ctx: C): Promise<void> | void;
  onResponse(ctx: TelemetryCtx, status: number): void;
  /** The host the gateway should use (the same object when telemetry is off). */
  wrapHost(host: ExchangeHost): ExchangeHost;
}

function noop(): void {}

export const NOOP_GATEWAY_TELEMETRY: GatewayTelemetry = Object.freeze({
  telemetry: null,
  onRequest: noop,
  runHandler<C extends TelemetryCtx>(handler: (ctx: C) => Promise<void> | void, ctx: C) {
    return handler(ctx);
  },
  onResponse: noop,
  wrapHost: (host: ExchangeHost) => host,
});

/** WebSocket API methods get ids after the REST routes (method label 'WS'). */
export const WS_API_METHODS = ['order.place', 'order.cancel', 'order.modify', 'order.status'] as const;
/** Requests that matched no route (404/405) share one label, so odd paths add no series. */
export const UNMATCHED: RouteLabel = Object.freeze({ method: '*', route: 'unmatched' });

/** Canonical route list: REST routes sorted, the WebSocket API methods, then UNMATCHED. */
export function routeLabels(routes: Iterable<{ method: string; path: string }>): RouteLabel[] {
  const rest = [...routes].map((r) => ({ method: r.method, route: r.path }));
  rest.sort((a, b) => (a.route < b.route ? -1 : a.route > b.route ? 1 : a.method < b.method ? -1 : a.method > b.method ? 1 : 0));
  return [...rest, ...WS_API_METHODS.map((m) => ({ method: 'WS', route: m })), UNMATCHED];
}

/**
 * Stamps a request's first submit and its reply, and keeps the count of submitted commands
 * not yet answered (the host's queue depth: ring + engine + journal wait) in the slab;
 * other host calls pass straight through.
 */
class StampingHost implements ExchangeHost {
  readonly config: ExchangeHost['config'];
  readonly inner: ExchangeHost;
  /** The request whose handler is running its synchronous part, if any. */
  current: TelemetryCtx | null = null;
  private readonly a: Float64Array;
  private readonly settled = (r: SubmitResult): SubmitResult => {
    this.a[HOST_INFLIGHT] -= 1;
    return r;
  };
  private readonly failed = (e: unknown): never => {
    this.a[HOST_INFLIGHT] -= 1;
    throw e;
  };

  constructor(inner: ExchangeHost, slab: Float64Array) {
    this.inner = inner;
    this.config = inner.config;
    this.a = slab;
  }

  submit(command: Command): Promise<SubmitResult> {
    this.a[HOST_INFLIGHT] += 1;
    const ctx = this.current;
    if (ctx === null || ctx.submitMs !== 0) return this.inner.submit(command).then(this.settled, this.failed);
    ctx.submitMs = nowMs();
    return this.inner.submit(command).then((r: StampedResult) => {
      this.a[HOST_INFLIGHT] -= 1;
      ctx.replyMs = nowMs();
      ctx.engineStamps = r.stamps ?? null;
      return r;
    }, this.failed);
  }

  query<K extends QueryType>(q: QueryOf<K>): Promise<QueryResult<K>> {
    return this.inner.query(q);
  }

  subscribe(listener: (applied: AppliedCommand) => void): () => void {
    return this.inner.subscribe(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function sec(fromMs: number, toMs: number): number {
  const d = (toMs - fromMs) / 1000;
  return d > 0 ? d : 0;
}

class Hooks implements GatewayTelemetry {
  readonly telemetry: Telemetry;
  private readonly slab: Slab;
  private readonly a: Float64Array;
  private readonly metrics: boolean;
  private host: StampingHost | null = null;
  /** Route objects of this thread's table → routeId; other routes go through byKey. */
  private readonly byRoute = new Map<object, number>();
  private readonly byKey = new Map<string, number>();
  private readonly unmatchedId: number;

  constructor(t: Telemetry, routes: Iterable<{ method: string; path: string }>) {
    this.telemetry = t;
    this.slab = t.slab;
    this.a = t.slab.a;
    this.metrics = t.metricsEnabled;
    const list = [...routes];
    const labels = routeLabels(list);
    t.registerRoutes(labels);
    labels.forEach((l, i) => this.byKey.set(`${l.method} ${l.route}`, i));
    this.unmatchedId = labels.length - 1;
    for (const r of list) this.byRoute.set(r, this.byKey.get(`${r.method} ${r.path}`)!);
  }

  onRequest(ctx: TelemetryCtx): void {
    ctx.startMs = nowMs();
    const decide = this.telemetry.decide;
    if (decide !== null) ctx.trace = decide(ctx.req.headers);
  }

  runHandler<C extends TelemetryCtx>(handler: (ctx: C) => Promise<void> | void, ctx: C): Promise<void> | void {
    if (ctx.trace !== null) ctx.handlerMs = nowMs(); // only a query's trace uses it
    const host = this.host;
    if (host === null) return handler(ctx);
    host.current = ctx;
    try {
      return handler(ctx);
    } finally {
      host.current = null;
    }
  }

  onResponse(ctx: TelemetryCtx, status: number): void {
    const end = nowMs();
    if (this.metrics) this.record(ctx, status, end);
    if (ctx.trace !== null && this.telemetry.tracer !== null) {
      emitRequestSpans(this.telemetry.tracer, ctx, ctx.route.method, ctx.route.path, status, end);
    }
  }

  wrapHost(host: ExchangeHost): ExchangeHost {
    const h = new StampingHost(host, this.a);
    this.host = h;
    return h;
  }

  routeId(route: { method: string; path: string }): number {
    const id = this.byRoute.get(route);
    if (id !== undefined) return id;
    return this.byKey.get(`${route.method} ${route.path}`) ?? this.unmatchedId;
  }

  private record(ctx: TelemetryCtx, status: number, end: number): void {
    const a = this.a;
    const start = ctx.startMs;
    observeHttp(a, this.slab.httpSlot(this.routeId(ctx.route), status), sec(start, end));
    const submit = ctx.submitMs;
    const reply = ctx.replyMs;
    if (submit === 0 || reply === 0) return;
    observe(a, stageBase(STAGE_DECODE_AUTH), STAGE_BOUNDS_S, sec(start, submit));
    observe(a, stageBase(STAGE_HOST_ROUND_TRIP), STAGE_BOUNDS_S, sec(submit, reply));
    observe(a, stageBase(STAGE_ENCODE_WRITE), STAGE_BOUNDS_S, sec(reply, end));
    const e = ctx.engineStamps;
    if (e === null) return;
    observe(a, stageBase(STAGE_QUEUE_WAIT), STAGE_BOUNDS_S, sec(submit, e.applyStartMs));
    observe(a, stageBase(STAGE_ENGINE_APPLY), STAGE_BOUNDS_S, sec(e.applyStartMs, e.applyEndMs));
    observe(a, stageBase(STAGE_JOURNAL_WAIT), STAGE_BOUNDS_S, sec(e.applyEndMs, reply));
  }
}

/** The gateway hooks for this thread's route table; NOOP when telemetry is off. */
export function gatewayTelemetry(t: Telemetry | null, routes: Iterable<{ method: string; path: string }>): GatewayTelemetry {
  return t === null ? NOOP_GATEWAY_TELEMETRY : new Hooks(t, routes);
}
