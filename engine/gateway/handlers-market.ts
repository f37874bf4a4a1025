// Public market-data endpoints (no key, IP weight only).

import type { Ctx } from './context.ts';
import { ok } from './context.ts';
import { exchangeInfoJson } from './exchange-info.ts';
import { limitParam, uintParam } from './handler-kit.ts';
import type { Markets, SymbolCtx } from './markets.ts';
import { price, qty, rate } from './markets.ts';
import type { Params } from './params.ts';
import type { BookTickerView, MarkView, Ticker24hView } from '../host/host.ts';
import { trimZeros } from './responses.ts';

export function ping(ctx: Ctx): void {
  ok(ctx, '{}');
}

export function time(ctx: Ctx): void {
  ok(ctx, `{"serverTime":${ctx.gw.now()}}`);
}

export function exchangeInfo(ctx: Ctx): void {
  ok(ctx, exchangeInfoJson(ctx.gw.exchangeInfoTail, ctx.gw.now()));
}

export const DEPTH_LIMIT_MAX = 1_000;

export function depthWeight(p: Params): number {
  const n = Number(p.get('limit') ?? 500);
  return n <= 50 ? 2 : n <= 100 ? 5 : n <= 500 ? 10 : 20;
}

function levels(m: SymbolCtx, rows: [number, number][]): string {
  let s = '[';
  for (let i = 0; i < rows.length; i++) s += `${i === 0 ? '' : ','}["${price(m, rows[i]![0])}","${qty(m, rows[i]![1])}"]`;
  return `${s}]`;
}

export async function depth(ctx: Ctx): Promise<void> {
  const m = ctx.gw.markets.symbol(ctx.params.get('symbol'));
  const limit = limitParam(ctx.params, 500, DEPTH_LIMIT_MAX);
  const d = await ctx.gw.host.query({ type: 'depth', symbolId: m.id, limit });
  ok(ctx, `{"lastUpdateId":${d.lastUpdateId},"E":${ctx.gw.now()},"T":${d.timeMs},"bids":${levels(m, d.bids)},"asks":${levels(m, d.asks)}}`);
}

export async function trades(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const m = mk.symbol(ctx.params.get('symbol'));
  const limit = limitParam(ctx.params, 500, 1_000);
  const rows = await ctx.gw.host.query({ type: 'trades', symbolId: m.id, limit });
  ok(ctx, JSON.stringify(rows.map((t) => ({
    id: t.tradeId, price: price(m, t.priceTicks), qty: qty(m, t.qtyLots), quoteQty: mk.money(t.quoteUnits), time: t.timeMs,
    isBuyerMaker: t.takerSide === 'SELL',
  }))));
}

/** One aggregate per fill (the core reports fills individually). */
export async function aggTrades(ctx: Ctx): Promise<void> {
  const p = ctx.params;
  const m = ctx.gw.markets.symbol(p.get('symbol'));
  const limit = limitParam(p, 500, 1_000);
  const fromId = uintParam(p, 'fromId', 0);
  const start = uintParam(p, 'startTime', 0);
  const end = uintParam(p, 'endTime', 0);
  let rows = await ctx.gw.host.query({ type: 'trades', symbolId: m.id, limit: 1_000 });
  rows = rows.filter((t) => t.tradeId >= fromId && (start === 0 || t.timeMs >= start) && (end === 0 || t.timeMs <= end));
  rows = fromId > 0 || start > 0 ? rows.slice(0, limit) : rows.slice(Math.max(0, rows.length - limit));
  ok(ctx, JSON.stringify(rows.map((t) => ({
    a: t.tradeId, p: price(m, t.priceTicks), q: qty(m, t.qtyLots), f: t.tradeId, l: t.tradeId, T: t.timeMs, m: t.takerSide === 'SELL',
  }))));
}

/** Weight of endpoints that cost more without a symbol. */
export function perSymbolWeight(one: number, all: number): (p: Params) => number {
  return (p) => (p.get('symbol') ?? '') === '' ? all : one;
}

function symbolIdOrAll(mk: Markets, p: Params): number {
  const m = mk.optionalSymbol(p.get('symbol'));
  return m === undefined ? -1 : m.id;
}

function one<T>(p: Params, rows: T[]): T | T[] {
  return (p.get('symbol') ?? '') === '' ? rows : rows[0]!;
}

/** priceChangePercent with 3 decimals, truncated toward zero, from integer ticks. */
function percent(change: number, open: number): string {
  if (open === 0) return '0.000';
  const milli = Math.trunc((change * 100_000) / open); // exact enough: ticks < 2^31
  const neg = milli < 0;
  const s = String(Math.abs(milli)).padStart(4, '0');
  return `${neg ? '-' : ''}${s.slice(0, -3)}.${s.slice(-3)}`;
}

