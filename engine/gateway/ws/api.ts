// The WebSocket API (/ws-fapi/v1): order.place, order.cancel, order.modify, order.status.
// One request's path, the REST pipeline's stages in the same order with the same
// functions (auth.ts, orders.ts, handlers-trade.ts, responses.ts):
//
//   JSON (numbers keep their source text) → {id, method, params} → IP weight (429/418)
//   → API key (-2014/-2015) → recvWindow (-1021) → HMAC-SHA256 over the params sorted by
//   name, `k=v` joined by '&', signature excluded (-1022) → replay guard (mutating)
//   → account ORDERS (-1015) → edge validation → host.submit/query → order JSON.
//
// Responses: {"id","status":200,"result":…} or {"id","status":4xx,"error":{code,msg}}, plus
// "rateLimits" when limits are on. Requests on one connection run concurrently (answers
// may overtake each other; match them by id), at most apiInflightMax at a time.

import { HostError } from '../../host/host.ts';
import { authenticateKey, checkTimestamp, REPLAY_FULL, REPLAY_SEEN, verifySignature } from '../auth.ts';
import type { GatewayState } from '../context.ts';
import { ApiError, apiError, GW } from '../errors.ts';
import { firstOrderEvent, lastOrderEvent, submit } from '../handler-kit.ts';
import { parseModify, selector } from '../handlers-trade.ts';
import { parsePlaceOrder, respTypeIsResult } from '../orders.ts';
import type { Params } from '../params.ts';
import { PARAM_VALUE_CHARS_MAX } from '../params.ts';
import { LIMIT_418, LIMIT_OK, RateLimiter } from '../rate-limit.ts';
import { orderJson } from '../responses.ts';
import type { WsConn } from './conn.ts';
import { CLOSE_POLICY } from './conn.ts';
import type { WsStats } from './limits.ts';
import type { IncomingHttpHeaders } from 'node:http';
import type { TelemetryCtx } from '../../telemetry/gateway-hooks.ts';
import { StampFields } from '../../telemetry/stamps.ts';

interface ApiMethod {
  weight: number;
  orders: number;
  mutating: boolean;
  run: (gw: GatewayState, p: Params, accountId: number) => Promise<string>;
  /** Telemetry route label ('WS' + method name; see telemetry/gateway-hooks.ts routeLabels). */
  route: { readonly method: string; readonly path: string };
}

async function place(gw: GatewayState, p: Params, accountId: number): Promise<string> {
  const cmd = parsePlaceOrder(gw.markets, p, accountId, 'order');
  const result = respTypeIsResult(p);
  const events = await submit({ gw }, cmd);
  const first = firstOrderEvent(events);
  return orderJson(gw.markets, result ? lastOrderEvent(events, first.orderId) : first, false);
}

async function cancel(gw: GatewayState, p: Params, accountId: number): Promise<string> {
  const m = gw.markets.symbol(p.get('symbol'));
  const events = await submit({ gw }, { type: 'cancel', accountId, symbolId: m.id, ...selector(p, 'orderId', 'origClientOrderId') });
  return orderJson(gw.markets, firstOrderEvent(events), false);
}

async function modify(gw: GatewayState, p: Params, accountId: number): Promise<string> {
  const events = await submit({ gw }, parseModify(gw.markets, p, accountId));
  return orderJson(gw.markets, lastOrderEvent(events, firstOrderEvent(events).orderId), false);
}

async function status(gw: GatewayState, p: Params, accountId: number): Promise<string> {
  const m = gw.markets.symbol(p.get('symbol'));
  const o = await gw.host.query({ type: 'order', accountId, symbolId: m.id, ...selector(p, 'orderId', 'origClientOrderId') });
  if (o === null) throw new ApiError(-2013, 400, 'Order does not exist.');
  return orderJson(gw.markets, o, true);
}

/** Weights as the REST routes (order endpoints charge 1 where Binance charges 0). */
export const API_METHODS: ReadonlyMap<string, ApiMethod> = new Map([
  ['order.place', { weight: 1, orders: 1, mutating: true, run: place, route: { method: 'WS', path: 'order.place' } }],
  ['order.cancel', { weight: 1, orders: 0, mutating: true, run: cancel, route: { method: 'WS', path: 'order.cancel' } }],
  ['order.modify', { weight: 1, orders: 1, mutating: true, run: modify, route: { method: 'WS', path: 'order.modify' } }],
  ['order.status', { weight: 1, orders: 0, mutating: false, run: status, route: { method: 'WS', path: 'order.status' } }],
]);

const NO_HEADERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;

/** Per-request telemetry context of a WS API call (the REST Ctx's counterpart). */
class WsApiCtx extends StampFields implements TelemetryCtx {
  readonly route: { readonly method: string; readonly path: string };
  readonly req = { headers: NO_HEADERS };
  constructor(route: { readonly method: string; readonly path: string }) {
    super();
    this.route = route;
  }
}

