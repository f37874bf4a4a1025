// Per-request context, the route table entry type and the shared gateway state. A Ctx gets
// all its fields in the constructor (stable shape); handlers are module-level functions
// that take the Ctx (no per-request closures).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExchangeHost } from '../host/host.ts';
import type { AdminToken, ApiKeyRecord, KeyStore, ListenKeys, ReplayGuard } from './auth.ts';
import type { Markets } from './markets.ts';
import type { Params } from './params.ts';
import type { Limiter } from './rate-limit.ts';
import type { GatewayTelemetry } from '../telemetry/gateway-hooks.ts';
import { StampFields } from '../telemetry/stamps.ts';

export type RouteKind = 'public' | 'signed' | 'apiKey' | 'admin' | 'health';

export interface Route {
  method: string;
  path: string;
  kind: RouteKind;
  /** REQUEST_WEIGHT charged to the IP. */
  weight: number;
  /** When set, the weight depends on the parameters (e.g. depth limit, symbol omitted). */
  weightOf: ((p: Params) => number) | null;
  /** ORDERS charged to the account (0: not an order endpoint). */
  orders: number;
  /** State-changing signed request: its signature may be used once. */
  mutating: boolean;
  handler: (ctx: Ctx) => Promise<void> | void;
}

export interface GatewayLimits {
  /** Largest request body; larger → 413. */
  bodyBytesMax: number;
  /** Largest request head (node maxHeaderSize); larger → 431. */
  headerBytesMax: number;
  /** Open connections; beyond, new ones are dropped by node. */
  connectionsMax: number;
  /** Whole request (head + body) must arrive within this; else 408 and close. */
  requestTimeoutMs: number;
  /** Request head must arrive within this. */
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Parameters per source (query string, body). */
  paramsMax: number;
  /** Requests served per keep-alive connection (0 = unlimited). */
  requestsPerSocketMax: number;
  apiKeysMax: number;
  replayCacheMax: number;
}

export const GATEWAY_LIMITS_DEFAULT: GatewayLimits = {
  bodyBytesMax: 64 * 1024,
  headerBytesMax: 16 * 1024,
  connectionsMax: 10_000,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  paramsMax: 64,
  requestsPerSocketMax: 0,
  apiKeysMax: 1_000_000,
  replayCacheMax: 1_000_000,
};

export interface GatewayStats {
  requests: number;
  /** Error responses by Binance code. */
  errorsByCode: Map<number, number>;
  /** Unexpected exceptions (bugs) answered with 500. */
  internalErrors: number;
}

export interface GatewayState {
  readonly host: ExchangeHost;
  readonly markets: Markets;
  readonly keys: KeyStore;
  readonly listenKeys: ListenKeys;
  readonly limiter: Limiter;
  readonly replay: ReplayGuard;
  readonly admin: AdminToken | null;
  readonly limits: GatewayLimits;
  readonly stats: GatewayStats;
  /** Wall clock (ms): serverTime, recvWindow, rate-limit windows. */
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** exchangeInfo after `"serverTime":<n>` (built once). */
  readonly exchangeInfoTail: string;
  /** Stage hooks (engine/telemetry); no-op functions when telemetry is off. */
  readonly telemetry: GatewayTelemetry;
}

const EMPTY_PARAMS: Params = new Map();

export class Ctx extends StampFields {
  readonly gw: GatewayState;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: Route;
  readonly ip: string;
  readonly rawQuery: string;
  rawBody = '';
  params: Params = EMPTY_PARAMS;
  key: ApiKeyRecord | null = null;
  chunks: Buffer[] = [];
  bodyBytes = 0;
  responded = false;
  /** Rate-limit header values (-1: not sent). */
  usedWeight = -1;
  usedOrders10s = -1;
  usedOrders1m = -1;
  retryAfterS = 0;
  closeConnection = false;
  // Telemetry stage stamps and the trace decision (StampFields) are set by gw.telemetry.

  constructor(gw: GatewayState, req: IncomingMessage, res: ServerResponse, route: Route, ip: string, rawQuery: string) {
    super();
    this.gw = gw;
    this.req = req;
    this.res = res;
    this.route = route;
    this.ip = ip;
    this.rawQuery = rawQuery;
  }

  get accountId(): number {
    return this.key!.accountId;
  }
}

const JSON_TYPE = 'application/json';

/** Write a complete response, JSON unless told (idempotent: a second call is ignored). */
export function respond(ctx: Ctx, status: number, body: string, contentType: string = JSON_TYPE): void {
  if (ctx.responded) return;
  ctx.responded = true;
  const res = ctx.res;
  if (!res.destroyed && !res.headersSent) writeResponse(ctx, res, status, body, contentType);
  ctx.gw.telemetry.onResponse(ctx, status);
}

function writeResponse(ctx: Ctx, res: ServerResponse, status: number, body: string, contentType: string): void {
  const h: (string | number)[] = ['Content-Type', contentType, 'Content-Length', Buffer.byteLength(body)];
  if (ctx.usedWeight >= 0) h.push('X-MBX-USED-WEIGHT-1M', ctx.usedWeight);
  if (ctx.usedOrders10s >= 0) h.push('X-MBX-ORDER-COUNT-10S', ctx.usedOrders10s, 'X-MBX-ORDER-COUNT-1M', ctx.usedOrders1m);
  if (ctx.retryAfterS > 0) h.push('Retry-After', ctx.retryAfterS);
  if (ctx.closeConnection) h.push('Connection', 'close');
  res.writeHead(status, h as unknown as string[]);
  res.end(body);
}

export function ok(ctx: Ctx, body: string): void {
  respond(ctx, 200, body);
}
