// The limit order book of one symbol, usable on its own (the benchmark and other tools
// drive it directly) and as the matching stage of the engine.
//
// Data-oriented: orders and price levels live in pooled typed arrays (struct-of-arrays)
// addressed by slot; each level is an intrusive doubly linked FIFO of order slots; a
// paged price → level table and a hierarchical bitset per side give O(1) best price and
// O(log32 range) next-level search. Placing, matching and cancelling allocate nothing
// (the id → slot Map grows only when its table rehashes).
//
// Events are synchronous calls on a listener; the listener must not call back into the
// book while it is being notified.

import { HierBitset } from './bitset.ts';
import { IdSlotMap } from './id-map.ts';

export const BUY = 0;
export const SELL = 1;
export type Side = typeof BUY | typeof SELL;

export const STP_NONE = 0;
export const STP_EXPIRE_TAKER = 1;
export const STP_EXPIRE_MAKER = 2;
export const STP_EXPIRE_BOTH = 3;
export type StpMode = 0 | 1 | 2 | 3;

export const TIF_GTC = 0;
export const TIF_IOC = 1;
export const TIF_FOK = 2;
export const TIF_GTX = 3;
export type Tif = 0 | 1 | 2 | 3;

/** Outcome of OrderBook.place (also returned for the standalone API). */
export const PLACE_RESTED = 0; // (rest of) the order rests on the book
export const PLACE_FILLED = 1; // fully filled as taker
export const PLACE_EXPIRED = 2; // IOC remainder / FOK not fillable / GTX would take
export const PLACE_EXPIRED_STP = 3; // taker expired by self-trade prevention
export const PLACE_REJECTED_FULL = 4; // order or level pool exhausted: nothing rested
export type PlaceOutcome = 0 | 1 | 2 | 3 | 4;

export interface BookListener {
  /** A fill. The maker slot is still readable here; when makerRemainingLots is 0 it is freed right after. */
  onTrade(takerId: number, makerId: number, makerSlot: number, priceTicks: number, qtyLots: number, makerRemainingLots: number): void;
  /** Self-trade prevention (or a zero cap) removed a resting maker; its slot is freed right after. */
  onMakerExpired(makerId: number, makerSlot: number): void;
  /**
   * Only for makers rested with a non-zero flag (the engine's reduce-only orders): the most
   * this maker may fill right now. The cap belongs to the owner: fills of its other flagged
   * makers earlier in the same sweep reduce it one for one. Below its resting quantity the maker is trimmed to it
   * (0 expires it), so a reduce-only order can never grow a position mid-sweep.
   */
  makerCapLots(makerId: number, makerSlot: number): number;
}

export interface BookLimits {
  /** Highest price in ticks the book accepts (prices are 1..maxPriceTicks). */
  maxPriceTicks: number;
  /** Resting orders the pool holds. */
  maxOrders: number;
  /** Distinct price levels the pool holds. */
  maxLevels: number;
}

const NIL = -1;
const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;

const NOOP_LISTENER: BookListener = {
  onTrade() {},
  onMakerExpired() {},
  makerCapLots() { return Number.MAX_SAFE_INTEGER; },
};

export class OrderBook {
  readonly limits: BookLimits;
  listener: BookListener;

  // Order pool (struct of arrays, indexed by slot).
  readonly ordId: Float64Array;
  readonly ordOwner: Int32Array;
  readonly ordPrice: Int32Array;
  readonly ordQty: Float64Array;
  readonly ordSide: Uint8Array;
  readonly ordFlags: Uint8Array;
  private readonly ordNext: Int32Array;
  private readonly ordPrev: Int32Array;
  private readonly ordLevel: Int32Array;
  private ordFree: number;
  /** Slots at or above this were never used: taken in order once the free stack is empty. */
  private ordFresh = 0;
  private readonly idToSlot: IdSlotMap;
  private readonly capCounted = new Map<number, number>(); // fillableQty scratch: owner → capped lots

  // Level pool.
  private readonly lvHead: Int32Array;
  private readonly lvTail: Int32Array;
  private readonly lvQty: Float64Array;
  private readonly lvCount: Int32Array;
  private readonly lvPrice: Int32Array;
  private lvFree: number;
  private lvFresh = 0;
  private levelsInUse = 0;

  private readonly pages: (Int32Array | undefined)[];
  private readonly bidBits: HierBitset;
  private readonly askBits: HierBitset;
  private bestBidTicks = NIL;
  private bestAskTicks = NIL;

