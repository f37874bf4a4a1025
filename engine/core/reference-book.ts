// A naive, obviously-correct limit order book: the model the fast OrderBook is checked
// against (differential property tests in orderbook.test.ts). It is written from the
// matching rules, not from the fast code, and trades speed for legibility everywhere:
// every order is a plain object in one array per side, the array is re-sorted after
// every change, and every question is a linear scan. Never use it on a hot path.
//
// The rules it encodes:
// - Price-time priority: bids best-first by price descending, asks by price ascending;
//   at one price, the order that arrived first is first.
// - A taker trades against the best maker while that maker's price is no worse than the
//   taker's limit; the trade price is always the maker's price.
// - Self-trade prevention (the taker's mode decides), applied when the best maker belongs
//   to the taker's owner:
//     EXPIRE_TAKER — the taker stops there; that maker and everything behind it stay.
//     EXPIRE_MAKER — that maker is cancelled (onMakerExpired) and matching continues.
//     EXPIRE_BOTH  — that maker is cancelled and the taker stops.
// - GTC rests its remainder; IOC expires it; FOK executes only if a dry run on a copy of
//   the book fills it completely (so STP counts exactly as it would for real), otherwise
//   it changes nothing; GTX (post-only) expires untouched if anything on the other side
//   is at or better than its price, and otherwise rests.
// - A taker stopped by STP never rests (PLACE_EXPIRED_STP).
// - Resting needs a free order slot and, for a new price, a free level slot
//   (limits.maxOrders, limits.maxLevels); otherwise PLACE_REJECTED_FULL and the
//   remainder is dropped (trades already made stand).
// - modify = cancel + place as GTC (the order loses its queue position and may match).
// - reduce shrinks a resting order in place and keeps its position.

import {
  BUY,
  SELL,
  STP_NONE,
  STP_EXPIRE_TAKER,
  STP_EXPIRE_BOTH,
  TIF_GTC,
  TIF_IOC,
  TIF_FOK,
  TIF_GTX,
  PLACE_RESTED,
  PLACE_FILLED,
  PLACE_EXPIRED,
  PLACE_EXPIRED_STP,
  PLACE_REJECTED_FULL,
} from './orderbook.ts';
import type { BookLimits, BookListener, PlaceOutcome, Side, StpMode, Tif } from './orderbook.ts';

/** One resting order as both books can report it (tests compare these lists). */
export interface RestingOrder {
  id: number;
  owner: number;
  side: Side;
  priceTicks: number;
  qtyLots: number;
}

/** The standalone API shared by OrderBook and ReferenceBook (both satisfy it structurally). */
export interface BookApi {
  listener: BookListener;
  lastRemainingLots: number;
  place(orderId: number, owner: number, side: Side, priceTicks: number, qtyLots: number, tif: Tif, stp?: StpMode): PlaceOutcome;
  cancel(orderId: number): number;
  modify(orderId: number, newPriceTicks: number, newQtyLots: number, stp?: StpMode): PlaceOutcome | -1;
  reduce(orderId: number, newQtyLots: number): boolean;
  bestBid(): number;
  bestAsk(): number;
  depthAt(priceTicks: number): number;
  countAt(priceTicks: number): number;
  depth(side: Side, maxLevels: number): [number, number][];
  idsAt(priceTicks: number): number[];
  orderCount(): number;
  levelCount(): number;
  has(orderId: number): boolean;
}

interface RefOrder {
  id: number;
  owner: number;
  side: Side;
  priceTicks: number;
  qtyLots: number;
  /** Arrival number: the time in price-time priority. */
  seq: number;
}

const NONE = -1;

const SILENT: BookListener = {
  onTrade() {},
  onMakerExpired() {},
  makerCapLots() {
    return Number.MAX_SAFE_INTEGER; // never asked: this book rests no capped (reduce-only) makers
  },
};

export class ReferenceBook implements BookApi {
  readonly limits: BookLimits;
  listener: BookListener;
  lastRemainingLots = 0;
  /** Set by place(): true when self-trade prevention stopped the taker. */
  stpTakerExpired = false;

  private bids: RefOrder[] = [];
  private asks: RefOrder[] = [];
  private nextSeq = 0;

