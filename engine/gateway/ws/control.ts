// Control messages on stream connections, Binance's protocol:
//
//   {"method":"SUBSCRIBE","params":["btcusdt@depth@100ms", …],"id":1}   → {"result":null,"id":1}
//   {"method":"UNSUBSCRIBE","params":[…],"id":2}                        → {"result":null,"id":2}
//   {"method":"LIST_SUBSCRIPTIONS","id":3}                              → {"result":[…],"id":3}
//   {"method":"SET_PROPERTY","params":["combined",true],"id":4}         → {"result":null,"id":4}
//   {"method":"GET_PROPERTY","params":["combined"],"id":5}              → {"result":true,"id":5}
//
// Anything else gets an error frame {"error":{"code","msg"},"id"} with Binance's codes:
// 0 unknown property, 1 invalid value type, 2 invalid request, 3 invalid JSON. A listen key
// in SUBSCRIBE starts that account's user data on this connection (one key per connection).
// SUBSCRIBE is all-or-nothing: one bad name and nothing changes.

import type { GatewayState } from '../context.ts';
import type { WsConn } from './conn.ts';
import type { MarketHub } from './market-hub.ts';
import type { WsStats } from './limits.ts';
import { looksLikeListenKey, parseStream } from './streams.ts';
import type { StreamSpec } from './streams.ts';
import type { UserHub } from './user-hub.ts';

export const ERR_UNKNOWN_PROPERTY = 0;
export const ERR_VALUE_TYPE = 1;
export const ERR_INVALID_REQUEST = 2;
export const ERR_INVALID_JSON = 3;

const METHODS = 'SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY';

export function errorFrame(code: number, msg: string, id: string): string {
  return `{"error":{"code":${code},"msg":${JSON.stringify(msg)}},"id":${id}}`;
}

/** A request id as JSON: unsigned integer, string (≤ 64 chars) or null; undefined if invalid. */
function idOf(v: unknown): string | undefined {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && v.length <= 64) return JSON.stringify(v);
  return undefined;
}

/** What a stream position names: a market stream, or a live listen key (its account). */
export type Resolved = { spec: StreamSpec; accountId: -1; listenKey: '' } | { spec: null; accountId: number; listenKey: string };

/** Resolve a stream name; a string error message when it is neither. */
export function resolveStream(gw: GatewayState, name: string): Resolved | string {
  const spec = parseStream(gw.markets, name);
  if (spec !== null) return { spec, accountId: -1, listenKey: '' };
  if (looksLikeListenKey(name)) {
    const accountId = gw.listenKeys.accountOf(name, gw.now());
    if (accountId < 0) return 'Invalid request: this listenKey does not exist or has expired';
    return { spec: null, accountId, listenKey: name };
  }
  return `Invalid request: unknown stream '${name.slice(0, 80)}'`;
}

export class StreamControl {
  private readonly gw: GatewayState;
  private readonly market: MarketHub;
  private readonly users: UserHub;
  private readonly stats: WsStats;

  constructor(gw: GatewayState, market: MarketHub, users: UserHub, stats: WsStats) {
    this.gw = gw;
    this.market = market;
    this.users = users;
    this.stats = stats;
  }

  private fail(conn: WsConn, code: number, msg: string, id: string): void {
    this.stats.errorFrames++;
    conn.send(errorFrame(code, msg, id));
  }

  onMessage(conn: WsConn, text: string): void {
    let req: unknown;
    try {
      req = JSON.parse(text);
    } catch (e) {
      this.fail(conn, ERR_INVALID_JSON, `Invalid JSON: ${(e as Error).message.slice(0, 120)}`, 'null');
      return;
    }
    if (req === null || typeof req !== 'object' || Array.isArray(req)) {
      this.fail(conn, ERR_INVALID_REQUEST, 'Invalid request: expected an object {"method","params","id"}', 'null');
      return;
    }
    const r = req as { method?: unknown; params?: unknown; id?: unknown };
    const id = idOf(r.id);
    if (id === undefined) {
      this.fail(conn, ERR_INVALID_REQUEST, 'Invalid request: request ID must be an unsigned integer', 'null');
      return;
    }
    switch (r.method) {
      case 'SUBSCRIBE': this.subscribe(conn, r.params, id); break;
      case 'UNSUBSCRIBE': this.unsubscribe(conn, r.params, id); break;
      case 'LIST_SUBSCRIPTIONS': conn.send(`{"result":${JSON.stringify(Array.from(conn.streams))},"id":${id}}`); break;
      case 'SET_PROPERTY': this.setProperty(conn, r.params, id); break;
      case 'GET_PROPERTY': this.getProperty(conn, r.params, id); break;
      default:
        this.fail(conn, ERR_INVALID_REQUEST, `Invalid request: unknown variant ${JSON.stringify(String(r.method)).slice(0, 60)}, expected one of ${METHODS}`, id);
    }
  }