  /** Set by match(): true when self-trade prevention expired the taker. */
  stpTakerExpired = false;

  constructor(limits: BookLimits, listener: BookListener = NOOP_LISTENER) {
    const { maxPriceTicks, maxOrders, maxLevels } = limits;
    if (!(Number.isInteger(maxPriceTicks) && maxPriceTicks > 0 && maxPriceTicks < 2 ** 31)) throw new Error(`maxPriceTicks out of range: ${maxPriceTicks}`);
    if (!(Number.isInteger(maxOrders) && maxOrders > 0 && maxOrders < 2 ** 31)) throw new Error(`maxOrders out of range: ${maxOrders}`);
    if (!(Number.isInteger(maxLevels) && maxLevels > 0 && maxLevels < 2 ** 31)) throw new Error(`maxLevels out of range: ${maxLevels}`);
    this.limits = { maxPriceTicks, maxOrders, maxLevels };
    this.listener = listener;

    this.ordId = new Float64Array(maxOrders);
    this.ordOwner = new Int32Array(maxOrders);
    this.ordPrice = new Int32Array(maxOrders);
    this.ordQty = new Float64Array(maxOrders);
    this.ordSide = new Uint8Array(maxOrders);
    this.ordFlags = new Uint8Array(maxOrders);
    this.idToSlot = new IdSlotMap(maxOrders);
    this.ordNext = new Int32Array(maxOrders);
    this.ordPrev = new Int32Array(maxOrders);
    this.ordLevel = new Int32Array(maxOrders);
    // Pools hand out freed slots first (a stack threaded through ordNext / lvHead), then never-
    // used ones in order: the same sequence as a list pre-threaded 0 → 1 → …, without touching
    // every page of the pools at startup.
    this.ordFree = NIL;

    this.lvHead = new Int32Array(maxLevels);
    this.lvTail = new Int32Array(maxLevels);
    this.lvQty = new Float64Array(maxLevels);
    this.lvCount = new Int32Array(maxLevels);
    this.lvPrice = new Int32Array(maxLevels);
    this.lvFree = NIL;

    this.pages = new Array((maxPriceTicks >>> PAGE_BITS) + 1).fill(undefined);
    this.bidBits = new HierBitset(maxPriceTicks + 1);
    this.askBits = new HierBitset(maxPriceTicks + 1);
  }

  // ---- queries -------------------------------------------------------------------

  bestBid(): number { return this.bestBidTicks; }
  bestAsk(): number { return this.bestAskTicks; }
  orderCount(): number { return this.idToSlot.size; }
  levelCount(): number { return this.levelsInUse; }
  has(orderId: number): boolean { return this.idToSlot.has(orderId); }
  /** Slot of a resting order, or -1. */
  slotOf(orderId: number): number {
    return this.idToSlot.get(orderId);
  }

  /** Resting quantity at a price (either side; a price holds one side only), 0 if empty. */
  depthAt(priceTicks: number): number {
    const level = this.levelAt(priceTicks);
    return level === NIL ? 0 : this.lvQty[level]!;
  }

  /** Number of orders resting at a price. */
  countAt(priceTicks: number): number {
    const level = this.levelAt(priceTicks);
    return level === NIL ? 0 : this.lvCount[level]!;
  }

  /** Next non-empty level price strictly worse than priceTicks on a side, or -1. */
  nextLevel(side: Side, priceTicks: number): number {
    return side === BUY ? this.bidBits.highestAtOrBelow(priceTicks - 1) : this.askBits.lowestAtOrAbove(priceTicks + 1);
  }

  /** Up to maxLevels [price, qty] pairs from the best price outward (not for the hot path). */
  depth(side: Side, maxLevels: number): [number, number][] {
    const out: [number, number][] = [];
    let p = side === BUY ? this.bestBidTicks : this.bestAskTicks;
    while (p !== NIL && out.length < maxLevels) {
      out.push([p, this.lvQty[this.levelAt(p)]!]);
      p = this.nextLevel(side, p);
    }
    return out;
  }

  /** Resting order ids at a price in FIFO order (for tests, snapshots and tools). */
  idsAt(priceTicks: number): number[] {
    const out: number[] = [];
    const level = this.levelAt(priceTicks);
    if (level === NIL) return out;
    for (let s = this.lvHead[level]!; s !== NIL; s = this.ordNext[s]!) out.push(this.ordId[s]!);
    return out;
  }

