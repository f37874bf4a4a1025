// Events: everything a gateway needs to answer a request and stream updates. The engine
// reports them through an EngineSink (plain method calls with numbers, so the hot path
// allocates nothing); CollectingSink turns them into objects for tests, tools and the
// gateway. Order updates pass the engine and the order's slot: the sink reads the fields
// it needs while the callback runs.

import type { OrderTable } from './orders.ts';

export const EXEC_NAMES = ['NEW', 'TRADE', 'CANCELED', 'EXPIRED', 'AMENDMENT', 'CALCULATED'] as const;
export type ExecTypeName = (typeof EXEC_NAMES)[number];
export const EX_NEW = 0;
export const EX_TRADE = 1;
export const EX_CANCELED = 2;
export const EX_EXPIRED = 3;
export const EX_AMENDMENT = 4;
export const EX_CALCULATED = 5;

export type BalanceReason = 'DEPOSIT' | 'WITHDRAW' | 'ORDER' | 'FUNDING_FEE' | 'LIQUIDATION' | 'INSURANCE_CLEAR' | 'ADL';
export type InsuranceReason = 'LIQUIDATION_FEE' | 'FUNDING_REMAINDER' | 'COVER_DEFICIT';
/** 0 normal, 1 liquidation order in the book, 2 auto-deleveraging. */
export type TradeKind = 0 | 1 | 2;

export interface EngineSink {
  reject(code: number, msg: string): void;
  accountCreated(accountId: number): void;
  order(orders: OrderTable, slot: number, execType: number, lastQtyLots: number, lastPriceTicks: number): void;
  trade(symbolId: number, tradeId: number, priceTicks: number, qtyLots: number, takerOrderId: number, makerOrderId: number,
    takerAccountId: number, makerAccountId: number, takerSide: number, takerFeeUnits: number, makerFeeUnits: number, kind: TradeKind): void;
  position(accountId: number, symbolId: number, qtyLots: number, costUnits: number): void;
  balance(accountId: number, walletUnits: number, deltaUnits: number, reason: BalanceReason): void;
  leverage(accountId: number, symbolId: number, leverage: number, maxNotionalUnits: number): void;
  markPrice(symbolId: number, markTicks: number, indexTicks: number, fundingRateE8: number, nextFundingTimeMs: number): void;
  funding(symbolId: number, rateE8: number, markTicks: number, timeMs: number): void;
  liquidation(accountId: number, symbolId: number, side: number, qtyLots: number, markTicks: number, bankruptcyTicks: number): void;
  adl(accountId: number, counterpartyId: number, symbolId: number, qtyLots: number, priceTicks: number): void;
  insurance(balanceUnits: number, deltaUnits: number, reason: InsuranceReason): void;
}

export type EngineEvent =
  | { type: 'reject'; code: number; msg: string }
  | { type: 'accountCreated'; accountId: number }
  | {
    type: 'order'; execType: ExecTypeName; status: string; orderId: number; clientOrderId: string; accountId: number;
    symbolId: number; side: 'BUY' | 'SELL'; orderType: string; tif: string; priceTicks: number; triggerPriceTicks: number;
    origQtyLots: number; executedQtyLots: number; cumQuoteUnits: number; lastQtyLots: number; lastPriceTicks: number;
    reduceOnly: boolean; stpMode: string; workingType: string; liquidation: boolean; timeMs: number; updateTimeMs: number;
  }
  | {
    type: 'trade'; symbolId: number; tradeId: number; priceTicks: number; qtyLots: number; takerOrderId: number;
    makerOrderId: number; takerAccountId: number; makerAccountId: number; takerSide: 'BUY' | 'SELL';
    takerFeeUnits: number; makerFeeUnits: number; kind: TradeKind;
  }
  | { type: 'position'; accountId: number; symbolId: number; qtyLots: number; costUnits: number }
  | { type: 'balance'; accountId: number; walletUnits: number; deltaUnits: number; reason: BalanceReason }
  | { type: 'leverage'; accountId: number; symbolId: number; leverage: number; maxNotionalUnits: number }
  | { type: 'markPrice'; symbolId: number; markTicks: number; indexTicks: number; fundingRateE8: number; nextFundingTimeMs: number }
  | { type: 'funding'; symbolId: number; rateE8: number; markTicks: number; timeMs: number }
  | { type: 'liquidation'; accountId: number; symbolId: number; side: 'BUY' | 'SELL'; qtyLots: number; markTicks: number; bankruptcyTicks: number }
  | { type: 'adl'; accountId: number; counterpartyId: number; symbolId: number; qtyLots: number; priceTicks: number }
  | { type: 'insurance'; balanceUnits: number; deltaUnits: number; reason: InsuranceReason };