/** The HTTP-equivalent status at the start of a reply body ("status":NNN,…). */
function bodyStatus(body: string): number {
  return Number(body.slice(9, 12));
}

/** A JSON number as its source text ("43187.00" stays "43187.00": that is what was signed). */
class RawNumber {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

function keepNumberText(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === 'number' && context?.source !== undefined ? new RawNumber(context.source) : value;
}

type Reviver = (this: unknown, key: string, value: unknown) => unknown;

/** The id to echo, as JSON: integers or strings (≤ 64 chars) or null. */
function idJson(id: unknown): string | null {
  if (id === undefined || id === null) return 'null';
  if (id instanceof RawNumber) return /^\d{1,19}$/.test(id.text) ? id.text : null;
  if (typeof id === 'string' && id.length <= 64) return JSON.stringify(id);
  return null;
}

/** params object → Params (strings, number source text, booleans), -1130 for anything else. */
export function apiParams(v: unknown, paramsMax: number): Params {
  const out: Params = new Map();
  if (v === undefined) return out;
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof RawNumber) throw apiError(GW.INVALID_PARAMETER, "'params' must be an object.");
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (out.size >= paramsMax) throw apiError(GW.TOO_MANY_PARAMETERS, `At most ${paramsMax}.`);
    let s: string;
    if (typeof x === 'string') s = x;
    else if (x instanceof RawNumber) s = x.text;
    else if (typeof x === 'boolean') s = x ? 'true' : 'false';
    else throw apiError(GW.INVALID_PARAMETER, `Parameter '${k.slice(0, 40)}' must be a string, number or boolean.`);
    if (s.length > PARAM_VALUE_CHARS_MAX) throw apiError(GW.INVALID_PARAMETER, `Parameter '${k.slice(0, 40)}' is too long.`);
    out.set(k, s);
  }
  return out;
}

/** What is signed: every parameter but `signature`, sorted by name, `k=v` joined by '&'. */
export function signaturePayload(p: Params): string {
  const keys = Array.from(p.keys()).filter((k) => k !== 'signature').sort();
  let s = '';
  for (let i = 0; i < keys.length; i++) s += `${i === 0 ? '' : '&'}${keys[i]}=${p.get(keys[i]!)}`;
  return s;
}

/** Per request: the limiter's counts right after each charge (for "rateLimits"). */
class Counts {
  weight = -1;
  orders10s = -1;
  orders1m = -1;
}

export class WsApi {
  private readonly gw: GatewayState;
  private readonly stats: WsStats;

  constructor(gw: GatewayState, stats: WsStats) {
    this.gw = gw;
    this.stats = stats;
  }

  /** Handle one text frame; always answers (or the connection is closed for a ban). */
  onMessage(conn: WsConn, text: string): void {
    let req: unknown;
    try {
      req = JSON.parse(text, keepNumberText as Reviver);
    } catch {
      this.reply(conn, 'null', errorJson(400, GW.ILLEGAL_CHARS.code, 'Malformed request: the message is not valid JSON.'), null);
      return;
    }
    if (req === null || typeof req !== 'object' || Array.isArray(req) || req instanceof RawNumber) {
      this.reply(conn, 'null', errorJson(400, GW.MANDATORY_PARAM.code, 'Malformed request: expected a JSON object {id, method, params}.'), null);
      return;
    }
    const r = req as { id?: unknown; method?: unknown; params?: unknown };
    const id = idJson(r.id);
    if (id === null) {
      this.reply(conn, 'null', errorJson(400, GW.INVALID_PARAMETER.code, "'id' must be an integer, a string of at most 64 characters, or null."), null);
      return;
    }
    const method = typeof r.method === 'string' ? API_METHODS.get(r.method) : undefined;
    if (method === undefined) {
      this.reply(conn, id, errorJson(400, GW.UNSUPPORTED_OPERATION.code, `Unknown method; supported: ${Array.from(API_METHODS.keys()).join(', ')}.`), null);
      return;
    }
    if (conn.apiInflight >= conn.limits.apiInflightMax) {
      this.reply(conn, id, errorJson(GW.OVERLOADED.status, GW.OVERLOADED.code, `Too many requests in flight on this connection (max ${conn.limits.apiInflightMax}).`), null);
      return;
    }
    this.stats.apiRequests++;
    conn.apiInflight++;
    void this.execute(conn, id, method, r.params);
  }

