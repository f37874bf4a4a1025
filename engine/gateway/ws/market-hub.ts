// Market streams: one Topic per canonical stream name, shared by every connection that
// subscribed to it, fed by host.subscribe (events) and host.query (snapshots).
//
//   diff depth     the host's book window (best diffDepthLevels per side) read every
//                  100/250/500 ms when something touched the symbol, diffed against the
//                  previous window (depth.ts). Update ids are host seqs, the same numbers
//                  REST /fapi/v1/depth returns as lastUpdateId: an event covers (pu, u],
//                  U = pu + 1, and the next event's pu is this u — gap-free per stream.
//   partial depth  the best 5/10/20 levels, pushed every interval.
//   bookTicker     as it happens: a book-touching event schedules one coalesced query
//                  (setImmediate) and a change of best bid/ask is pushed.
//   aggTrade       from trade events, pushed every 100 ms (or at once when
//                  AGG_TRADES_PENDING_MAX pile up); trade: each fill as it happens.
//   markPrice, ticker, miniTicker   queried every interval (1 s / 2 s / 3 s).
//   forceOrder     the latest liquidation order per symbol within each second.
//
// A query that fails (host closing, overloaded) is skipped: the next interval retries.

import type { AppliedCommand, BookTickerView, DepthView, ExchangeHost } from '../../host/host.ts';
import type { EngineEvent } from '../../core/events.ts';
import type { GatewayState } from '../context.ts';
import type { Markets } from '../markets.ts';
import type { WsConn } from './conn.ts';
import { diffSide } from './depth.ts';
import type { Levels } from './depth.ts';
import type { WsLimits } from './limits.ts';
import {
  aggTradeJson, bookTickerJson, depthEventJson, forceOrderJson, markPriceJson, miniTickerJson, tickerEventJson, tradeJson,
} from './market-events.ts';
import type { StreamSpec } from './streams.ts';
import {
  ALL_SYMBOLS, ST_AGG_TRADE, ST_BOOK_TICKER, ST_DIFF_DEPTH, ST_FORCE_ORDER, ST_MARK_PRICE, ST_MINI_TICKER, ST_PARTIAL_DEPTH, ST_TICKER, ST_TRADE,
} from './streams.ts';

type OrderEvent = Extract<EngineEvent, { type: 'order' }>;

/** aggTrade events waiting for the 100 ms push, per topic; at this many they go at once. */
export const AGG_TRADES_PENDING_MAX = 4_096;

class Topic {
  readonly spec: StreamSpec;
  readonly subs = new Set<WsConn>();
  /** `{"stream":"<name>","data":` — the combined envelope, built once. */
  readonly prefix: string;
  dead = false;
  nextDueMs = 0;
  querying = false;
  // Depth chain: the last window read (at baseU) and the last u sent.
  initialized = false;
  baseU = 0;
  prevU = 0;
  bids: Levels = [];
  asks: Levels = [];
  /** Prices touched by events since the window was read: price → seq of the last touch. */
  readonly touchedBids = new Map<number, number>();
  readonly touchedAsks = new Map<number, number>();
  /** aggTrade payloads waiting for the next push. */
  pending: string[] = [];
  /** forceOrder: symbol → latest liquidation order and its last fill. */
  readonly force = new Map<number, { order: OrderEvent; lastFillLots: number }>();

  constructor(spec: StreamSpec) {
    this.spec = spec;
    this.prefix = `{"stream":${JSON.stringify(spec.name)},"data":`;
  }
}

export class MarketHub {
  private readonly host: ExchangeHost;
  private readonly mk: Markets;
  private readonly now: () => number;
  private readonly limits: WsLimits;
  private readonly topics = new Map<string, Topic>();
  /** Topics by symbol (index symbolId + 1: 0 holds the all-symbol streams). */
  private readonly bySymbol: Topic[][];
  /** Highest host seq delivered to us. */
  lastSeq = 0;
  private readonly lastBookTicker: string[];
  private readonly bookTickerDirty = new Set<number>();
  private bookTickerScheduled = false;
  private bookTickerQuerying = false;
  private readonly flushBookTickersBound: () => void;

  constructor(gw: GatewayState, limits: WsLimits) {
    this.host = gw.host;
    this.mk = gw.markets;
    this.now = gw.now;
    this.limits = limits;
    this.bySymbol = Array.from({ length: this.mk.list.length + 1 }, () => []);
    this.lastBookTicker = new Array<string>(this.mk.list.length).fill('');
    this.flushBookTickersBound = () => this.flushBookTickers();
  }

  get topicCount(): number { return this.topics.size; }

  subscribe(conn: WsConn, spec: StreamSpec): void {
    let t = this.topics.get(spec.name);
    if (t === undefined) {
      t = new Topic(spec);
      t.nextDueMs = this.now();
      this.topics.set(spec.name, t);
      this.bySymbol[spec.symbolId + 1]!.push(t);
      if (spec.kind === ST_DIFF_DEPTH) this.readDiffWindow(t); // the chain starts now
    }
    t.subs.add(conn);
  }

