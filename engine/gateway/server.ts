// The HTTP front end on node:http. One request's path, wired in one place:
//
//   route lookup (pre-built table) → body (bounded: 413) → parameters (-1100/-1101)
//   → IP weight (429/418) → auth (API key -2014/-2015, recvWindow -1021, HMAC -1022,
//   replay) → account ORDERS (-1015) → handler (edge validation → host.submit/query)
//   → response (decimal strings, rate-limit headers).
//
// Failures become {code, msg} with a 4xx; host overload is 503/-1008 at once; anything
// unexpected is a bug: logged, counted and answered 500/-1000 (tests assert none happen).
// Slow senders hit node's requestTimeout/headersTimeout and get 408 from 'clientError';
// oversized heads get 431 there; both as {code, msg}.

import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { HostError } from '../host/host.ts';
import type { ExchangeHost } from '../host/host.ts';
import type { GatewayChaos } from '../host/chaos-io.ts';
import {
  AdminToken, authenticateKey, checkTimestamp, KeyStore, ListenKeys, REPLAY_FULL, REPLAY_SEEN, ReplayGuard, verifySignature,
} from './auth.ts';
import { Ctx, GATEWAY_LIMITS_DEFAULT, respond } from './context.ts';
import type { GatewayLimits, GatewayState, GatewayStats, Route } from './context.ts';
import { ApiError, apiError, errorBody, GW } from './errors.ts';
import type { ErrorSpec } from './errors.ts';
import { exchangeInfoTail } from './exchange-info.ts';
import { Markets } from './markets.ts';
import { mergeMissing, parseParams } from './params.ts';
import type { Params } from './params.ts';
import { LIMIT_418, LIMIT_OK, NoRateLimit, RATE_LIMITS_DEFAULT, RateLimiter } from './rate-limit.ts';
import type { RateLimitConfig } from './rate-limit.ts';
import { buildRoutes } from './routes.ts';
import type { RouteTable } from './routes.ts';
import { attachWebSocket } from './ws/server.ts';
import type { WsGateway, WsLimits } from './ws/server.ts';
import { gatewayTelemetry, NOOP_GATEWAY_TELEMETRY } from '../telemetry/gateway-hooks.ts';
import type { GatewayTelemetry } from '../telemetry/gateway-hooks.ts';
import { createTelemetry } from '../telemetry/telemetry.ts';
import type { Telemetry, TelemetryOptions } from '../telemetry/telemetry.ts';

export interface GatewayOptions {
  host: ExchangeHost;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  /** Enables /admin/v1/* (checked from header X-PERPX-ADMIN). */
  adminToken?: string;
  noRateLimit?: boolean;
  rateLimits?: Partial<RateLimitConfig>;
  limits?: Partial<GatewayLimits>;
  /** Wall clock in ms (serverTime, recvWindow, rate-limit windows). */
  now?: () => number;
  log?: (line: string) => void;
  /** API keys (default: a fresh in-memory store; `perpx serve` passes one persisted in the data dir). */
  keys?: KeyStore;
  /**
   * OpenTelemetry (engine/telemetry): default on, metrics at /metrics + parent-based 1% traces
   * (traces only when a trace exporter is configured). false: off, every hook a no-op.
   */
  telemetry?: TelemetryOptions | false;
  /** WebSocket limits (engine/gateway/ws: streams, user data, WS API on this port). */
  ws?: Partial<WsLimits>;
  /** `perpx serve --chaos`: adds the /admin/v1/chaos routes (needs adminToken). */
  chaos?: GatewayChaos;
}

export interface GatewayHandle {
  url: string;
  port: number;
  state: GatewayState;
  server: Server;
  /** null when telemetry is off. */
  telemetry: Telemetry | null;
  ws: WsGateway;
  /**
   * Stop listening; idle connections close now, busy ones get `graceMs` to finish their
   * response (default 0: close everything at once). The host is the caller's to close.
   */
  close(graceMs?: number): Promise<void>;
}

type BodyRequest = IncomingMessage & { perpxCtx?: Ctx };

function unknownPath(): void {
  throw apiError(GW.UNSUPPORTED_OPERATION);
}
function wrongMethod(): void {
  throw apiError(GW.METHOD_NOT_ALLOWED);
}
const NOT_FOUND: Route = { method: '*', path: '*', kind: 'public', weight: 1, weightOf: null, orders: 0, mutating: false, handler: unknownPath };
const METHOD_NOT_ALLOWED: Route = { ...NOT_FOUND, handler: wrongMethod };

