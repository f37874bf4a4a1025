// Market stream payloads, Binance USDⓈ-M field names, decimal strings, built as template
// strings from engine integers (the same conversions as REST: markets.ts, handlers-market.ts).

import type { EngineEvent } from '../../core/events.ts';
import type { BookTickerView, MarkView, Ticker24hView } from '../../host/host.ts';
import { tickerJson } from '../handlers-market.ts';
import type { Markets, SymbolCtx } from '../markets.ts';
import { price, qty, rate, ratioPrice } from '../markets.ts';
import type { Levels } from './depth.ts';

type OrderEvent = Extract<EngineEvent, { type: 'order' }>;

export function levelsJson(m: SymbolCtx, rows: Levels): string {
  let s = '[';
  for (let i = 0; i < rows.length; i++) s += `${i === 0 ? '' : ','}["${price(m, rows[i]![0])}","${qty(m, rows[i]![1])}"]`;
  return `${s}]`;
}

/** Diff and partial depth share one shape: U..u the update ids covered, pu the previous u. */
export function depthEventJson(m: SymbolCtx, eventMs: number, engineMs: number, firstU: number, lastU: number, prevU: number,
  bids: Levels, asks: Levels): string {
  return `{"e":"depthUpdate","E":${eventMs},"T":${engineMs},"s":"${m.name}","U":${firstU},"u":${lastU},"pu":${prevU},`
    + `"b":${levelsJson(m, bids)},"a":${levelsJson(m, asks)}}`;
}

export function bookTickerJson(m: SymbolCtx, v: BookTickerView, eventMs: number): string {
  return `{"e":"bookTicker","u":${v.lastUpdateId},"s":"${m.name}","b":"${price(m, Math.max(0, v.bidTicks))}","B":"${qty(m, v.bidLots)}",`
    + `"a":"${price(m, Math.max(0, v.askTicks))}","A":"${qty(m, v.askLots)}","T":${v.timeMs},"E":${eventMs}}`;
}

/** One fill = one aggregate, as REST /fapi/v1/aggTrades reports (ids agree across both). */
export function aggTradeJson(m: SymbolCtx, eventMs: number, tradeId: number, priceTicks: number, qtyLots: number, timeMs: number, buyerMaker: boolean): string {
  return `{"e":"aggTrade","E":${eventMs},"a":${tradeId},"s":"${m.name}","p":"${price(m, priceTicks)}","q":"${qty(m, qtyLots)}",`
    + `"f":${tradeId},"l":${tradeId},"T":${timeMs},"m":${buyerMaker}}`;
}

const TRADE_KINDS = ['MARKET', 'LIQUIDATION', 'ADL'];

/** Raw trade (real time); X: MARKET, LIQUIDATION (a liquidation order took) or ADL. */
export function tradeJson(m: SymbolCtx, eventMs: number, tradeId: number, priceTicks: number, qtyLots: number, timeMs: number, buyerMaker: boolean, kind: number): string {
  return `{"e":"trade","E":${eventMs},"T":${timeMs},"s":"${m.name}","t":${tradeId},"p":"${price(m, priceTicks)}","q":"${qty(m, qtyLots)}",`
    + `"X":"${TRADE_KINDS[kind]}","m":${buyerMaker}}`;
}

/** markPriceUpdate; estimated settle price = index (as REST premiumIndex). */
export function markPriceJson(m: SymbolCtx, v: MarkView, eventMs: number): string {
  return `{"e":"markPriceUpdate","E":${eventMs},"s":"${m.name}","p":"${price(m, v.markTicks)}","i":"${price(m, v.indexTicks)}",`
    + `"P":"${price(m, v.indexTicks)}","r":"${rate(v.fundingRateE8)}","T":${v.nextFundingTimeMs}}`;
}

interface TickerRest {
  symbol: string; priceChange: string; priceChangePercent: string; weightedAvgPrice: string; lastPrice: string; lastQty: string;
  openPrice: string; highPrice: string; lowPrice: string; volume: string; quoteVolume: string; openTime: number; closeTime: number;
  firstId: number; lastId: number; count: number;
}

/** 24hrTicker from the same numbers as REST /fapi/v1/ticker/24hr. */
export function tickerEventJson(mk: Markets, v: Ticker24hView, eventMs: number): string {
  const t = tickerJson(mk, v) as TickerRest;
  return `{"e":"24hrTicker","E":${eventMs},"s":"${t.symbol}","p":"${t.priceChange}","P":"${t.priceChangePercent}","w":"${t.weightedAvgPrice}",`
    + `"c":"${t.lastPrice}","Q":"${t.lastQty}","o":"${t.openPrice}","h":"${t.highPrice}","l":"${t.lowPrice}","v":"${t.volume}",`
    + `"q":"${t.quoteVolume}","O":${t.openTime},"C":${t.closeTime},"F":${t.firstId},"L":${t.lastId},"n":${t.count}}`;
}

export function miniTickerJson(mk: Markets, v: Ticker24hView, eventMs: number): string {
  const t = tickerJson(mk, v) as TickerRest;
  return `{"e":"24hrMiniTicker","E":${eventMs},"s":"${t.symbol}","c":"${t.lastPrice}","o":"${t.openPrice}","h":"${t.highPrice}",`
    + `"l":"${t.lowPrice}","v":"${t.volume}","q":"${t.quoteVolume}"}`;
}

/** forceOrder: the latest state of a liquidation order; lastFillLots = its last fill. */
export function forceOrderJson(m: SymbolCtx, o: OrderEvent, lastFillLots: number, eventMs: number): string {
  return `{"e":"forceOrder","E":${eventMs},"o":{"s":"${m.name}","S":"${o.side}","o":"${o.orderType}","f":"${o.tif}","q":"${qty(m, o.origQtyLots)}",`
    + `"p":"${price(m, o.priceTicks)}","ap":"${ratioPrice(m, o.cumQuoteUnits, o.executedQtyLots)}","X":"${o.status}",`
    + `"l":"${qty(m, lastFillLots)}","z":"${qty(m, o.executedQtyLots)}","T":${o.updateTimeMs}}}`;
}