export function tickerJson(mk: Markets, t: Ticker24hView): object {
  const m = mk.list[t.symbolId]!;
  const change = t.count === 0 ? 0 : t.lastTicks - t.openTicks;
  const quote = mk.moneyText(t.quoteVolumeUnits);
  return {
    symbol: m.name, priceChange: price(m, change), priceChangePercent: percent(change, t.openTicks),
    weightedAvgPrice: weightedAvg(m, t), lastPrice: price(m, t.lastTicks), lastQty: qty(m, t.lastQtyLots),
    openPrice: price(m, t.openTicks), highPrice: price(m, t.highTicks), lowPrice: price(m, t.lowTicks),
    volume: qty(m, t.volumeLots), quoteVolume: trimZeros(quote), openTime: t.openTimeMs, closeTime: t.closeTimeMs,
    firstId: t.firstId, lastId: t.lastId, count: t.count,
  };
}

function weightedAvg(m: SymbolCtx, t: Ticker24hView): string {
  if (t.volumeLots === 0) return price(m, 0);
  // quote units / (lots × unitsPerTickLot) ticks → E8 price, floored; BigInt (quote may pass 2^53).
  const e8 = (BigInt(t.quoteVolumeUnits) * BigInt(m.spec.tickE8)) / (BigInt(t.volumeLots) * BigInt(m.spec.unitsPerTickLot));
  const s = e8.toString().padStart(9, '0');
  return trimZeros(`${s.slice(0, -8)}.${s.slice(-8)}`);
}

export async function ticker24h(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const rows = await ctx.gw.host.query({ type: 'ticker24h', symbolId: symbolIdOrAll(mk, ctx.params) });
  ok(ctx, JSON.stringify(one(ctx.params, rows.map((t) => tickerJson(mk, t)))));
}

export async function tickerPrice(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const sym = symbolIdOrAll(mk, ctx.params);
  const [tk, marks] = await Promise.all([ctx.gw.host.query({ type: 'ticker24h', symbolId: sym }), ctx.gw.host.query({ type: 'markPrice', symbolId: sym })]);
  const rows = tk.map((t, i) => {
    const m = mk.list[t.symbolId]!;
    const last = t.lastTicks !== 0 ? t.lastTicks : marks[i]!.markTicks;
    return { symbol: m.name, price: price(m, last), time: marks[i]!.timeMs };
  });
  ok(ctx, JSON.stringify(one(ctx.params, rows)));
}

function bookTickerJson(mk: Markets, b: BookTickerView): object {
  const m = mk.list[b.symbolId]!;
  return {
    symbol: m.name, bidPrice: price(m, Math.max(0, b.bidTicks)), bidQty: qty(m, b.bidLots), askPrice: price(m, Math.max(0, b.askTicks)),
    askQty: qty(m, b.askLots), time: b.timeMs, lastUpdateId: b.lastUpdateId,
  };
}

export async function bookTicker(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const rows = await ctx.gw.host.query({ type: 'bookTicker', symbolId: symbolIdOrAll(mk, ctx.params) });
  ok(ctx, JSON.stringify(one(ctx.params, rows.map((b) => bookTickerJson(mk, b)))));
}

function premiumJson(mk: Markets, v: MarkView): object {
  const m = mk.list[v.symbolId]!;
  return {
    symbol: m.name, markPrice: price(m, v.markTicks), indexPrice: price(m, v.indexTicks), estimatedSettlePrice: price(m, v.indexTicks),
    lastFundingRate: rate(v.fundingRateE8), interestRate: rate(v.interestRateE8), nextFundingTime: v.nextFundingTimeMs, time: v.timeMs,
  };
}

export async function premiumIndex(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const rows = await ctx.gw.host.query({ type: 'markPrice', symbolId: symbolIdOrAll(mk, ctx.params) });
  ok(ctx, JSON.stringify(one(ctx.params, rows.map((v) => premiumJson(mk, v)))));
}

export async function fundingRate(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const p = ctx.params;
  const rows = await ctx.gw.host.query({
    type: 'fundingHistory', symbolId: symbolIdOrAll(mk, p), startTimeMs: uintParam(p, 'startTime', 0),
    endTimeMs: uintParam(p, 'endTime', 0), limit: limitParam(p, 100, 1_000),
  });
  ok(ctx, JSON.stringify(rows.map((f) => {
    const m = mk.list[f.symbolId]!;
    return { symbol: m.name, fundingRate: rate(f.rateE8), fundingTime: f.timeMs, markPrice: price(m, f.markTicks) };
  })));
}