  constructor(limits: BookLimits, listener: BookListener = SILENT) {
    const { maxPriceTicks, maxOrders, maxLevels } = limits;
    for (const [name, v] of [['maxPriceTicks', maxPriceTicks], ['maxOrders', maxOrders], ['maxLevels', maxLevels]] as const) {
      if (!(Number.isInteger(v) && v > 0 && v < 2 ** 31)) throw new Error(`${name} out of range: ${v}`);
    }
    this.limits = { maxPriceTicks, maxOrders, maxLevels };
    this.listener = listener;
  }

  // ---- queries -------------------------------------------------------------------

  bestBid(): number {
    return this.bids.length === 0 ? NONE : this.bids[0]!.priceTicks;
  }

  bestAsk(): number {
    return this.asks.length === 0 ? NONE : this.asks[0]!.priceTicks;
  }

  orderCount(): number {
    return this.bids.length + this.asks.length;
  }

  levelCount(): number {
    return new Set(this.all().map((o) => o.priceTicks)).size;
  }

  has(orderId: number): boolean {
    return this.find(orderId) !== undefined;
  }

  /** Remaining quantity of a resting order, or -1. */
  qtyOf(orderId: number): number {
    const o = this.find(orderId);
    return o === undefined ? NONE : o.qtyLots;
  }

  depthAt(priceTicks: number): number {
    let sum = 0;
    for (const o of this.all()) if (o.priceTicks === priceTicks) sum += o.qtyLots;
    return sum;
  }

  countAt(priceTicks: number): number {
    return this.all().filter((o) => o.priceTicks === priceTicks).length;
  }

  depth(side: Side, maxLevels: number): [number, number][] {
    const out: [number, number][] = [];
    for (const o of this.sideOf(side)) {
      const last = out[out.length - 1];
      if (last !== undefined && last[0] === o.priceTicks) last[1] += o.qtyLots;
      else out.push([o.priceTicks, o.qtyLots]);
    }
    return out.slice(0, maxLevels);
  }

  idsAt(priceTicks: number): number[] {
    // Each side is kept in priority order, so filtering keeps the FIFO order.
    return this.all().filter((o) => o.priceTicks === priceTicks).map((o) => o.id);
  }

  /** Every resting order of a side in priority order (copies). */
  orders(side: Side): RestingOrder[] {
    return this.sideOf(side).map((o) => ({ id: o.id, owner: o.owner, side: o.side, priceTicks: o.priceTicks, qtyLots: o.qtyLots }));
  }

  /** Quantity a taker could fill right now (at most maxQtyLots), STP included: a dry run. */
  fillableQty(takerSide: Side, limitPriceTicks: number, maxQtyLots: number, takerOwner: number, stp: StpMode): number {
    return maxQtyLots - this.dryRunRemaining(takerSide, takerOwner, limitPriceTicks, maxQtyLots, stp);
  }

  // ---- order entry ---------------------------------------------------------------

  place(orderId: number, owner: number, side: Side, priceTicks: number, qtyLots: number, tif: Tif, stp: StpMode = STP_NONE): PlaceOutcome {
    this.stpTakerExpired = false;
    if (tif === TIF_GTX && this.sideOf(opposite(side)).some((m) => acceptable(side, priceTicks, m.priceTicks))) {
      this.lastRemainingLots = qtyLots;
      return PLACE_EXPIRED;
    }
    if (tif === TIF_FOK && this.dryRunRemaining(side, owner, priceTicks, qtyLots, stp) > 0) {
      this.lastRemainingLots = qtyLots;
      return PLACE_EXPIRED;
    }
    const remaining = this.take(orderId, owner, side, priceTicks, qtyLots, stp);
    this.lastRemainingLots = remaining;
    if (this.stpTakerExpired) return PLACE_EXPIRED_STP;
    if (remaining === 0) return PLACE_FILLED;
    if (tif === TIF_IOC || tif === TIF_FOK) return PLACE_EXPIRED;
    return this.rest(orderId, owner, side, priceTicks, remaining) ? PLACE_RESTED : PLACE_REJECTED_FULL;
  }

  cancel(orderId: number): number {
    const o = this.find(orderId);
    if (o === undefined) return NONE;
    this.remove(o);
    return o.qtyLots;
  }

  modify(orderId: number, newPriceTicks: number, newQtyLots: number, stp: StpMode = STP_NONE): PlaceOutcome | -1 {
    const o = this.find(orderId);
    if (o === undefined) return NONE;
    this.remove(o);
    return this.place(orderId, o.owner, o.side, newPriceTicks, newQtyLots, TIF_GTC, stp);
  }