  private async execute(conn: WsConn, id: string, method: ApiMethod, rawParams: unknown): Promise<void> {
    const counts = new Counts();
    const tel = this.gw.telemetry;
    const ctx = new WsApiCtx(method.route);
    tel.onRequest(ctx);
    let body: string;
    try {
      // runHandler marks the host submit made in run's synchronous part as this request's
      // (queue wait, engine, journal stages), as for a REST handler.
      let pending: Promise<string> | null = null;
      tel.runHandler(() => { pending = this.run(conn, method, rawParams, counts); }, ctx);
      body = `"status":200,"result":${await pending!}`;
    } catch (e) {
      body = this.failure(e, id);
      if (e instanceof ApiError && e.status === GW.IP_BANNED.status) {
        this.reply(conn, id, body, counts, ctx);
        conn.close(CLOSE_POLICY, 'IP banned for too many requests.');
        return;
      }
    } finally {
      conn.apiInflight--;
    }
    this.reply(conn, id, body, counts, ctx);
  }

  private async run(conn: WsConn, method: ApiMethod, rawParams: unknown, counts: Counts): Promise<string> {
    const gw = this.gw;
    let p: Params | null = null;
    let parseError: unknown = null;
    try {
      p = apiParams(rawParams, gw.limits.paramsMax);
    } catch (e) {
      parseError = e;
    }
    if (gw.limiter.enabled) {
      const verdict = gw.limiter.chargeIp(conn.ip, method.weight, gw.now());
      counts.weight = gw.limiter.usedWeight;
      if (verdict !== LIMIT_OK) throw verdict === LIMIT_418 ? apiError(GW.IP_BANNED) : apiError(GW.TOO_MANY_REQUESTS);
    }
    if (p === null) throw parseError;
    const accountId = this.authenticate(p, method.mutating);
    if (gw.limiter.enabled && method.orders > 0) {
      const verdict = gw.limiter.chargeOrders(accountId, method.orders, gw.now());
      counts.orders10s = gw.limiter.usedOrders10s;
      counts.orders1m = gw.limiter.usedOrders1m;
      if (verdict !== LIMIT_OK) throw apiError(GW.TOO_MANY_ORDERS);
    }
    return method.run(gw, p, accountId);
  }

  /** Session-less signed request: apiKey, timestamp, signature among the params. */
  private authenticate(p: Params, mutating: boolean): number {
    const gw = this.gw;
    const now = gw.now();
    const rec = authenticateKey(gw.keys, p.get('apiKey'));
    const expiresMs = checkTimestamp(p, now);
    const sig = verifySignature(rec, p, signaturePayload(p), '');
    if (mutating) {
      const r = gw.replay.check(sig, expiresMs, now);
      if (r === REPLAY_SEEN) throw apiError(GW.INVALID_SIGNATURE, 'This signature was already used.');
      if (r === REPLAY_FULL) throw apiError(GW.OVERLOADED);
    }
    return rec.accountId;
  }

  private failure(e: unknown, id: string): string {
    if (e instanceof ApiError) return errorJson(e.status, e.code, e.message);
    if (e instanceof HostError) return errorJson(e.code === GW.OVERLOADED.code ? GW.OVERLOADED.status : 400, e.code, e.message);
    this.stats.internalErrors++;
    this.gw.log(`ws-api: internal error on request ${id}: ${(e as Error)?.stack ?? String(e)}`);
    return errorJson(GW.INTERNAL.status, GW.INTERNAL.code, GW.INTERNAL.msg);
  }

  private reply(conn: WsConn, id: string, body: string, counts: Counts | null, ctx: WsApiCtx | null = null): void {
    if (body.startsWith('"status":4') || body.startsWith('"status":5')) {
      this.stats.errorFrames++;
      const m = /"code":(-?\d+)/.exec(body);
      if (m !== null) {
        const code = Number(m[1]);
        const byCode = this.gw.stats.errorsByCode;
        byCode.set(code, (byCode.get(code) ?? 0) + 1);
      }
    }
    conn.send(`{"id":${id},${body}${counts === null ? '' : this.rateLimitsJson(counts)}}`);
    if (ctx !== null) this.gw.telemetry.onResponse(ctx, bodyStatus(body));
  }

  private rateLimitsJson(c: Counts): string {
    const l = this.gw.limiter;
    if (!(l instanceof RateLimiter) || c.weight < 0) return '';
    let s = `,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":${l.cfg.weightPerMinute},"count":${c.weight}}`;
    if (c.orders10s >= 0) {
      s += `,{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":${l.cfg.ordersPer10s},"count":${c.orders10s}}`
        + `,{"rateLimitType":"ORDERS","interval":"MINUTE","intervalNum":1,"limit":${l.cfg.ordersPerMinute},"count":${c.orders1m}}`;
    }
    return `${s}]`;
  }
}

function errorJson(status: number, code: number, msg: string): string {
  return `"status":${status},"error":{"code":${code},"msg":${JSON.stringify(msg)}}`;
}
