// Binance USDⓈ-M response bodies from engine integers. Numbers are decimal strings, ids
// integers, times ms. Order bodies are on the hot path: built as one template string
// (field values are numbers, fixed enums, or JSON.stringify-escaped ids).

import { mulDivCeil } from '../core/int.ts';
import type { AccountView, AlgoOrderView, OrderView, PositionView, UserTradeView } from '../host/host.ts';
import type { Markets, SymbolCtx } from './markets.ts';
import { price, qty, ratioPrice } from './markets.ts';

/** The order fields common to the `order` event and OrderView. */
export type OrderLike = Pick<OrderView, 'orderId' | 'clientOrderId' | 'symbolId' | 'side' | 'orderType' | 'tif' | 'status' | 'priceTicks'
  | 'triggerPriceTicks' | 'origQtyLots' | 'executedQtyLots' | 'cumQuoteUnits' | 'reduceOnly' | 'stpMode' | 'workingType' | 'timeMs' | 'updateTimeMs'>;

/** POST/PUT/DELETE order (withTime = false) and GET order (true). */
export function orderJson(mk: Markets, o: OrderLike, withTime: boolean): string {
  const m = mk.list[o.symbolId]!;
  const exec = qty(m, o.executedQtyLots);
  return `{"orderId":${o.orderId},"symbol":"${m.name}","status":"${o.status}","clientOrderId":${JSON.stringify(o.clientOrderId)},`
    + `"price":"${price(m, o.priceTicks)}","avgPrice":"${ratioPrice(m, o.cumQuoteUnits, o.executedQtyLots)}","origQty":"${qty(m, o.origQtyLots)}",`
    + `"executedQty":"${exec}","cumQty":"${exec}","cumQuote":"${mk.money(o.cumQuoteUnits)}","timeInForce":"${o.tif}","type":"${o.orderType}",`
    + `"reduceOnly":${o.reduceOnly},"closePosition":false,"side":"${o.side}","positionSide":"BOTH","stopPrice":"${price(m, o.triggerPriceTicks)}",`
    + `"workingType":"${o.workingType}","priceProtect":false,"origType":"${o.orderType}","priceMatch":"NONE",`
    + `"selfTradePreventionMode":"${o.stpMode}","goodTillDate":0,${withTime ? `"time":${o.timeMs},` : ''}"updateTime":${o.updateTimeMs}}`;
}

export function ordersJson(mk: Markets, list: readonly OrderLike[], withTime: boolean): string {
  let s = '[';
  for (let i = 0; i < list.length; i++) s += (i === 0 ? '' : ',') + orderJson(mk, list[i]!, withTime);
  return `${s}]`;
}

/** Conditional order (POST/GET/openAlgoOrders); `detail` adds actualOrderId/actualPrice (GET). */
export function algoJson(mk: Markets, a: OrderLike & { algoStatus: string; triggerTimeMs: number }, detail: boolean): string {
  const m = mk.list[a.symbolId]!;
  const triggered = a.algoStatus === 'TRIGGERED' || a.algoStatus === 'FINISHED';
  const extra = detail ? `,"actualOrderId":"${triggered ? a.orderId : ''}","actualPrice":"${ratioPrice(m, a.cumQuoteUnits, a.executedQtyLots)}"` : '';
  return `{"algoId":${a.orderId},"clientAlgoId":${JSON.stringify(a.clientOrderId)},"algoType":"CONDITIONAL","orderType":"${a.orderType}",`
    + `"symbol":"${m.name}","side":"${a.side}","positionSide":"BOTH","timeInForce":"${a.tif}","quantity":"${qty(m, a.origQtyLots)}",`
    + `"algoStatus":"${a.algoStatus}","triggerPrice":"${price(m, a.triggerPriceTicks)}","price":"${price(m, a.priceTicks)}",`
    + `"icebergQuantity":null,"selfTradePreventionMode":"${a.stpMode}","workingType":"${a.workingType}","priceMatch":"NONE",`
    + `"closePosition":false,"priceProtect":false,"reduceOnly":${a.reduceOnly},"createTime":${a.timeMs},"updateTime":${a.updateTimeMs},`
    + `"triggerTime":${a.triggerTimeMs},"goodTillDate":0${extra}}`;
}

