// WebSocket front end on the gateway's own http.Server (same port). Paths:
//
//   /ws, /ws/<stream>[/<stream>…]         raw events          (legacy)
//   /stream?streams=<a>/<b>               {stream, data}      (legacy combined)
//   /public/ws, /market/ws, /private/ws   raw events; `/<n>` suffixes (ccxt's connection
//   (+ /<n> or /<stream>)                 index) are ignored; /private/ws?listenKey=K[&events=A/B]
//   /public|market|private/stream?streams=…   combined
//   /ws-fapi/v1                           WebSocket API (api.ts)
//
// Any market stream is served on any stream path (Binance splits them across /public and
// /market; a client that picks either works). A listen key may stand where a stream does.
//
// Upgrade path: route → connection limit (503 -1008) → stream names (400) → handshake.
// Per connection: inbound message rate and size, outbound buffer (conn.ts), pings.

import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import type { AppliedCommand } from '../../host/host.ts';
import { assert } from '../../core/int.ts';
import type { GatewayState } from '../context.ts';
import { errorBody, GW } from '../errors.ts';
import { WsApi } from './api.ts';
import { CLOSE_GOING_AWAY, CLOSE_NORMAL, CLOSE_POLICY, KIND_API, KIND_STREAM, WsConn } from './conn.ts';
import { ERR_INVALID_REQUEST, errorFrame, resolveStream, StreamControl } from './control.ts';
import { newWsStats, WS_LIMITS_DEFAULT } from './limits.ts';
import type { WsLimits, WsStats } from './limits.ts';
import { MarketHub } from './market-hub.ts';
import type { StreamSpec } from './streams.ts';
import { UserHub } from './user-hub.ts';

export { WS_LIMITS_DEFAULT } from './limits.ts';
export type { WsLimits, WsStats } from './limits.ts';

/** Market streams are pushed from one timer at this period (intervals are multiples of it). */
export const TICK_MS = 50;
const SWEEP_MS = 1_000;
const USER_EVENTS_MAX = 16;

export interface WsGateway {
  readonly limits: WsLimits;
  readonly stats: WsStats;
  readonly connections: number;
  /** Close every WebSocket (1001), stop timers and the host subscription. */
  close(graceMs?: number): void;
}

interface Route {
  kind: number;
  combined: boolean;
  names: string[];
  listenKey: string;
  events: Set<string> | null;
}

type Rejection = { status: number; code: number; msg: string };

const SPLIT_PATHS = new Set(['/public', '/market', '/private']);

function splitNames(text: string | null): string[] {
  return text === null || text === '' ? [] : text.split('/').filter((s) => s !== '');
}

/** Path and query → route, or why not. */
export function routeOf(url: string): Route | Rejection {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const route: Route = { kind: KIND_STREAM, combined: false, names: [], listenKey: '', events: null };
  if (path === '/ws-fapi/v1') return { ...route, kind: KIND_API };
  let rest = path;
  const seg = path.indexOf('/', 1);
  const first = seg < 0 ? path : path.slice(0, seg);
  if (SPLIT_PATHS.has(first)) {
    rest = path.slice(first.length);
    const key = query.get('listenKey');
    if (key !== null && key !== '') route.names.push(key);
    const events = query.get('events');
    if (events !== null && events !== '') {
      const list = splitNames(events);
      if (list.length > USER_EVENTS_MAX) return { status: 400, code: GW.INVALID_PARAMETER.code, msg: 'Too many event types.' };
      route.events = new Set(list);
    }
  }
  if (rest === '/stream') {
    route.combined = true;
    route.names.push(...splitNames(query.get('streams')));
    return route;
  }
  if (rest === '/ws' || rest.startsWith('/ws/')) {
    // ccxt appends a connection index (/public/ws/0); anything else is a stream name.
    for (const n of splitNames(rest.slice(3))) if (!/^\d+$/.test(n)) route.names.push(n);
    return route;
  }
  return { status: 404, code: GW.UNSUPPORTED_OPERATION.code, msg: 'Unknown WebSocket path.' };
}