const JOURNAL_STOPPED = -1001;

function countError(stats: GatewayStats, code: number): void {
  stats.errorsByCode.set(code, (stats.errorsByCode.get(code) ?? 0) + 1);
}

/** Answer a failure: ApiError/HostError as {code,msg}; anything else is a bug (500, logged). */
function fail(ctx: Ctx, e: unknown): void {
  const stats = ctx.gw.stats;
  let status: number;
  let code: number;
  let msg: string;
  if (e instanceof ApiError) {
    status = e.status;
    code = e.code;
    msg = e.message;
  } else if (e instanceof HostError) {
    code = e.code;
    // -1001: the engine fail-stopped (journal write/fsync failed): a server-side condition.
    status = code === GW.OVERLOADED.code || code === JOURNAL_STOPPED ? GW.OVERLOADED.status : 400;
    msg = e.message;
  } else {
    stats.internalErrors++;
    ctx.gw.log(`gateway: internal error on ${ctx.req.method} ${ctx.req.url}: ${(e as Error)?.stack ?? String(e)}`);
    status = GW.INTERNAL.status;
    code = GW.INTERNAL.code;
    msg = GW.INTERNAL.msg;
  }
  countError(stats, code);
  respond(ctx, status, errorBody(code, msg));
}

function parseAll(ctx: Ctx): void {
  const limits = ctx.gw.limits;
  const params = parseParams(ctx.rawQuery, limits.paramsMax);
  if (ctx.rawBody.length > 0) {
    const type = ctx.req.headers['content-type'] ?? '';
    const body = ctx.route.kind === 'admin' && type.startsWith('application/json') ? jsonParams(ctx.rawBody, limits.paramsMax) : parseParams(ctx.rawBody, limits.paramsMax);
    mergeMissing(params, body);
  }
  ctx.params = params;
}

/** Admin convenience: a flat JSON object as parameters. */
function jsonParams(text: string, paramsMax: number): Params {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw apiError(GW.MANDATORY_PARAM, 'Body is not valid JSON.');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw apiError(GW.MANDATORY_PARAM, 'Body must be a JSON object.');
  const out: Params = new Map();
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (out.size >= paramsMax) throw apiError(GW.TOO_MANY_PARAMETERS);
    if (typeof x === 'string') out.set(k, x);
    else if (typeof x === 'number' && Number.isFinite(x)) out.set(k, String(x));
    else if (typeof x === 'boolean') out.set(k, String(x));
    else throw apiError(GW.INVALID_PARAMETER, `Field '${k.slice(0, 40)}' must be a string or number.`);
  }
  return out;
}

function chargeWeight(ctx: Ctx, parsed: boolean): void {
  const gw = ctx.gw;
  const route = ctx.route;
  const weight = parsed && route.weightOf !== null ? route.weightOf(ctx.params) : route.weight;
  const verdict = gw.limiter.chargeIp(ctx.ip, weight, gw.now());
  ctx.usedWeight = gw.limiter.usedWeight;
  if (verdict === LIMIT_OK) return;
  ctx.retryAfterS = gw.limiter.retryAfterS;
  throw verdict === LIMIT_418 ? apiError(GW.IP_BANNED) : apiError(GW.TOO_MANY_REQUESTS);
}

function authenticateSigned(ctx: Ctx): void {
  const gw = ctx.gw;
  const now = gw.now();
  const rec = authenticateKey(gw.keys, ctx.req.headers['x-mbx-apikey']);
  const expiresMs = checkTimestamp(ctx.params, now);
  const sig = verifySignature(rec, ctx.params, ctx.rawQuery, ctx.rawBody);
  ctx.key = rec;
  if (!ctx.route.mutating) return;
  const r = gw.replay.check(sig, expiresMs, now);
  if (r === REPLAY_SEEN) throw apiError(GW.INVALID_SIGNATURE, 'This signature was already used.');
  if (r === REPLAY_FULL) throw apiError(GW.OVERLOADED);
}

function chargeOrders(ctx: Ctx): void {
  const gw = ctx.gw;
  const verdict = gw.limiter.chargeOrders(ctx.accountId, ctx.route.orders, gw.now());
  ctx.usedOrders10s = gw.limiter.usedOrders10s;
  ctx.usedOrders1m = gw.limiter.usedOrders1m;
  if (verdict === LIMIT_OK) return;
  ctx.retryAfterS = gw.limiter.retryAfterS;
  throw apiError(GW.TOO_MANY_ORDERS);
}