export const SIDE_NAMES = ['BUY', 'SELL'] as const;
export const ORDER_TYPE_NAMES = ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET'] as const;
export const TIF_NAMES = ['GTC', 'IOC', 'FOK', 'GTX'] as const;
export const STP_NAMES = ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'] as const;
export const STATUS_NAMES = ['NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'EXPIRED', 'EXPIRED_IN_MATCH'] as const;

/** Builds event objects; `events` is reset by the engine's apply() for each command. */
export class CollectingSink implements EngineSink {
  events: EngineEvent[] = [];
  reject(code: number, msg: string): void { this.events.push({ type: 'reject', code, msg }); }
  accountCreated(accountId: number): void { this.events.push({ type: 'accountCreated', accountId }); }
  order(o: OrderTable, slot: number, execType: number, lastQtyLots: number, lastPriceTicks: number): void {
    this.events.push({
      type: 'order',
      execType: EXEC_NAMES[execType]!,
      status: STATUS_NAMES[o.status[slot]!]!,
      orderId: o.id[slot]!,
      clientOrderId: o.getClientId(slot),
      accountId: o.account[slot]!,
      symbolId: o.symbol[slot]!,
      side: SIDE_NAMES[o.side[slot]!]!,
      orderType: ORDER_TYPE_NAMES[o.type[slot]!]!,
      tif: TIF_NAMES[o.tif[slot]!]!,
      priceTicks: o.price[slot]!,
      triggerPriceTicks: o.trigger[slot]!,
      origQtyLots: o.origQty[slot]!,
      executedQtyLots: o.execQty[slot]!,
      cumQuoteUnits: o.cumQuote[slot]!,
      lastQtyLots,
      lastPriceTicks,
      reduceOnly: (o.flags[slot]! & 1) !== 0,
      stpMode: STP_NAMES[o.stp[slot]!]!,
      workingType: (o.flags[slot]! & 2) !== 0 ? 'MARK_PRICE' : 'CONTRACT_PRICE',
      liquidation: (o.flags[slot]! & 8) !== 0,
      timeMs: o.timeMs[slot]!,
      updateTimeMs: o.updateMs[slot]!,
    });
  }
  trade(symbolId: number, tradeId: number, priceTicks: number, qtyLots: number, takerOrderId: number, makerOrderId: number,
    takerAccountId: number, makerAccountId: number, takerSide: number, takerFeeUnits: number, makerFeeUnits: number, kind: TradeKind): void {
    this.events.push({ type: 'trade', symbolId, tradeId, priceTicks, qtyLots, takerOrderId, makerOrderId, takerAccountId, makerAccountId, takerSide: SIDE_NAMES[takerSide]!, takerFeeUnits, makerFeeUnits, kind });
  }
  position(accountId: number, symbolId: number, qtyLots: number, costUnits: number): void { this.events.push({ type: 'position', accountId, symbolId, qtyLots, costUnits }); }
  balance(accountId: number, walletUnits: number, deltaUnits: number, reason: BalanceReason): void { this.events.push({ type: 'balance', accountId, walletUnits, deltaUnits, reason }); }
  leverage(accountId: number, symbolId: number, leverage: number, maxNotionalUnits: number): void { this.events.push({ type: 'leverage', accountId, symbolId, leverage, maxNotionalUnits }); }
  markPrice(symbolId: number, markTicks: number, indexTicks: number, fundingRateE8: number, nextFundingTimeMs: number): void {
    this.events.push({ type: 'markPrice', symbolId, markTicks, indexTicks, fundingRateE8, nextFundingTimeMs });
  }
  funding(symbolId: number, rateE8: number, markTicks: number, timeMs: number): void { this.events.push({ type: 'funding', symbolId, rateE8, markTicks, timeMs }); }
  liquidation(accountId: number, symbolId: number, side: number, qtyLots: number, markTicks: number, bankruptcyTicks: number): void {
    this.events.push({ type: 'liquidation', accountId, symbolId, side: SIDE_NAMES[side]!, qtyLots, markTicks, bankruptcyTicks });
  }
  adl(accountId: number, counterpartyId: number, symbolId: number, qtyLots: number, priceTicks: number): void { this.events.push({ type: 'adl', accountId, counterpartyId, symbolId, qtyLots, priceTicks }); }
  insurance(balanceUnits: number, deltaUnits: number, reason: InsuranceReason): void { this.events.push({ type: 'insurance', balanceUnits, deltaUnits, reason }); }
}

/** Counts events without building them (benchmarks). */
export class CountingSink implements EngineSink {
  count = 0;
  rejects = 0;
  trades = 0;
  reject(): void { this.rejects++; }
  accountCreated(): void { this.count++; }
  order(): void { this.count++; }
  trade(): void { this.trades++; }
  position(): void { this.count++; }
  balance(): void { this.count++; }
  leverage(): void { this.count++; }
  markPrice(): void { this.count++; }
  funding(): void { this.count++; }
  liquidation(): void { this.count++; }
  adl(): void { this.count++; }
  insurance(): void { this.count++; }
}