  private names(conn: WsConn, params: unknown, id: string): string[] | null {
    if (!Array.isArray(params) || params.length === 0 || !params.every((p) => typeof p === 'string')) {
      this.fail(conn, ERR_INVALID_REQUEST, 'Invalid request: params must be a non-empty array of stream names', id);
      return null;
    }
    if (params.length > conn.limits.streamsPerConnectionMax) {
      this.fail(conn, ERR_INVALID_REQUEST, `Invalid request: at most ${conn.limits.streamsPerConnectionMax} streams per connection`, id);
      return null;
    }
    return params as string[];
  }

  private subscribe(conn: WsConn, params: unknown, id: string): void {
    const names = this.names(conn, params, id);
    if (names === null) return;
    const specs: StreamSpec[] = [];
    let user: { accountId: number; listenKey: string } | null = null;
    let added = 0;
    for (const n of names) {
      const res = resolveStream(this.gw, n);
      if (typeof res === 'string') {
        this.fail(conn, ERR_INVALID_REQUEST, res, id);
        return;
      }
      if (res.spec !== null) {
        if (!conn.streams.has(res.spec.name)) added++;
        specs.push(res.spec);
      } else if (conn.listenKey !== res.listenKey || conn.accountId < 0) {
        if (conn.accountId >= 0 || user !== null) {
          this.fail(conn, ERR_INVALID_REQUEST, 'Invalid request: one listenKey per connection', id);
          return;
        }
        user = res;
        added++;
      }
    }
    if (conn.streams.size + added > conn.limits.streamsPerConnectionMax) {
      this.fail(conn, ERR_INVALID_REQUEST, `Invalid request: at most ${conn.limits.streamsPerConnectionMax} streams per connection`, id);
      return;
    }
    for (const s of specs) {
      if (conn.streams.has(s.name)) continue;
      conn.streams.add(s.name);
      this.market.subscribe(conn, s);
    }
    if (user !== null) {
      conn.streams.add(user.listenKey);
      this.users.attach(conn, user.listenKey, user.accountId);
    }
    conn.send(`{"result":null,"id":${id}}`);
  }

  private unsubscribe(conn: WsConn, params: unknown, id: string): void {
    const names = this.names(conn, params, id);
    if (names === null) return;
    for (const n of names) {
      const spec = parseStream(this.gw.markets, n);
      const name = spec === null ? n : spec.name;
      if (!conn.streams.has(name)) continue;
      if (name === conn.listenKey && conn.accountId >= 0) this.users.detach(conn);
      else {
        conn.streams.delete(name);
        this.market.unsubscribe(conn, name);
      }
    }
    conn.send(`{"result":null,"id":${id}}`);
  }

  private setProperty(conn: WsConn, params: unknown, id: string): void {
    if (!Array.isArray(params) || params.length !== 2 || params[0] !== 'combined') {
      this.fail(conn, ERR_UNKNOWN_PROPERTY, 'Unknown property', id);
      return;
    }
    if (typeof params[1] !== 'boolean') {
      this.fail(conn, ERR_VALUE_TYPE, 'Invalid value type: expected Boolean', id);
      return;
    }
    conn.combined = params[1];
    conn.send(`{"result":null,"id":${id}}`);
  }

  private getProperty(conn: WsConn, params: unknown, id: string): void {
    if (!Array.isArray(params) || params.length !== 1 || params[0] !== 'combined') {
      this.fail(conn, ERR_UNKNOWN_PROPERTY, 'Unknown property', id);
      return;
    }
    conn.send(`{"result":${conn.combined},"id":${id}}`);
  }
}