  reduce(orderId: number, newQtyLots: number): boolean {
    const o = this.find(orderId);
    if (o === undefined) return false;
    if (!(newQtyLots > 0 && newQtyLots <= o.qtyLots)) throw new Error(`reduce must shrink a live order: ${o.qtyLots} -> ${newQtyLots}`);
    o.qtyLots = newQtyLots; // same object, same seq: priority kept
    return true;
  }

  // ---- internals -----------------------------------------------------------------

  /** Match a taker against the other side; returns its unfilled quantity. */
  private take(takerId: number, owner: number, side: Side, limitPriceTicks: number, qtyLots: number, stp: StpMode): number {
    let remaining = qtyLots;
    while (remaining > 0) {
      const maker = this.sideOf(opposite(side))[0];
      if (maker === undefined || !acceptable(side, limitPriceTicks, maker.priceTicks)) break;
      if (stp !== STP_NONE && maker.owner === owner) {
        if (stp === STP_EXPIRE_TAKER) {
          this.stpTakerExpired = true;
          break;
        }
        this.listener.onMakerExpired(maker.id, NONE);
        this.remove(maker);
        if (stp === STP_EXPIRE_BOTH) {
          this.stpTakerExpired = true;
          break;
        }
        continue; // EXPIRE_MAKER
      }
      const fill = Math.min(maker.qtyLots, remaining);
      maker.qtyLots -= fill;
      remaining -= fill;
      this.listener.onTrade(takerId, maker.id, NONE, maker.priceTicks, fill, maker.qtyLots);
      if (maker.qtyLots === 0) this.remove(maker);
    }
    return remaining;
  }

  /** What take() would leave unfilled, computed on a throw-away copy of the book. */
  private dryRunRemaining(side: Side, owner: number, limitPriceTicks: number, qtyLots: number, stp: StpMode): number {
    const copy = new ReferenceBook(this.limits, SILENT);
    copy.bids = this.bids.map((o) => ({ ...o }));
    copy.asks = this.asks.map((o) => ({ ...o }));
    copy.nextSeq = this.nextSeq;
    return copy.take(NONE, owner, side, limitPriceTicks, qtyLots, stp);
  }

  private rest(orderId: number, owner: number, side: Side, priceTicks: number, qtyLots: number): boolean {
    if (!(priceTicks >= 1 && priceTicks <= this.limits.maxPriceTicks)) throw new Error(`price ${priceTicks} outside 1..${this.limits.maxPriceTicks}`);
    if (!(qtyLots > 0)) throw new Error(`resting quantity must be positive: ${qtyLots}`);
    if (this.sideOf(opposite(side)).some((m) => acceptable(side, priceTicks, m.priceTicks))) {
      throw new Error(`resting order ${orderId} at ${priceTicks} would cross the book`);
    }
    if (this.has(orderId)) throw new Error(`order id ${orderId} already rests`);
    if (this.orderCount() >= this.limits.maxOrders) return false;
    const newLevel = !this.all().some((o) => o.priceTicks === priceTicks);
    if (newLevel && this.levelCount() >= this.limits.maxLevels) return false;
    this.sideOf(side).push({ id: orderId, owner, side, priceTicks, qtyLots, seq: this.nextSeq++ });
    this.sortAll();
    return true;
  }

  private remove(o: RefOrder): void {
    const list = this.sideOf(o.side);
    const i = list.indexOf(o);
    if (i < 0) throw new Error(`order ${o.id} is not on the book`);
    list.splice(i, 1);
    this.sortAll();
  }

  private sortAll(): void {
    this.bids.sort((a, b) => b.priceTicks - a.priceTicks || a.seq - b.seq);
    this.asks.sort((a, b) => a.priceTicks - b.priceTicks || a.seq - b.seq);
  }

  private find(orderId: number): RefOrder | undefined {
    return this.all().find((o) => o.id === orderId);
  }

  private all(): RefOrder[] {
    return [...this.bids, ...this.asks];
  }

  private sideOf(side: Side): RefOrder[] {
    return side === BUY ? this.bids : this.asks;
  }
}

function opposite(side: Side): Side {
  return side === BUY ? SELL : BUY;
}

/** Whether a taker on `takerSide` with this limit may trade at a maker's price. */
function acceptable(takerSide: Side, limitPriceTicks: number, makerPriceTicks: number): boolean {
  return takerSide === BUY ? makerPriceTicks <= limitPriceTicks : makerPriceTicks >= limitPriceTicks;
}