function reject(socket: Duplex, r: Rejection): void {
  const body = errorBody(r.code, r.msg);
  socket.end(`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status]}\r\nContent-Type: application/json\r\n`
    + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function byteLength(data: RawData): number {
  if (Buffer.isBuffer(data)) return data.length;
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data.byteLength;
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function noop(): void {}

class WsServer implements WsGateway {
  readonly limits: WsLimits;
  readonly stats: WsStats = newWsStats();
  private readonly gw: GatewayState;
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<WsConn>();
  private readonly market: MarketHub;
  private readonly users: UserHub;
  private readonly control: StreamControl;
  private readonly api: WsApi;
  /** The host subscription, held only while a WebSocket is open (REST-only load pays nothing). */
  private unsubscribeHost: (() => void) | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private nextId = 1;
  private closed = false;

  constructor(gw: GatewayState, limits: WsLimits) {
    assert(limits.messageBytesMax <= limits.frameBytesMax, 'messageBytesMax ≤ frameBytesMax');
    assert(limits.connectionsMax >= 1 && limits.streamsPerConnectionMax >= 1 && limits.outboundBufferBytesMax >= 1, 'WS limits ≥ 1');
    this.gw = gw;
    this.limits = limits;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: limits.frameBytesMax, perMessageDeflate: false, clientTracking: false });
    this.market = new MarketHub(gw, limits);
    this.users = new UserHub(gw, limits);
    this.control = new StreamControl(gw, this.market, this.users, this.stats);
    this.api = new WsApi(gw, this.stats);
    this.every(TICK_MS, () => this.market.tick());
    this.every(SWEEP_MS, () => this.sweep());
    this.every(limits.pingIntervalMs, () => this.pingAll());
  }

  get connections(): number { return this.conns.size; }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (e) {
        this.bug('timer', e);
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private bug(where: string, e: unknown): void {
    this.stats.internalErrors++;
    this.gw.log(`ws: internal error in ${where}: ${(e as Error)?.stack ?? String(e)}`);
  }

  private subscribeHost(): void {
    if (this.unsubscribeHost !== null) return;
    const host = this.gw.host;
    this.unsubscribeHost = host.subscribe((a) => this.onApplied(a));
    // Commands applied before the subscription are in every snapshot read from now on.
    host.query({ type: 'status' }).then((s) => this.market.noteSeq(s.seq), noop);
    host.query({ type: 'markPrice', symbolId: -1 }).then((rows) => {
      for (const v of rows) this.users.builder.markTicks[v.symbolId] = v.markTicks; // markPrice events keep them current
    }, noop);
  }

  private unsubscribeHostIfIdle(): void {
    if (this.conns.size > 0 || this.unsubscribeHost === null) return;
    this.unsubscribeHost();
    this.unsubscribeHost = null;
  }

  private onApplied(a: AppliedCommand): void {
    try {
      this.market.onApplied(a);
      this.users.onApplied(a);
    } catch (e) {
      this.bug('event fan-out', e);
    }
  }

  // ---- upgrade -----------------------------------------------------------------------

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', noop); // a reset during the handshake is not ours to report
    const r = this.admit(req);
    if ('status' in r) {
      this.stats.connectionsRejected++;
      reject(socket, r);
      return;
    }
    const { route, specs, user } = r;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onOpen(ws, req, route, specs, user));
  }

  private admit(req: IncomingMessage): Rejection | { route: Route; specs: StreamSpec[]; user: { accountId: number; listenKey: string } | null } {
    if (this.closed) return { status: 503, code: GW.OVERLOADED.code, msg: 'Server is shutting down.' };
    if (this.conns.size >= this.limits.connectionsMax) {
      return { status: 503, code: GW.OVERLOADED.code, msg: `Too many WebSocket connections (max ${this.limits.connectionsMax}).` };
    }
    const route = routeOf(req.url ?? '/');
    if ('status' in route) return route;
    if (route.names.length > this.limits.streamsPerConnectionMax) {
      return { status: 400, code: GW.INVALID_PARAMETER.code, msg: `At most ${this.limits.streamsPerConnectionMax} streams per connection.` };
    }
    const specs: StreamSpec[] = [];
    let user: { accountId: number; listenKey: string } | null = null;
    for (const n of route.names) {
      const res = resolveStream(this.gw, n);
      if (typeof res === 'string') {
        const code = res.includes('listenKey') ? GW.INVALID_LISTEN_KEY.code : GW.INVALID_PARAMETER.code;
        return { status: 400, code, msg: res };
      }
      if (res.spec !== null) specs.push(res.spec);
      else if (user !== null && user.listenKey !== res.listenKey) return { status: 400, code: GW.INVALID_PARAMETER.code, msg: 'One listenKey per connection.' };
      else user = res;
    }
    return { route, specs, user };
  }

  private onOpen(ws: WebSocket, req: IncomingMessage, route: Route, specs: StreamSpec[], user: { accountId: number; listenKey: string } | null): void {
    const conn = new WsConn(this.nextId++, ws, req.socket.remoteAddress ?? '', route.kind, route.combined, this.limits, this.stats, this.gw.now());
    this.conns.add(conn);
    this.stats.connectionsOpened++;
    this.subscribeHost();
    for (const s of specs) {
      if (conn.streams.has(s.name)) continue;
      conn.streams.add(s.name);
      this.market.subscribe(conn, s);
    }
    if (user !== null) {
      conn.userEvents = route.events;
      conn.streams.add(user.listenKey);
      this.users.attach(conn, user.listenKey, user.accountId);
    }
    ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on('pong', () => { conn.alive = true; });
    ws.on('close', () => this.onClose(conn));
    ws.on('error', noop); // protocol errors: ws closes the socket itself (1002/1007/1009)
  }

  private onClose(conn: WsConn): void {
    conn.closed = true;
    if (!this.conns.delete(conn)) return;
    for (const name of conn.streams) if (name !== conn.listenKey) this.market.unsubscribe(conn, name);
    this.users.detach(conn);
    conn.streams.clear();
    this.unsubscribeHostIfIdle();
  }

  private onMessage(conn: WsConn, data: RawData, _isBinary: boolean): void {
    this.stats.messagesIn++;
    try {
      const size = byteLength(data);
      if (conn.kind === KIND_API) {
        if (size > this.limits.messageBytesMax) {
          this.stats.errorFrames++;
          conn.send(`{"id":null,"status":400,"error":{"code":${GW.TOO_MANY_PARAMETERS.code},"msg":"Message too large (max ${this.limits.messageBytesMax} bytes)."}}`);
          return;
        }
        this.api.onMessage(conn, textOf(data));
        return;
      }
      if (!conn.countInbound(this.gw.now())) {
        conn.close(CLOSE_POLICY, `Too many messages: more than ${this.limits.inboundMessagesPerSecondMax} per second`);
        return;
      }
      if (size > this.limits.messageBytesMax) {
        this.stats.errorFrames++;
        conn.send(errorFrame(ERR_INVALID_REQUEST, `Invalid request: message too large (max ${this.limits.messageBytesMax} bytes)`, 'null'));
        return;
      }
      this.control.onMessage(conn, textOf(data));
    } catch (e) {
      this.bug('message', e);
      conn.send(conn.kind === KIND_API
        ? `{"id":null,"status":500,"error":{"code":${GW.INTERNAL.code},"msg":"${GW.INTERNAL.msg}"}}`
        : errorFrame(ERR_INVALID_REQUEST, 'Internal error', 'null'));
    }
  }

  // ---- housekeeping ------------------------------------------------------------------

  private sweep(): void {
    this.users.sweep();
    const life = this.limits.connectionLifetimeMs;
    if (life <= 0) return;
    const now = this.gw.now();
    for (const c of this.conns) if (now - c.openedMs >= life) c.close(CLOSE_NORMAL, 'Connection lifetime reached; please reconnect.');
  }

  private pingAll(): void {
    for (const c of this.conns) {
      if (c.closed) continue;
      if (!c.alive) {
        this.stats.pingTimeouts++;
        c.closed = true;
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.socket.ping();
      } catch {
        c.socket.terminate();
      }
    }
  }

  close(graceMs = 0): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (this.unsubscribeHost !== null) this.unsubscribeHost();
    this.unsubscribeHost = null;
    for (const c of this.conns) {
      c.close(CLOSE_GOING_AWAY, 'Server shutting down.');
      const s = c.socket;
      const cut = setTimeout(() => s.terminate(), Math.max(0, Math.min(graceMs, this.limits.closeGraceMs)));
      cut.unref();
    }
  }
}

/** Serve WebSockets on `server` (its 'upgrade' event) for this gateway. */
export function attachWebSocket(gw: GatewayState, server: Server, limits: Partial<WsLimits> = {}): WsGateway {
  const ws = new WsServer(gw, { ...WS_LIMITS_DEFAULT, ...limits });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => ws.handleUpgrade(req, socket, head));
  return ws;
}