  /** Visit every resting order of a side in priority order (best price first, FIFO). */
  forEachOrder(side: Side, visit: (slot: number) => void): void {
    let p = side === BUY ? this.bestBidTicks : this.bestAskTicks;
    while (p !== NIL) {
      const level = this.levelAt(p);
      for (let s = this.lvHead[level]!; s !== NIL; s = this.ordNext[s]!) visit(s);
      p = this.nextLevel(side, p);
    }
  }

  /**
   * Quantity a taker could fill right now up to maxQtyLots at or better than the limit,
   * honouring self-trade prevention the way match() would (used for FOK).
   */
  fillableQty(takerSide: Side, limitPriceTicks: number, maxQtyLots: number, takerOwner: number, stp: StpMode): number {
    let total = 0;
    this.capCounted.clear();
    let p = takerSide === BUY ? this.bestAskTicks : this.bestBidTicks;
    const makerSide: Side = takerSide === BUY ? SELL : BUY;
    while (p !== NIL && total < maxQtyLots && (takerSide === BUY ? p <= limitPriceTicks : p >= limitPriceTicks)) {
      const level = this.levelAt(p);
      // Walk orders, not level totals: self-trade prevention and reduce-only caps act per order.
      for (let s = this.lvHead[level]!; s !== NIL && total < maxQtyLots; s = this.ordNext[s]!) {
        if (stp !== STP_NONE && this.ordOwner[s] === takerOwner) {
          if (stp !== STP_EXPIRE_MAKER) return total; // taker would expire here
          continue;
        }
        const q = this.ordQty[s]!;
        if (this.ordFlags[s] !== 0) {
          // One owner's flagged makers share its cap: what earlier ones would fill uses it up.
          const owner = this.ordOwner[s]!;
          const used = this.capCounted.get(owner) ?? 0;
          const cap = this.listener.makerCapLots(this.ordId[s]!, s) - used;
          const take = cap < q ? (cap > 0 ? cap : 0) : q;
          this.capCounted.set(owner, used + take);
          total += take;
        } else {
          total += q;
        }
      }
      p = this.nextLevel(makerSide, p);
    }
    return total < maxQtyLots ? total : maxQtyLots;
  }

  /** True if an order on `side` at this price would take liquidity. */
  wouldCross(side: Side, priceTicks: number): boolean {
    return side === BUY
      ? this.bestAskTicks !== NIL && priceTicks >= this.bestAskTicks
      : this.bestBidTicks !== NIL && priceTicks <= this.bestBidTicks;
  }

  // ---- standalone order entry -----------------------------------------------------

  /**
   * Place a limit order: match as taker, then rest (GTC) or expire the remainder.
   * The remaining quantity after matching is left in `lastRemainingLots`.
   */
  lastRemainingLots = 0;
  place(orderId: number, owner: number, side: Side, priceTicks: number, qtyLots: number, tif: Tif, stp: StpMode = STP_NONE): PlaceOutcome {
    if (tif === TIF_GTX && this.wouldCross(side, priceTicks)) {
      this.lastRemainingLots = qtyLots;
      return PLACE_EXPIRED;
    }
    if (tif === TIF_FOK && this.fillableQty(side, priceTicks, qtyLots, owner, stp) < qtyLots) {
      this.lastRemainingLots = qtyLots;
      return PLACE_EXPIRED;
    }
    const remaining = this.match(orderId, owner, side, priceTicks, qtyLots, stp);
    this.lastRemainingLots = remaining;
    if (this.stpTakerExpired) return PLACE_EXPIRED_STP;
    if (remaining === 0) return PLACE_FILLED;
    if (tif !== TIF_GTC && tif !== TIF_GTX) return PLACE_EXPIRED;
    return this.rest(orderId, owner, side, priceTicks, remaining) === NIL ? PLACE_REJECTED_FULL : PLACE_RESTED;
  }

  /** Cancel a resting order. Returns its remaining quantity, or -1 if unknown. */
  cancel(orderId: number): number {
    const slot = this.idToSlot.get(orderId);
    if (slot === NIL) return NIL;
    const qty = this.ordQty[slot]!;
    this.removeSlot(slot);
    return qty;
  }

  /**
   * Modify price and/or quantity; the order loses its queue position (as on Binance) and
   * may match if the new price crosses. Returns the outcome, or -1 if unknown.
   */
  modify(orderId: number, newPriceTicks: number, newQtyLots: number, stp: StpMode = STP_NONE): PlaceOutcome | -1 {
    const slot = this.idToSlot.get(orderId);
    if (slot === NIL) return NIL;
    const owner = this.ordOwner[slot]!;
    const side = this.ordSide[slot]! as Side;
    this.removeSlot(slot);
    return this.place(orderId, owner, side, newPriceTicks, newQtyLots, TIF_GTC, stp);
  }

