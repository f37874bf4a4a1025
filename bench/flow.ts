// A seeded, realistic order flow for the matching-only benchmark, generated ahead of time
// into a preallocated struct-of-typed-arrays buffer so the timed loop only reads numbers
// (no per-command objects, nothing for the GC to do on our side).
//
// The flow, per command:
// - The mid price is a random walk (a 1-tick step with probability midStepProb, with an
//   occasional larger jump), so resting quotes go stale and later re-quotes cross them.
// - Market makers own a fixed ladder of quote slots (quotesPerSide per side, 1 tick
//   apart, a little jitter). Picking a slot: if its order is gone (filled or cancelled)
//   the maker quotes it again (GTC); if it still rests the maker cancels it or modifies it
//   to the current ladder price and a new size (modify loses priority and may cross).
// - Takers send IOC orders: half "market-ish" (limit 50 ticks through the mid) and half
//   tight limits; sizes are mostly small with a heavy tail that sweeps several levels.
// - Other takers send marketable GTC limits whose remainders rest; they are cancelled
//   later from a small ring (an order that is still there when its ring slot comes round).
// A shadow OrderBook replays every command as it is generated, so cancels and modifies
// target orders that really rest at that moment (a real client knows its open orders).
// Everything is deterministic from the seed.

import { OrderBook, BUY, SELL, TIF_GTC, TIF_IOC } from '../engine/core/orderbook.ts';
import type { BookListener, Side, Tif } from '../engine/core/orderbook.ts';
import { Prng } from './prng.ts';

export const OP_PLACE = 0;
export const OP_CANCEL = 1;
export const OP_MODIFY = 2;

/** Commands as parallel typed arrays; entry i is one command. */
export interface Flow {
  readonly count: number;
  readonly op: Uint8Array;
  /** Order id (place: new id; cancel/modify: the target). */
  readonly id: Float64Array;
  readonly owner: Int32Array;
  readonly side: Uint8Array;
  /** Limit price in ticks (place) or new price (modify); 0 for cancel. */
  readonly price: Int32Array;
  /** Quantity in lots (place) or new quantity (modify); 0 for cancel. */
  readonly qty: Int32Array;
  readonly tif: Uint8Array;
  readonly stats: FlowStats;
  readonly options: Required<FlowOptions>;
}

export interface FlowStats {
  places: number;
  placesGtc: number;
  placesIoc: number;
  cancels: number;
  modifies: number;
  /** As executed on the shadow book. */
  trades: number;
  tradedLots: number;
  maxRestingOrders: number;
  restingOrdersAtEnd: number;
  finalMidTicks: number;
}

export interface FlowOptions {
  seed?: number;
  commands?: number;
  makers?: number;
  quotesPerSide?: number;
  takers?: number;
  startMidTicks?: number;
  maxPriceTicks?: number;
  /** Probability per command that the mid moves. */
  midStepProb?: number;
  /** Share of commands that are IOC takers. */
  iocShare?: number;
  /** Share of commands that are marketable GTC takers (or their cancels). */
  gtcTakerShare?: number;
  /** When a maker's quote still rests: probability it is cancelled (else modified). */
  cancelVsModify?: number;
}

export const FLOW_DEFAULTS: Required<FlowOptions> = {
  seed: 1,
  commands: 1_200_000,
  makers: 100,
  quotesPerSide: 10,
  takers: 200,
  startMidTicks: 500_000,
  maxPriceTicks: 1 << 20,
  midStepProb: 0.03,
  iocShare: 0.1,
  gtcTakerShare: 0.05,
  cancelVsModify: 0.6,
};

/** Book limits that comfortably hold any flow generated with these options. */
export function flowBookLimits(o: Required<FlowOptions>): { maxPriceTicks: number; maxOrders: number; maxLevels: number } {
  return { maxPriceTicks: o.maxPriceTicks, maxOrders: 1 << 16, maxLevels: 1 << 14 };
}

const TAKER_RING = 64;
const MARKETISH_TICKS = 50;

/** Counts trades and traded lots; shared by the flow's shadow book and the matching bench. */
export class CountingListener implements BookListener {
  trades = 0;
  tradedLots = 0;
  onTrade(_t: number, _m: number, _s: number, _p: number, qtyLots: number): void {
    this.trades++;
    this.tradedLots += qtyLots;
  }
  onMakerExpired(): void {}
  makerCapLots(): number {
    return Number.MAX_SAFE_INTEGER;
  }
}