async function pipeline(ctx: Ctx): Promise<void> {
  const gw = ctx.gw;
  const route = ctx.route;
  let parseError: unknown = null;
  try {
    parseAll(ctx);
  } catch (e) {
    parseError = e;
  }
  const limited = gw.limiter.enabled && route.kind !== 'admin' && route.kind !== 'health';
  if (limited) chargeWeight(ctx, parseError === null);
  if (parseError !== null) throw parseError;
  if (route.kind === 'signed') authenticateSigned(ctx);
  else if (route.kind === 'apiKey') ctx.key = authenticateKey(gw.keys, ctx.req.headers['x-mbx-apikey']);
  else if (route.kind === 'admin' && !gw.admin!.matches(ctx.req.headers['x-perpx-admin'])) throw apiError(GW.UNAUTHORIZED);
  if (limited && route.orders > 0) chargeOrders(ctx);
  await gw.telemetry.runHandler(route.handler, ctx);
  if (!ctx.responded) throw new Error(`handler for ${route.method} ${route.path} did not respond`);
}

async function dispatch(ctx: Ctx): Promise<void> {
  try {
    await pipeline(ctx);
  } catch (e) {
    fail(ctx, e);
  }
}

// ---- body collection (module-level listeners; the Ctx rides on the request) ------------

function onBodyData(this: BodyRequest, chunk: Buffer): void {
  const ctx = this.perpxCtx!;
  if (ctx.responded) return;
  ctx.bodyBytes += chunk.length;
  if (ctx.bodyBytes > ctx.gw.limits.bodyBytesMax) {
    rejectBody(ctx);
    return;
  }
  ctx.chunks.push(chunk);
}

function onBodyEnd(this: BodyRequest): void {
  const ctx = this.perpxCtx!;
  this.perpxCtx = undefined;
  if (ctx.responded) return;
  ctx.rawBody = ctx.chunks.length === 1 ? ctx.chunks[0]!.toString('utf8') : Buffer.concat(ctx.chunks).toString('utf8');
  ctx.chunks = [];
  void dispatch(ctx);
}

function onBodyError(this: BodyRequest): void {
  this.perpxCtx = undefined; // the socket is gone; nothing to answer
}