  // ---- matching stage (used by the engine) ----------------------------------------

  /**
   * Match a taker against the opposite side at prices no worse than limitPriceTicks.
   * Trades execute at the maker's price, in price-time priority. Returns the unfilled
   * quantity; `stpTakerExpired` says whether self-trade prevention stopped the taker.
   */
  match(takerId: number, takerOwner: number, side: Side, limitPriceTicks: number, qtyLots: number, stp: StpMode): number {
    this.stpTakerExpired = false;
    let remaining = qtyLots;
    const listener = this.listener;
    if (side === BUY) {
      while (remaining > 0 && this.bestAskTicks !== NIL && this.bestAskTicks <= limitPriceTicks) {
        remaining = this.matchLevel(takerId, takerOwner, this.levelAt(this.bestAskTicks), remaining, stp, listener);
        if (this.stpTakerExpired) break;
      }
    } else {
      while (remaining > 0 && this.bestBidTicks !== NIL && this.bestBidTicks >= limitPriceTicks) {
        remaining = this.matchLevel(takerId, takerOwner, this.levelAt(this.bestBidTicks), remaining, stp, listener);
        if (this.stpTakerExpired) break;
      }
    }
    return remaining;
  }

  private matchLevel(takerId: number, takerOwner: number, level: number, qtyLots: number, stp: StpMode, listener: BookListener): number {
    let remaining = qtyLots;
    const priceTicks = this.lvPrice[level]!;
    let slot = this.lvHead[level]!;
    while (remaining > 0 && slot !== NIL) {
      const next = this.ordNext[slot]!;
      const makerId = this.ordId[slot]!;
      if (stp !== STP_NONE && this.ordOwner[slot] === takerOwner) {
        if (stp === STP_EXPIRE_TAKER) {
          this.stpTakerExpired = true;
          return remaining;
        }
        listener.onMakerExpired(makerId, slot);
        this.removeSlot(slot); // may free the level; `next` stays valid within it
        if (stp === STP_EXPIRE_BOTH) {
          this.stpTakerExpired = true;
          return remaining;
        }
        slot = next;
        continue;
      }
      let makerQty = this.ordQty[slot]!;
      if (this.ordFlags[slot] !== 0) {
        const cap = listener.makerCapLots(makerId, slot);
        if (cap < makerQty) {
          if (cap <= 0) {
            listener.onMakerExpired(makerId, slot);
            this.removeSlot(slot);
            slot = next;
            continue;
          }
          this.lvQty[level] = this.lvQty[level]! - (makerQty - cap);
          this.ordQty[slot] = cap;
          makerQty = cap;
        }
      }
      const fill = makerQty < remaining ? makerQty : remaining;
      const makerLeft = makerQty - fill;
      remaining -= fill;
      this.ordQty[slot] = makerLeft;
      this.lvQty[level] = this.lvQty[level]! - fill;
      listener.onTrade(takerId, makerId, slot, priceTicks, fill, makerLeft);
      if (makerLeft === 0) this.removeSlot(slot);
      slot = next;
    }
    return remaining;
  }