export function algosJson(mk: Markets, list: readonly AlgoOrderView[], detail: boolean): string {
  return `[${list.map((a) => algoJson(mk, a, detail)).join(',')}]`;
}

export function userTradeJson(mk: Markets, t: UserTradeView): string {
  const m = mk.list[t.symbolId]!;
  return JSON.stringify({
    buyer: t.side === 'BUY', commission: mk.money(t.feeUnits), commissionAsset: mk.marginAsset, id: t.tradeId, maker: t.maker,
    orderId: t.orderId, price: price(m, t.priceTicks), qty: qty(m, t.qtyLots), quoteQty: mk.money(t.quoteUnits),
    realizedPnl: mk.money(t.realizedPnlUnits), side: t.side, positionSide: 'BOTH', symbol: m.name, time: t.timeMs,
  });
}

/** Decimal text without trailing fractional zeros ("1000000.00000000" → "1000000"). */
export function trimZeros(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

export function entryPrice(m: SymbolCtx, p: Pick<PositionView, 'qtyLots' | 'costUnits'>): string {
  return p.qtyLots === 0 ? '0.0' : ratioPrice(m, p.costUnits, p.qtyLots);
}

/** Break-even: entry adjusted by the taker fee paid to open (long: up, short: down), in cost units. */
export function breakEvenPrice(m: SymbolCtx, p: Pick<PositionView, 'qtyLots' | 'costUnits'>): string {
  if (p.qtyLots === 0) return '0.0';
  const fee = mulDivCeil(Math.abs(p.costUnits), m.spec.takerFeeE8, 100_000_000);
  const units = Math.abs(p.costUnits) + (p.qtyLots > 0 ? fee : -fee);
  return ratioPrice(m, units, p.qtyLots);
}

function positionIm(p: PositionView): number {
  return p.positionInitialMarginUnits + p.openOrderInitialMarginUnits;
}

export function positionRiskV2(mk: Markets, p: PositionView): object {
  const m = mk.list[p.symbolId]!;
  return {
    symbol: m.name, positionAmt: qty(m, p.qtyLots), entryPrice: entryPrice(m, p), breakEvenPrice: breakEvenPrice(m, p),
    markPrice: price(m, p.markTicks), unRealizedProfit: mk.money(p.unrealizedUnits), liquidationPrice: price(m, p.liquidationTicks),
    leverage: String(p.leverage), maxNotionalValue: trimZeros(mk.money(p.maxNotionalUnits)), marginType: 'cross',
    isolatedMargin: mk.money(0), isAutoAddMargin: 'false', positionSide: 'BOTH', notional: mk.money(p.notionalUnits),
    isolatedWallet: '0', updateTime: p.updateTimeMs,
  };
}

export function positionRiskV3(mk: Markets, p: PositionView): object {
  const m = mk.list[p.symbolId]!;
  return {
    symbol: m.name, positionSide: 'BOTH', positionAmt: qty(m, p.qtyLots), entryPrice: entryPrice(m, p),
    breakEvenPrice: breakEvenPrice(m, p), markPrice: price(m, p.markTicks), unRealizedProfit: mk.money(p.unrealizedUnits),
    liquidationPrice: price(m, p.liquidationTicks), isolatedMargin: mk.money(0), notional: mk.money(p.notionalUnits),
    marginAsset: mk.marginAsset, isolatedWallet: mk.money(0), initialMargin: mk.money(positionIm(p)),
    maintMargin: mk.money(p.maintMarginUnits), positionInitialMargin: mk.money(p.positionInitialMarginUnits),
    openOrderInitialMargin: mk.money(p.openOrderInitialMarginUnits), adl: 0, bidNotional: mk.money(p.bidNotionalUnits),
    askNotional: mk.money(p.askNotionalUnits), updateTime: p.updateTimeMs,
  };
}

function assetJson(mk: Markets, a: AccountView, v2: boolean): object {
  const im = a.positionInitialMarginUnits + a.openOrderInitialMarginUnits;
  const base = {
    asset: mk.marginAsset, walletBalance: mk.money(a.walletUnits), unrealizedProfit: mk.money(a.unrealizedUnits),
    marginBalance: mk.money(a.marginBalanceUnits), maintMargin: mk.money(a.maintMarginUnits), initialMargin: mk.money(im),
    positionInitialMargin: mk.money(a.positionInitialMarginUnits), openOrderInitialMargin: mk.money(a.openOrderInitialMarginUnits),
    crossWalletBalance: mk.money(a.walletUnits), crossUnPnl: mk.money(a.unrealizedUnits), availableBalance: mk.money(a.availableUnits),
    maxWithdrawAmount: mk.money(a.maxWithdrawUnits),
  };
  // ccxt skips assets whose updateTime is 0 (never touched).
  return v2 ? { ...base, marginAvailable: true, updateTime: a.updateTimeMs } : { ...base, updateTime: a.updateTimeMs };
}

function accountTotals(mk: Markets, a: AccountView): Record<string, string> {
  return {
    totalInitialMargin: mk.money(a.positionInitialMarginUnits + a.openOrderInitialMarginUnits),
    totalMaintMargin: mk.money(a.maintMarginUnits), totalWalletBalance: mk.money(a.walletUnits),
    totalUnrealizedProfit: mk.money(a.unrealizedUnits), totalMarginBalance: mk.money(a.marginBalanceUnits),
    totalPositionInitialMargin: mk.money(a.positionInitialMarginUnits), totalOpenOrderInitialMargin: mk.money(a.openOrderInitialMarginUnits),
    totalCrossWalletBalance: mk.money(a.walletUnits), totalCrossUnPnl: mk.money(a.unrealizedUnits),
    availableBalance: mk.money(a.availableUnits), maxWithdrawAmount: mk.money(a.maxWithdrawUnits),
  };
}

export function accountV2Json(mk: Markets, a: AccountView): string {
  const positions = a.positions.map((p) => {
    const m = mk.list[p.symbolId]!;
    return {
      symbol: m.name, initialMargin: mk.money(positionIm(p)), maintMargin: mk.money(p.maintMarginUnits),
      unrealizedProfit: mk.money(p.unrealizedUnits), positionInitialMargin: mk.money(p.positionInitialMarginUnits),
      openOrderInitialMargin: mk.money(p.openOrderInitialMarginUnits), leverage: String(p.leverage), isolated: false,
      entryPrice: entryPrice(m, p), breakEvenPrice: breakEvenPrice(m, p), maxNotional: trimZeros(mk.money(p.maxNotionalUnits)),
      bidNotional: mk.money(p.bidNotionalUnits), askNotional: mk.money(p.askNotionalUnits), positionSide: 'BOTH',
      positionAmt: qty(m, p.qtyLots), updateTime: p.updateTimeMs,
    };
  });
  return JSON.stringify({
    feeTier: 0, feeBurn: false, canTrade: true, canDeposit: true, canWithdraw: true, updateTime: 0, multiAssetsMargin: false,
    tradeGroupId: -1, ...accountTotals(mk, a), assets: [assetJson(mk, a, true)], positions,
  });
}

/** v3: only positions that are open or have open orders. */
export function accountV3Json(mk: Markets, a: AccountView): string {
  const positions = a.positions.filter((p) => p.qtyLots !== 0 || p.openOrders > 0).map((p) => {
    const m = mk.list[p.symbolId]!;
    return {
      symbol: m.name, positionSide: 'BOTH', positionAmt: qty(m, p.qtyLots), unrealizedProfit: mk.money(p.unrealizedUnits),
      isolatedMargin: mk.money(0), notional: mk.money(p.notionalUnits), isolatedWallet: mk.money(0),
      initialMargin: mk.money(positionIm(p)), maintMargin: mk.money(p.maintMarginUnits), updateTime: p.updateTimeMs,
    };
  });
  return JSON.stringify({ ...accountTotals(mk, a), assets: [assetJson(mk, a, false)], positions });
}

export function balanceJson(mk: Markets, a: AccountView, accountAlias: string): string {
  return JSON.stringify([{
    accountAlias, asset: mk.marginAsset, balance: mk.money(a.walletUnits), crossWalletBalance: mk.money(a.walletUnits),
    crossUnPnl: mk.money(a.unrealizedUnits), availableBalance: mk.money(a.availableUnits), maxWithdrawAmount: mk.money(a.maxWithdrawUnits),
    marginAvailable: true, updateTime: a.updateTimeMs,
  }]);
}

