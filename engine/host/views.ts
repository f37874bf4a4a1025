// Read-only views over the engine's public state (plus the event projections), in engine
// integers. Runs where the engine lives (the host's thread); nothing here mutates either.

import type { Engine } from '../core/engine.ts';
import { ORDER_TYPE_NAMES, SIDE_NAMES, STATUS_NAMES, STP_NAMES, TIF_NAMES } from '../core/events.ts';
import { ceilDiv } from '../core/int.ts';
import { F_CONDITIONAL, F_LIQUIDATION, F_REDUCE_ONLY, F_WORKING_MARK } from '../core/orders.ts';
import type {
  AccountView, AlgoOrderView, BookTickerView, DepthView, MarkView, OrderView, PositionView, QueryMap, TotalsView, UserTradeView,
} from './host.ts';
import type { Projections } from './projections.ts';

const PRICE_NEVER = 2 ** 31; // liquidationKey's "never" for shorts

export function orderViewAt(engine: Engine, r: number): OrderView {
  const o = engine.orders;
  const flags = o.flags[r]!;
  return {
    orderId: o.id[r]!, clientOrderId: o.getClientId(r), accountId: o.account[r]!, symbolId: o.symbol[r]!,
    side: SIDE_NAMES[o.side[r]!]!, orderType: ORDER_TYPE_NAMES[o.type[r]!]!, tif: TIF_NAMES[o.tif[r]!]!,
    status: STATUS_NAMES[o.status[r]!]!, priceTicks: o.price[r]!, triggerPriceTicks: o.trigger[r]!,
    origQtyLots: o.origQty[r]!, executedQtyLots: o.execQty[r]!, cumQuoteUnits: o.cumQuote[r]!,
    reduceOnly: (flags & F_REDUCE_ONLY) !== 0, stpMode: STP_NAMES[o.stp[r]!]!,
    workingType: (flags & F_WORKING_MARK) !== 0 ? 'MARK_PRICE' : 'CONTRACT_PRICE', liquidation: (flags & F_LIQUIDATION) !== 0,
    timeMs: o.timeMs[r]!, updateTimeMs: o.updateMs[r]!,
  };
}

function isConditionalSlot(engine: Engine, r: number): boolean {
  return (engine.orders.flags[r]! & F_CONDITIONAL) !== 0;
}

function validAccount(engine: Engine, a: number): boolean {
  return Number.isSafeInteger(a) && a >= 0 && a < engine.accountCount;
}
function validSymbol(engine: Engine, s: number): boolean {
  return Number.isSafeInteger(s) && s >= 0 && s < engine.nSymbols;
}

/** Open orders (resting: conditional = false; waiting for a trigger: true), ascending id. */
export function openOrders(engine: Engine, a: number, sym: number, conditional: boolean): OrderView[] {
  if (!validAccount(engine, a) || (sym !== -1 && !validSymbol(engine, sym))) return [];
  const out: OrderView[] = [];
  for (const r of engine.openOrderSlots(a, sym)) if (isConditionalSlot(engine, r) === conditional) out.push(orderViewAt(engine, r));
  return out;
}

export function openAlgoOrders(engine: Engine, a: number, sym: number): AlgoOrderView[] {
  return openOrders(engine, a, sym, true).map((o) => ({ ...o, algoStatus: 'NEW', triggerTimeMs: 0 }));
}

export function findOrder(engine: Engine, proj: Projections, q: QueryMap['order']['req']): OrderView | null {
  if (!validAccount(engine, q.accountId) || !validSymbol(engine, q.symbolId)) return null;
  const byId = q.orderId > 0;
  if (!byId && q.clientOrderId === '') return null;
  const o = engine.orders;
  for (const r of engine.openOrderSlots(q.accountId, q.symbolId)) {
    if (isConditionalSlot(engine, r)) continue;
    if (byId ? o.id[r] === q.orderId : o.getClientId(r) === q.clientOrderId) return orderViewAt(engine, r);
  }
  if (byId) {
    const h = proj.ordersById.get(q.orderId);
    return h !== undefined && h.accountId === q.accountId && h.symbolId === q.symbolId ? h : null;
  }
  return proj.orders.findLatest(q.accountId, (h) => h.symbolId === q.symbolId && h.clientOrderId === q.clientOrderId) ?? null;
}