  /** Put an order on the book without matching. Returns its slot, or -1 if a pool is full. */
  rest(orderId: number, owner: number, side: Side, priceTicks: number, qtyLots: number, flags = 0): number {
    if (!(priceTicks >= 1 && priceTicks <= this.limits.maxPriceTicks)) throw new Error(`price ${priceTicks} outside 1..${this.limits.maxPriceTicks}`);
    if (!(qtyLots > 0)) throw new Error(`resting quantity must be positive: ${qtyLots}`);
    if (this.wouldCross(side, priceTicks)) throw new Error(`resting order ${orderId} at ${priceTicks} would cross the book`);
    const fromStack = this.ordFree !== NIL;
    const slot = fromStack ? this.ordFree : this.ordFresh < this.limits.maxOrders ? this.ordFresh : NIL;
    if (slot === NIL) return NIL;
    let level = this.levelAt(priceTicks);
    if (level === NIL && this.lvFree === NIL && this.lvFresh >= this.limits.maxLevels) return NIL;
    // Throws on a duplicate id before anything changes; the pools above guarantee room.
    this.idToSlot.insert(orderId, slot);
    if (level === NIL) {
      if (this.lvFree !== NIL) {
        level = this.lvFree;
        this.lvFree = this.lvHead[level]!;
      } else {
        level = this.lvFresh++;
      }
      this.lvHead[level] = NIL;
      this.lvTail[level] = NIL;
      this.lvQty[level] = 0;
      this.lvCount[level] = 0;
      this.lvPrice[level] = priceTicks;
      this.levelsInUse++;
      this.setLevelAt(priceTicks, level);
      if (side === BUY) {
        this.bidBits.set(priceTicks);
        if (priceTicks > this.bestBidTicks) this.bestBidTicks = priceTicks;
      } else {
        this.askBits.set(priceTicks);
        if (this.bestAskTicks === NIL || priceTicks < this.bestAskTicks) this.bestAskTicks = priceTicks;
      }
    }
    if (fromStack) this.ordFree = this.ordNext[slot]!;
    else this.ordFresh++;
    this.ordId[slot] = orderId;
    this.ordOwner[slot] = owner;
    this.ordPrice[slot] = priceTicks;
    this.ordQty[slot] = qtyLots;
    this.ordSide[slot] = side;
    this.ordFlags[slot] = flags;
    this.ordLevel[slot] = level;
    // Append at the tail of the level's FIFO.
    const tail = this.lvTail[level]!;
    this.ordPrev[slot] = tail;
    this.ordNext[slot] = NIL;
    if (tail === NIL) this.lvHead[level] = slot;
    else this.ordNext[tail] = slot;
    this.lvTail[level] = slot;
    this.lvQty[level] = this.lvQty[level]! + qtyLots;
    this.lvCount[level] = this.lvCount[level]! + 1;
    return slot;
  }

  /** Reduce a resting order's quantity in place (keeps priority). newQtyLots > 0. */
  reduce(orderId: number, newQtyLots: number): boolean {
    const slot = this.idToSlot.get(orderId);
    if (slot === NIL) return false;
    const old = this.ordQty[slot]!;
    if (!(newQtyLots > 0 && newQtyLots <= old)) throw new Error(`reduce must shrink a live order: ${old} -> ${newQtyLots}`);
    const level = this.ordLevel[slot]!;
    this.ordQty[slot] = newQtyLots;
    this.lvQty[level] = this.lvQty[level]! - (old - newQtyLots);
    return true;
  }

  private removeSlot(slot: number): void {
    const level = this.ordLevel[slot]!;
    const prev = this.ordPrev[slot]!;
    const next = this.ordNext[slot]!;
    if (prev === NIL) this.lvHead[level] = next;
    else this.ordNext[prev] = next;
    if (next === NIL) this.lvTail[level] = prev;
    else this.ordPrev[next] = prev;
    this.lvQty[level] = this.lvQty[level]! - this.ordQty[slot]!;
    const count = this.lvCount[level]! - 1;
    this.lvCount[level] = count;
    this.idToSlot.delete(this.ordId[slot]!);
    this.ordQty[slot] = 0;
    this.ordNext[slot] = this.ordFree;
    this.ordFree = slot;
    if (count === 0) this.removeLevel(level, this.ordSide[slot]! as Side);
  }

  private removeLevel(level: number, side: Side): void {
    const priceTicks = this.lvPrice[level]!;
    this.setLevelAt(priceTicks, NIL);
    if (side === BUY) {
      this.bidBits.clear(priceTicks);
      if (priceTicks === this.bestBidTicks) this.bestBidTicks = this.bidBits.highestAtOrBelow(priceTicks - 1);
    } else {
      this.askBits.clear(priceTicks);
      if (priceTicks === this.bestAskTicks) this.bestAskTicks = this.askBits.lowestAtOrAbove(priceTicks + 1);
    }
    this.lvHead[level] = this.lvFree;
    this.lvFree = level;
    this.levelsInUse--;
  }

  private levelAt(priceTicks: number): number {
    const page = this.pages[priceTicks >>> PAGE_BITS];
    return page === undefined ? NIL : page[priceTicks & PAGE_MASK]!;
  }

  private setLevelAt(priceTicks: number, level: number): void {
    const pageIndex = priceTicks >>> PAGE_BITS;
    let page = this.pages[pageIndex];
    if (page === undefined) {
      page = new Int32Array(PAGE_SIZE).fill(NIL);
      this.pages[pageIndex] = page;
    }
    page[priceTicks & PAGE_MASK] = level;
  }
}