  unsubscribe(conn: WsConn, name: string): void {
    const t = this.topics.get(name);
    if (t === undefined || !t.subs.delete(conn) || t.subs.size > 0) return;
    t.dead = true;
    this.topics.delete(name);
    const list = this.bySymbol[t.spec.symbolId + 1]!;
    list.splice(list.indexOf(t), 1);
  }

  // ---- events ------------------------------------------------------------------------

  /** Everything up to `seq` is reflected in snapshots (applied before we subscribed). */
  noteSeq(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  onApplied(a: AppliedCommand): void {
    this.noteSeq(a.seq);
    if (this.topics.size === 0) return;
    const events = a.events;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.type === 'order') this.onOrder(e, a.seq);
      else if (e.type === 'trade') this.onTrade(e.symbolId, e.tradeId, e.priceTicks, e.qtyLots, e.takerSide === 'SELL', a.nowMs, e.kind);
    }
  }

  private onOrder(e: OrderEvent, seq: number): void {
    const s = e.symbolId;
    let bookTouched = false;
    for (const t of this.bySymbol[s + 1]!) {
      const k = t.spec.kind;
      if (k === ST_DIFF_DEPTH && e.priceTicks > 0) (e.side === 'BUY' ? t.touchedBids : t.touchedAsks).set(e.priceTicks, seq);
      else if (k === ST_BOOK_TICKER) bookTouched = true;
      else if (k === ST_FORCE_ORDER && e.liquidation) this.noteForce(t, e);
    }
    for (const t of this.bySymbol[0]!) {
      if (t.spec.kind === ST_BOOK_TICKER) bookTouched = true;
      else if (t.spec.kind === ST_FORCE_ORDER && e.liquidation) this.noteForce(t, e);
    }
    if (bookTouched) {
      this.bookTickerDirty.add(s);
      if (!this.bookTickerScheduled) {
        this.bookTickerScheduled = true;
        setImmediate(this.flushBookTickersBound);
      }
    }
  }

  private noteForce(t: Topic, e: OrderEvent): void {
    const prev = t.force.get(e.symbolId);
    const lastFill = e.lastQtyLots > 0 ? e.lastQtyLots : prev !== undefined && prev.order.orderId === e.orderId ? prev.lastFillLots : 0;
    t.force.set(e.symbolId, { order: e, lastFillLots: lastFill });
  }

  private onTrade(symbolId: number, tradeId: number, priceTicks: number, qtyLots: number, buyerMaker: boolean, timeMs: number, kind: number): void {
    const m = this.mk.list[symbolId]!;
    let body = '';
    for (const t of this.bySymbol[symbolId + 1]!) {
      if (t.spec.kind === ST_TRADE) this.publish(t, tradeJson(m, this.now(), tradeId, priceTicks, qtyLots, timeMs, buyerMaker, kind));
      if (t.spec.kind !== ST_AGG_TRADE) continue;
      if (body === '') body = aggTradeJson(m, this.now(), tradeId, priceTicks, qtyLots, timeMs, buyerMaker);
      t.pending.push(body);
      if (t.pending.length >= AGG_TRADES_PENDING_MAX) this.flushAggTrades(t);
    }
  }

  // ---- periodic pushes ------------------------------------------------------------

  /** Called every tick (50 ms): push every topic whose interval has come round. */
  tick(): void {
    if (this.topics.size === 0) return;
    const now = this.now();
    for (const t of this.topics.values()) {
      const every = t.spec.intervalMs;
      if (every === 0 || now < t.nextDueMs) continue;
      t.nextDueMs = Math.max(t.nextDueMs + every, now);
      switch (t.spec.kind) {
        case ST_DIFF_DEPTH: this.readDiffWindow(t); break;
        case ST_PARTIAL_DEPTH: this.pushPartialDepth(t); break;
        case ST_AGG_TRADE: this.flushAggTrades(t); break;
        case ST_MARK_PRICE: this.pushMarkPrice(t); break;
        case ST_TICKER: case ST_MINI_TICKER: this.pushTicker(t); break;
        case ST_FORCE_ORDER: this.flushForce(t); break;
        default: break;
      }
    }
  }

  private publish(t: Topic, body: string): void {
    let combined = '';
    for (const c of t.subs) {
      if (!c.combined) c.send(body);
      else c.send(combined === '' ? (combined = `${t.prefix}${body}}`) : combined);
    }
  }

  private queryFailed(t: Topic): void {
    t.querying = false; // the next interval tries again
  }

  private readDiffWindow(t: Topic): void {
    if (t.querying || (t.initialized && t.touchedBids.size === 0 && t.touchedAsks.size === 0)) return;
    t.querying = true;
    this.host.query({ type: 'depth', symbolId: t.spec.symbolId, limit: this.limits.diffDepthLevels })
      .then((v) => this.onDiffWindow(t, v), () => this.queryFailed(t));
  }

  private onDiffWindow(t: Topic, v: DepthView): void {
    t.querying = false;
    const u = v.lastUpdateId;
    // A host on another thread may answer from a state whose events have not reached us
    // yet; their touched prices would be missing. Read again next interval.
    if (t.dead || u > this.lastSeq) return;
    if (!t.initialized) {
      t.initialized = true;
      t.baseU = u;
      t.prevU = u;
      this.adoptWindow(t, v, u);
      return;
    }
    if (u <= t.baseU) {
      prune(t.touchedBids, u);
      prune(t.touchedAsks, u);
      return;
    }
    const b = diffSide(t.bids, v.bids, t.touchedBids.keys(), true);
    const a = diffSide(t.asks, v.asks, t.touchedAsks.keys(), false);
    this.adoptWindow(t, v, u);
    if (b.length + a.length === 0) return; // no change: the next event still starts at prevU + 1
    const m = this.mk.list[t.spec.symbolId]!;
    this.publish(t, depthEventJson(m, this.now(), v.timeMs, t.prevU + 1, u, t.prevU, b, a));
    t.prevU = u;
  }

  private adoptWindow(t: Topic, v: DepthView, u: number): void {
    t.bids = v.bids;
    t.asks = v.asks;
    t.baseU = u;
    prune(t.touchedBids, u);
    prune(t.touchedAsks, u);
  }

  private pushPartialDepth(t: Topic): void {
    if (t.querying) return;
    t.querying = true;
    this.host.query({ type: 'depth', symbolId: t.spec.symbolId, limit: t.spec.levels }).then((v) => {
      t.querying = false;
      if (t.dead) return;
      const u = v.lastUpdateId;
      const first = t.initialized ? Math.min(t.prevU + 1, u) : u;
      const pu = t.initialized ? t.prevU : u;
      t.initialized = true;
      t.prevU = u;
      this.publish(t, depthEventJson(this.mk.list[t.spec.symbolId]!, this.now(), v.timeMs, first, u, pu, v.bids, v.asks));
    }, () => this.queryFailed(t));
  }

  private flushAggTrades(t: Topic): void {
    const list = t.pending;
    if (list.length === 0) return;
    t.pending = [];
    for (const body of list) this.publish(t, body);
  }

  private pushMarkPrice(t: Topic): void {
    if (t.querying) return;
    t.querying = true;
    this.host.query({ type: 'markPrice', symbolId: t.spec.symbolId }).then((rows) => {
      t.querying = false;
      if (t.dead) return;
      const now = this.now();
      const bodies = rows.map((v) => markPriceJson(this.mk.list[v.symbolId]!, v, now));
      if (t.spec.array) this.publish(t, `[${bodies.join(',')}]`);
      else for (const b of bodies) this.publish(t, b);
    }, () => this.queryFailed(t));
  }

  private pushTicker(t: Topic): void {
    if (t.querying) return;
    t.querying = true;
    this.host.query({ type: 'ticker24h', symbolId: t.spec.symbolId }).then((rows) => {
      t.querying = false;
      if (t.dead) return;
      const now = this.now();
      const mini = t.spec.kind === ST_MINI_TICKER;
      const bodies = rows.map((v) => (mini ? miniTickerJson(this.mk, v, now) : tickerEventJson(this.mk, v, now)));
      if (t.spec.array) this.publish(t, `[${bodies.join(',')}]`);
      else for (const b of bodies) this.publish(t, b);
    }, () => this.queryFailed(t));
  }

  private flushForce(t: Topic): void {
    if (t.force.size === 0) return;
    const now = this.now();
    for (const [s, f] of t.force) this.publish(t, forceOrderJson(this.mk.list[s]!, f.order, f.lastFillLots, now));
    t.force.clear();
  }

  // ---- bookTicker (real time, coalesced per event-loop turn) --------------------------

  private flushBookTickers(): void {
    this.bookTickerScheduled = false;
    if (this.bookTickerQuerying || this.bookTickerDirty.size === 0) return;
    const dirty = Array.from(this.bookTickerDirty);
    this.bookTickerDirty.clear();
    this.bookTickerQuerying = true;
    const done = (): void => {
      this.bookTickerQuerying = false;
      if (this.bookTickerDirty.size > 0 && !this.bookTickerScheduled) {
        this.bookTickerScheduled = true;
        setImmediate(this.flushBookTickersBound);
      }
    };
    this.host.query({ type: 'bookTicker', symbolId: dirty.length === 1 ? dirty[0]! : ALL_SYMBOLS }).then((rows) => {
      done();
      for (const v of rows) if (dirty.includes(v.symbolId)) this.pushBookTicker(v);
    }, done);
  }

  private pushBookTicker(v: BookTickerView): void {
    const key = `${v.bidTicks},${v.bidLots},${v.askTicks},${v.askLots}`;
    if (this.lastBookTicker[v.symbolId] === key) return;
    this.lastBookTicker[v.symbolId] = key;
    let body = '';
    for (const list of [this.bySymbol[v.symbolId + 1]!, this.bySymbol[0]!]) {
      for (const t of list) {
        if (t.spec.kind !== ST_BOOK_TICKER) continue;
        if (body === '') body = bookTickerJson(this.mk.list[v.symbolId]!, v, this.now());
        this.publish(t, body);
      }
    }
  }
}

/** Forget touches already reflected in a window read at `u`. */
function prune(touched: Map<number, number>, u: number): void {
  for (const [p, seq] of touched) if (seq <= u) touched.delete(p);
}