export function findAlgoOrder(engine: Engine, proj: Projections, q: QueryMap['algoOrder']['req']): AlgoOrderView | null {
  if (!validAccount(engine, q.accountId)) return null;
  const byId = q.algoId > 0;
  if (!byId && q.clientAlgoId === '') return null;
  for (const v of openAlgoOrders(engine, q.accountId, -1)) {
    if (byId ? v.orderId === q.algoId : v.clientOrderId === q.clientAlgoId) return v;
  }
  if (byId) {
    const h = proj.algosById.get(q.algoId);
    return h !== undefined && h.accountId === q.accountId ? h : null;
  }
  return proj.algos.findLatest(q.accountId, (h) => h.clientOrderId === q.clientAlgoId) ?? null;
}

function inRange(t: number, start: number, end: number): boolean {
  return (start === 0 || t >= start) && (end === 0 || t <= end);
}

/** Open and terminal orders of one symbol, ascending id, from fromOrderId, within time, first `limit`. */
export function allOrders(engine: Engine, proj: Projections, q: QueryMap['allOrders']['req']): OrderView[] {
  if (!validAccount(engine, q.accountId) || !validSymbol(engine, q.symbolId)) return [];
  const rows = proj.orders.list(q.accountId).filter((h) => h.symbolId === q.symbolId);
  for (const v of openOrders(engine, q.accountId, q.symbolId, false)) rows.push(v);
  return pickRange(rows, (v) => v.orderId, (v) => v.timeMs, q.fromOrderId, q.startTimeMs, q.endTimeMs, q.limit);
}

export function allAlgoOrders(engine: Engine, proj: Projections, q: QueryMap['allAlgoOrders']['req']): AlgoOrderView[] {
  if (!validAccount(engine, q.accountId) || !validSymbol(engine, q.symbolId)) return [];
  const rows = proj.algos.list(q.accountId).filter((h) => h.symbolId === q.symbolId);
  for (const v of openAlgoOrders(engine, q.accountId, q.symbolId)) rows.push(v);
  return pickRange(rows, (v) => v.orderId, (v) => v.timeMs, q.fromAlgoId, q.startTimeMs, q.endTimeMs, q.limit);
}

export function userTrades(engine: Engine, proj: Projections, q: QueryMap['userTrades']['req']): UserTradeView[] {
  if (!validAccount(engine, q.accountId) || !validSymbol(engine, q.symbolId)) return [];
  const rows = proj.trades.list(q.accountId).filter((t) => t.symbolId === q.symbolId);
  return pickRange(rows, (t) => t.tradeId, (t) => t.timeMs, q.fromId, q.startTimeMs, q.endTimeMs, q.limit);
}

/**
 * Binance semantics: with a from-id, the first `limit` rows at or after it; otherwise the
 * newest `limit` rows within the time range. Result ascending by id.
 */
function pickRange<T>(rows: T[], id: (x: T) => number, time: (x: T) => number, fromId: number, start: number, end: number, limit: number): T[] {
  rows.sort((x, y) => id(x) - id(y));
  if (fromId > 0) return rows.filter((x) => id(x) >= fromId && inRange(time(x), start, end)).slice(0, limit);
  const within = rows.filter((x) => inRange(time(x), start, end));
  return within.slice(Math.max(0, within.length - limit));
}

export function positionView(engine: Engine, proj: Projections, a: number, sym: number): PositionView {
  const s = engine.symbols[sym]!;
  const p = a * engine.nSymbols + sym;
  const q = engine.posQty[p]!;
  const cost = engine.posCost[p]!;
  const lev = engine.leverage[p]!;
  const mark = engine.markets[sym]!.markTicks;
  const u = s.unitsPerTickLot;
  const notional = q * mark * u;
  let orderIm = 0;
  let bid = 0;
  let ask = 0;
  let open = 0;
  const o = engine.orders;
  for (const r of engine.openOrderSlots(a, sym)) {
    open++;
    if (isConditionalSlot(engine, r)) continue;
    orderIm += o.reserved[r]!;
    const n = (o.origQty[r]! - o.execQty[r]!) * o.price[r]! * u;
    if (o.side[r] === 0) bid += n;
    else ask += n;
  }
  let liq = 0;
  if (q !== 0) {
    const key = engine.liquidationKey(a, sym);
    liq = key >= PRICE_NEVER ? 0 : key;
  }
  return {
    symbolId: sym, qtyLots: q, costUnits: cost, leverage: lev, markTicks: mark, notionalUnits: notional,
    unrealizedUnits: q === 0 ? 0 : notional - cost, positionInitialMarginUnits: q === 0 ? 0 : ceilDiv(Math.abs(notional), lev),
    openOrderInitialMarginUnits: orderIm, maintMarginUnits: engine.maintMargin(s, Math.abs(notional)), liquidationTicks: liq,
    maxNotionalUnits: engine.maxNotionalAt(s, lev), bidNotionalUnits: bid, askNotionalUnits: ask, openOrders: open,
    updateTimeMs: proj.positionUpdateMs.get(p) ?? 0,
  };
}