export function generateFlow(options: FlowOptions = {}): Flow {
  const o: Required<FlowOptions> = { ...FLOW_DEFAULTS, ...options };
  const n = o.commands;
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`commands must be a positive integer: ${n}`);
  const rng = new Prng(o.seed);
  const listener = new CountingListener();
  const shadow = new OrderBook(flowBookLimits(o), listener);
  const op = new Uint8Array(n);
  const id = new Float64Array(n);
  const owner = new Int32Array(n);
  const side = new Uint8Array(n);
  const price = new Int32Array(n);
  const qty = new Int32Array(n);
  const tif = new Uint8Array(n);
  const stats: FlowStats = { places: 0, placesGtc: 0, placesIoc: 0, cancels: 0, modifies: 0, trades: 0, tradedLots: 0, maxRestingOrders: 0, restingOrdersAtEnd: 0, finalMidTicks: 0 };

  const slotsPerMaker = 2 * o.quotesPerSide;
  const quoteId = new Float64Array(o.makers * slotsPerMaker); // 0 = empty
  const takerRing = new Float64Array(TAKER_RING);
  const takerRingOwner = new Int32Array(TAKER_RING);
  let ringPos = 0;
  let nextId = 1;
  let mid = o.startMidTicks;
  const lo = 2 * MARKETISH_TICKS + 20 * o.quotesPerSide;
  const hi = o.maxPriceTicks - lo;

  const emit = (i: number, k: number, oid: number, who: number, s: Side, p: number, q: number, t: Tif): void => {
    op[i] = k;
    id[i] = oid;
    owner[i] = who;
    side[i] = s;
    price[i] = p;
    qty[i] = q;
    tif[i] = t;
    if (k === OP_PLACE) {
      stats.places++;
      if (t === TIF_GTC) stats.placesGtc++;
      else stats.placesIoc++;
      shadow.place(oid, who, s, p, q, t);
    } else if (k === OP_CANCEL) {
      stats.cancels++;
      shadow.cancel(oid);
    } else {
      stats.modifies++;
      shadow.modify(oid, p, q);
    }
    const resting = shadow.orderCount();
    if (resting > stats.maxRestingOrders) stats.maxRestingOrders = resting;
  };

  for (let i = 0; i < n; i++) {
    if (rng.chance(o.midStepProb)) {
      const step = rng.chance(0.05) ? 1 + rng.int(8) : 1; // mostly ticks, sometimes a jump
      mid += rng.chance(0.5) ? step : -step;
      if (mid < lo) mid = lo;
      if (mid > hi) mid = hi;
    }
    const r = rng.float();
    if (r < o.iocShare) {
      // IOC taker: market-ish (far through the mid) or a tight limit.
      const s: Side = rng.chance(0.5) ? BUY : SELL;
      const through = rng.chance(0.5) ? MARKETISH_TICKS : rng.int(4);
      const p = s === BUY ? mid + through : mid - through;
      const q = rng.chance(0.8) ? 1 + rng.int(20) : 20 + rng.int(180);
      emit(i, OP_PLACE, nextId++, o.makers + rng.int(o.takers), s, p, q, TIF_IOC);
    } else if (r < o.iocShare + o.gtcTakerShare) {
      // Marketable GTC limit; its remainder rests until its ring slot comes round again.
      const old = takerRing[ringPos]!;
      if (old !== 0 && shadow.has(old)) {
        emit(i, OP_CANCEL, old, takerRingOwner[ringPos]!, BUY, 0, 0, TIF_GTC);
        takerRing[ringPos] = 0;
      } else {
        const s: Side = rng.chance(0.5) ? BUY : SELL;
        const p = s === BUY ? mid + rng.int(3) : mid - rng.int(3);
        const who = o.makers + rng.int(o.takers);
        const oid = nextId++;
        takerRing[ringPos] = oid;
        takerRingOwner[ringPos] = who;
        emit(i, OP_PLACE, oid, who, s, p, 1 + rng.int(30), TIF_GTC);
      }
      ringPos = (ringPos + 1) % TAKER_RING;
    } else {
      // A market maker touches one quote slot of its ladder.
      const m = rng.int(o.makers);
      const k = rng.int(slotsPerMaker);
      const slot = m * slotsPerMaker + k;
      const s: Side = k < o.quotesPerSide ? BUY : SELL;
      const level = k % o.quotesPerSide;
      const offset = 1 + level + rng.int(2);
      const p = s === BUY ? mid - offset : mid + offset;
      const q = 1 + rng.int(10) * (level + 1);
      const live = quoteId[slot]!;
      if (live !== 0 && shadow.has(live)) {
        if (rng.chance(o.cancelVsModify)) {
          emit(i, OP_CANCEL, live, m, s, 0, 0, TIF_GTC);
          quoteId[slot] = 0;
        } else {
          emit(i, OP_MODIFY, live, m, s, p, q, TIF_GTC);
        }
      } else {
        const oid = nextId++;
        quoteId[slot] = oid;
        emit(i, OP_PLACE, oid, m, s, p, q, TIF_GTC);
      }
    }
  }
  stats.trades = listener.trades;
  stats.tradedLots = listener.tradedLots;
  stats.restingOrdersAtEnd = shadow.orderCount();
  stats.finalMidTicks = mid;
  return { count: n, op, id, owner, side, price, qty, tif, stats, options: o };
}

/** A short digest of a flow (FNV-1a over all fields), to pin workloads in tests and reports. */
export function flowDigest(f: Flow): string {
  let h = 0x811c9dc5;
  const mix = (v: number): void => {
    h = Math.imul(h ^ (v & 0xffff), 0x01000193);
    h = Math.imul(h ^ (v >>> 16), 0x01000193);
  };
  for (let i = 0; i < f.count; i++) {
    mix(f.op[i]!);
    mix(f.id[i]! >>> 0);
    mix(f.owner[i]!);
    mix(f.side[i]!);
    mix(f.price[i]!);
    mix(f.qty[i]!);
    mix(f.tif[i]!);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