/** 413 and close: the rest of the body is never read. */
function rejectBody(ctx: Ctx): void {
  ctx.chunks = [];
  ctx.closeConnection = true;
  countError(ctx.gw.stats, GW.BODY_TOO_LARGE.code);
  respond(ctx, GW.BODY_TOO_LARGE.status, errorBody(GW.BODY_TOO_LARGE.code, `${GW.BODY_TOO_LARGE.msg} Max ${ctx.gw.limits.bodyBytesMax} bytes.`));
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function onRequest(gw: GatewayState, routes: RouteTable, req: IncomingMessage, res: ServerResponse): void {
  gw.stats.requests++;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const byMethod = routes.get(path);
  const route = byMethod === undefined ? NOT_FOUND : (byMethod.get(req.method ?? '') ?? METHOD_NOT_ALLOWED);
  const ctx = new Ctx(gw, req, res, route, req.socket.remoteAddress ?? '', q < 0 ? '' : url.slice(q + 1));
  gw.telemetry.onRequest(ctx);
  if (req.method === 'GET' || req.method === 'HEAD' || !hasBody(req)) {
    req.resume(); // a GET body is ignored (parameters travel in the query string)
    void dispatch(ctx);
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > gw.limits.bodyBytesMax) {
    req.resume();
    rejectBody(ctx);
    return;
  }
  const br = req as BodyRequest;
  br.perpxCtx = ctx;
  br.on('data', onBodyData);
  br.on('end', onBodyEnd);
  br.on('error', onBodyError);
}

// ---- protocol-level errors (before a request exists) ----------------------------------

function clientErrorSpec(code: string | undefined): ErrorSpec {
  if (code === 'HPE_HEADER_OVERFLOW') return GW.HEADERS_TOO_LARGE;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return GW.REQUEST_TIMEOUT;
  return GW.BAD_HTTP;
}

function onClientError(gw: GatewayState, err: Error & { code?: string }, socket: Socket): void {
  const inflight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  // A request read in full was dispatched: it may be executing or done. After a process pause,
  // node's requestTimeout check can fire for it before its answer is written; a 408 would then
  // contradict the answer it is owed, so the connection is reset instead (indeterminate for the
  // client, as a timeout is). Found by the chaos pause experiment (phantom orders after SIGCONT).
  if (err.code === 'ECONNRESET' || !socket.writable || (inflight != null && (inflight.headersSent || inflight.req.complete))) {
    socket.destroy();
    return;
  }
  const spec = clientErrorSpec(err.code);
  countError(gw.stats, spec.code);
  const body = errorBody(spec.code, spec.msg);
  socket.end(`HTTP/1.1 ${spec.status} ${STATUS_CODES[spec.status]}\r\nContent-Type: application/json\r\n`
    + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

// ---- start -------------------------------------------------------------------------------

export function createGatewayState(opts: GatewayOptions, telemetry: GatewayTelemetry = NOOP_GATEWAY_TELEMETRY): GatewayState {
  const limits = { ...GATEWAY_LIMITS_DEFAULT, ...opts.limits };
  const rateLimits = { ...RATE_LIMITS_DEFAULT, ...opts.rateLimits };
  const markets = new Markets(opts.host.config);
  return {
    host: telemetry.wrapHost(opts.host),
    markets,
    keys: opts.keys ?? new KeyStore(limits.apiKeysMax),
    listenKeys: new ListenKeys(),
    limiter: opts.noRateLimit === true ? new NoRateLimit() : new RateLimiter(rateLimits),
    replay: new ReplayGuard(limits.replayCacheMax),
    admin: opts.adminToken === undefined || opts.adminToken === '' ? null : new AdminToken(opts.adminToken),
    limits,
    stats: { requests: 0, errorsByCode: new Map(), internalErrors: 0 },
    now: opts.now ?? Date.now,
    log: opts.log ?? ((line) => console.error(line)),
    exchangeInfoTail: exchangeInfoTail(markets, rateLimits),
    telemetry,
  };
}

const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

async function serveMetrics(ctx: Ctx): Promise<void> {
  respond(ctx, 200, await ctx.gw.telemetry.telemetry!.metricsText(), PROMETHEUS_TYPE);
}

/** GET <metricsPath> (Prometheus text), not rate-limited, like the health routes. */
function addMetricsRoute(routes: RouteTable, path: string): void {
  if (routes.has(path)) throw new Error(`metrics path ${path} collides with an API route`);
  routes.set(path, new Map([['GET', { method: 'GET', path, kind: 'health', weight: 0, weightOf: null, orders: 0, mutating: false, handler: serveMetrics }]]));
}

export async function startGateway(opts: GatewayOptions): Promise<GatewayHandle> {
  const tel = opts.telemetry === false ? null : await createTelemetry(opts.telemetry ?? {});
  const routes = buildRoutes(opts.adminToken !== undefined && opts.adminToken !== '', opts.chaos ?? null);
  if (tel?.metricsPath != null) addMetricsRoute(routes, tel.metricsPath);
  const state = createGatewayState(opts, gatewayTelemetry(tel, [...routes.values()].flatMap((m) => [...m.values()])));
  const l = state.limits;
  const server = createServer({
    maxHeaderSize: l.headerBytesMax,
    requestTimeout: l.requestTimeoutMs,
    headersTimeout: l.headersTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(l.requestTimeoutMs / 4))),
    noDelay: true,
  }, (req, res) => onRequest(state, routes, req, res));
  server.maxConnections = l.connectionsMax;
  if (l.requestsPerSocketMax > 0) server.maxRequestsPerSocket = l.requestsPerSocketMax;
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => onClientError(state, err, socket));
  const ws = attachWebSocket(state, server, opts.ws);
  tel?.observeGateway({ errorsByCode: state.stats.errorsByCode, ws });
  const hostname = opts.hostname ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const failed = (e: Error) => void (tel === null ? reject(e) : tel.shutdown().then(() => reject(e), () => reject(e)));
    server.once('error', failed);
    server.listen(opts.port ?? 0, hostname, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname;
  return {
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    port,
    state,
    server,
    telemetry: tel,
    ws,
    close: (graceMs = 0) => new Promise<void>((resolve) => {
      ws.close(graceMs);
      server.close(() => void (tel === null ? resolve() : tel.shutdown().then(resolve, resolve)));
      server.closeIdleConnections();
      if (graceMs <= 0) {
        server.closeAllConnections();
        return;
      }
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      const hard = setTimeout(() => {
        clearInterval(idle);
        server.closeAllConnections();
      }, graceMs);
      server.once('close', () => {
        clearInterval(idle);
        clearTimeout(hard);
      });
    }),
  };
}