export function accountView(engine: Engine, proj: Projections, a: number): AccountView | null {
  if (!validAccount(engine, a)) return null;
  const positions: PositionView[] = [];
  let unrealized = 0;
  for (let s = 0; s < engine.nSymbols; s++) {
    const v = positionView(engine, proj, a, s);
    unrealized += v.unrealizedUnits;
    positions.push(v);
  }
  const wallet = engine.wallet[a]!;
  const available = engine.availableUnits(a);
  return {
    accountId: a, walletUnits: wallet, unrealizedUnits: unrealized, marginBalanceUnits: engine.equityUnits(a),
    positionInitialMarginUnits: engine.positionMarginUnits(a), openOrderInitialMarginUnits: engine.orderMargin[a]!,
    maintMarginUnits: engine.maintMarginUnits(a), availableUnits: available,
    maxWithdrawUnits: Math.max(0, Math.min(available, wallet)), updateTimeMs: proj.balanceUpdateMs.get(a) ?? 0, positions,
  };
}

export function depthView(engine: Engine, seq: number, sym: number, limit: number): DepthView {
  const book = engine.books[sym]!;
  return { lastUpdateId: seq, timeMs: engine.nowMs, bids: book.depth(0, limit), asks: book.depth(1, limit) };
}

function symbolsOf(engine: Engine, sym: number): number[] {
  if (sym >= 0) return validSymbol(engine, sym) ? [sym] : [];
  return Array.from({ length: engine.nSymbols }, (_, i) => i);
}

export function bookTickers(engine: Engine, seq: number, sym: number): BookTickerView[] {
  return symbolsOf(engine, sym).map((s) => {
    const book = engine.books[s]!;
    const bid = book.bestBid();
    const ask = book.bestAsk();
    return {
      symbolId: s, bidTicks: bid, bidLots: bid < 0 ? 0 : book.depthAt(bid), askTicks: ask, askLots: ask < 0 ? 0 : book.depthAt(ask),
      lastUpdateId: seq, timeMs: engine.nowMs,
    };
  });
}

export function markViews(engine: Engine, sym: number): MarkView[] {
  return symbolsOf(engine, sym).map((s) => {
    const m = engine.markets[s]!;
    return {
      symbolId: s, markTicks: m.markTicks, indexTicks: m.indexTicks, fundingRateE8: engine.estimatedFundingRateE8(s),
      lastSettledRateE8: m.lastFundingRateE8, interestRateE8: engine.symbols[s]!.interestPerIntervalE8,
      nextFundingTimeMs: m.nextFundingTimeMs, timeMs: engine.nowMs,
    };
  });
}

export function tickers(engine: Engine, proj: Projections, sym: number) {
  return symbolsOf(engine, sym).map((s) => proj.tickers[s]!.view(engine.nowMs));
}

export function publicTrades(engine: Engine, proj: Projections, sym: number, limit: number) {
  return validSymbol(engine, sym) ? proj.publicTrades[sym]!.newest(limit) : [];
}

export function fundingHistory(engine: Engine, proj: Projections, q: QueryMap['fundingHistory']['req']) {
  const rows = [];
  for (const s of symbolsOf(engine, q.symbolId)) {
    const ring = proj.funding[s]!;
    for (let i = 0; i < ring.length; i++) rows.push(ring.at(i));
  }
  rows.sort((x, y) => x.timeMs - y.timeMs || x.symbolId - y.symbolId);
  // Binance: the oldest `limit` rows from startTime, else the newest `limit` rows.
  const within = rows.filter((f) => inRange(f.timeMs, q.startTimeMs, q.endTimeMs));
  return q.startTimeMs > 0 ? within.slice(0, q.limit) : within.slice(Math.max(0, within.length - q.limit));
}

export function totals(engine: Engine, seq: number): TotalsView {
  return {
    seq, nowMs: engine.nowMs, accounts: engine.accountCount, depositsUnits: engine.depositsUnits,
    withdrawalsUnits: engine.withdrawalsUnits, insuranceUnits: engine.insuranceUnits, feesUnits: engine.feesUnits,
    ledgerUnits: engine.ledgerUnits(),
    openInterest: Array.from({ length: engine.nSymbols }, (_, s) => ({ symbolId: s, ...engine.openInterest(s) })),
  };
}
