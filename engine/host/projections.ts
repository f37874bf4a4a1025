// What the core does not keep, rebuilt from its event stream: terminal orders, fills per
// account, conditional-order (algo) life cycles, public trades, funding settlements, 24 h
// ticker buckets and the last balance/position update times. Every collection is bounded
// by a named maximum. Fed in sequence order by the host after each applied command.

import type { EngineEvent } from '../core/events.ts';
import { BoundedHistory, Ring } from './history.ts';
import type { AlgoOrderView, AlgoStatusName, FundingView, OrderView, PublicTradeView, UserTradeView } from './host.ts';
import { TickerWindow } from './market-stats.ts';

export interface ProjectionLimits {
  /** Terminal orders kept per account (GET order / allOrders). */
  historyOrdersPerAccountMax: number;
  /** Terminal orders kept over all accounts. */
  historyOrdersTotalMax: number;
  historyTradesPerAccountMax: number;
  historyTradesTotalMax: number;
  historyAlgoOrdersPerAccountMax: number;
  historyAlgoOrdersTotalMax: number;
  publicTradesPerSymbolMax: number;
  fundingPerSymbolMax: number;
}

// The totals bound the snapshot pause: snapshots carry this history and encode it on the engine
// thread at ~1.1-1.8 µs per entry (`npm run bench:snapshot`: 226 ms at 100k orders + 100k fills,
// 7.2 s at 2 M + 2 M, the previous defaults). Raise them per deployment (serve config
// host.projections) only together with a longer snapshot interval.
export const PROJECTION_LIMITS_DEFAULT: ProjectionLimits = {
  historyOrdersPerAccountMax: 1_000,
  historyOrdersTotalMax: 100_000,
  historyTradesPerAccountMax: 1_000,
  historyTradesTotalMax: 100_000,
  historyAlgoOrdersPerAccountMax: 200,
  historyAlgoOrdersTotalMax: 200_000,
  publicTradesPerSymbolMax: 1_000,
  fundingPerSymbolMax: 1_000,
};

type OrderEvent = Extract<EngineEvent, { type: 'order' }>;
type TradeEvent = Extract<EngineEvent, { type: 'trade' }>;

const CONDITIONAL_TYPES = new Set(['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET']);

export function isTerminalStatus(status: string): boolean {
  return status === 'FILLED' || status === 'CANCELED' || status === 'EXPIRED' || status === 'EXPIRED_IN_MATCH';
}

export function orderViewOf(e: OrderEvent): OrderView {
  return {
    orderId: e.orderId, clientOrderId: e.clientOrderId, accountId: e.accountId, symbolId: e.symbolId, side: e.side,
    orderType: e.orderType, tif: e.tif, status: e.status, priceTicks: e.priceTicks,
    triggerPriceTicks: e.triggerPriceTicks, origQtyLots: e.origQtyLots, executedQtyLots: e.executedQtyLots,
    cumQuoteUnits: e.cumQuoteUnits, reduceOnly: e.reduceOnly, stpMode: e.stpMode, workingType: e.workingType,
    liquidation: e.liquidation, timeMs: e.timeMs, updateTimeMs: e.updateTimeMs,
  };
}

export class Projections {
  readonly limits: ProjectionLimits;
  readonly orders: BoundedHistory<OrderView>;
  readonly ordersById = new Map<number, OrderView>();
  readonly trades: BoundedHistory<UserTradeView>;
  readonly algos: BoundedHistory<AlgoOrderView>;
  readonly algosById = new Map<number, AlgoOrderView>();
  /** Conditional orders still waiting for their trigger (bounded by the core's maxConditionalOrders). */
  readonly waitingAlgos = new Set<number>();
  readonly publicTrades: Ring<PublicTradeView>[];
  readonly funding: Ring<FundingView>[];
  readonly tickers: TickerWindow[];
  /** Engine time of each account's last balance change. */
  readonly balanceUpdateMs = new Map<number, number>();
  /** Engine time of the last position change, key account × nSymbols + symbol. */
  readonly positionUpdateMs = new Map<number, number>();
  private readonly nSymbols: number;
  private readonly unitsPerTickLot: readonly number[];
  // Fill attribution: a trade event is followed, per side, by a position event and maybe a
  // balance event (realized PnL − fee); the balance belongs to the side whose position came last.
  private readonly pendingFills: UserTradeView[] = [];
  private pendingNext = 0;
  private currentFill: UserTradeView | null = null;

  constructor(unitsPerTickLot: readonly number[], limits: ProjectionLimits = PROJECTION_LIMITS_DEFAULT) {
    const nSymbols = unitsPerTickLot.length;
    this.limits = limits;
    this.nSymbols = nSymbols;
    this.unitsPerTickLot = unitsPerTickLot;
    this.orders = new BoundedHistory<OrderView>(limits.historyOrdersPerAccountMax, limits.historyOrdersTotalMax, (o) => this.ordersById.delete(o.orderId));
    this.trades = new BoundedHistory<UserTradeView>(limits.historyTradesPerAccountMax, limits.historyTradesTotalMax);
    this.algos = new BoundedHistory<AlgoOrderView>(limits.historyAlgoOrdersPerAccountMax, limits.historyAlgoOrdersTotalMax, (o) => this.algosById.delete(o.orderId));
    this.publicTrades = Array.from({ length: nSymbols }, () => new Ring<PublicTradeView>(limits.publicTradesPerSymbolMax));
    this.funding = Array.from({ length: nSymbols }, () => new Ring<FundingView>(limits.fundingPerSymbolMax));
    this.tickers = Array.from({ length: nSymbols }, (_, s) => new TickerWindow(s));
  }

  /** Feed one applied command's events; nowMs is the engine time after it. */
  apply(events: readonly EngineEvent[], nowMs: number): void {
    this.pendingFills.length = 0;
    this.currentFill = null;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      switch (e.type) {
        case 'order': this.onOrder(e, nowMs); break;
        case 'trade': this.onTrade(e, nowMs); break;
        case 'position':
          this.positionUpdateMs.set(e.accountId * this.nSymbols + e.symbolId, nowMs);
          this.onPositionAfterTrade(e.accountId);
          break;
        case 'balance':
          this.balanceUpdateMs.set(e.accountId, nowMs);
          if (e.reason === 'ORDER' || e.reason === 'ADL') this.attributePnl(e.accountId, e.deltaUnits);
          break;
        case 'funding':
          this.funding[e.symbolId]!.push({ symbolId: e.symbolId, rateE8: e.rateE8, markTicks: e.markTicks, timeMs: e.timeMs });
          break;
        default:
          break;
      }
    }
  }

  /** Register conditional orders already open in a restored engine. */
  seedWaitingAlgos(orderIds: Iterable<number>): void {
    for (const id of orderIds) this.waitingAlgos.add(id);
  }

  private onOrder(e: OrderEvent, nowMs: number): void {
    if (CONDITIONAL_TYPES.has(e.orderType)) {
      const waiting = this.waitingAlgos.has(e.orderId);
      if (e.execType === 'NEW' && !waiting && !this.algosById.has(e.orderId)) {
        this.waitingAlgos.add(e.orderId); // placed; its open state is read from the engine
        return;
      }
      if (waiting) {
        this.waitingAlgos.delete(e.orderId);
        const status: AlgoStatusName = e.execType === 'NEW' ? 'TRIGGERED' : e.execType === 'CANCELED' ? 'CANCELED' : 'EXPIRED';
        const algo: AlgoOrderView = { ...orderViewOf(e), algoStatus: status, triggerTimeMs: status === 'TRIGGERED' || status === 'EXPIRED' ? nowMs : 0 };
        this.algos.push(e.accountId, algo);
        this.algosById.set(e.orderId, algo);
        if (status !== 'TRIGGERED') return; // never became an order
        if (!isTerminalStatus(e.status)) return;
      }
    }
    if (!isTerminalStatus(e.status)) return;
    const view = orderViewOf(e);
    this.orders.push(e.accountId, view);
    this.ordersById.set(e.orderId, view);
    const algo = this.algosById.get(e.orderId);
    if (algo !== undefined && algo.algoStatus === 'TRIGGERED') algo.algoStatus = 'FINISHED';
  }

  private onTrade(e: TradeEvent, nowMs: number): void {
    const quoteUnits = e.priceTicks * e.qtyLots * this.unitsPerTickLot[e.symbolId]!;
    const makerSide = e.takerSide === 'BUY' ? 'SELL' : 'BUY';
    const taker = this.fill(e, e.takerAccountId, e.takerOrderId, e.takerSide, e.takerFeeUnits, false, quoteUnits, nowMs);
    const maker = this.fill(e, e.makerAccountId, e.makerOrderId, makerSide, e.makerFeeUnits, true, quoteUnits, nowMs);
    this.publicTrades[e.symbolId]!.push({ tradeId: e.tradeId, priceTicks: e.priceTicks, qtyLots: e.qtyLots, quoteUnits, takerSide: e.takerSide, timeMs: nowMs });
    this.tickers[e.symbolId]!.add(nowMs, e.tradeId, e.priceTicks, e.qtyLots, quoteUnits);
    this.pendingFills.length = 0;
    this.pendingFills.push(taker, maker);
    this.pendingNext = 0;
    this.currentFill = null;
    this.trades.push(taker.accountId, taker);
    this.trades.push(maker.accountId, maker);
  }

  private fill(e: TradeEvent, accountId: number, orderId: number, side: 'BUY' | 'SELL', feeUnits: number, maker: boolean, quoteUnits: number, nowMs: number): UserTradeView {
    // Until a balance event says otherwise, realized PnL − fee = 0, i.e. realized = fee.
    return {
      tradeId: e.tradeId, orderId, accountId, symbolId: e.symbolId, side, priceTicks: e.priceTicks, qtyLots: e.qtyLots,
      quoteUnits, feeUnits, realizedPnlUnits: feeUnits, maker, kind: e.kind, timeMs: nowMs,
    };
  }

  /** A fill's wallet delta is realized PnL − fee. */
  private attributePnl(accountId: number, deltaUnits: number): void {
    const f = this.currentFill;
    if (f === null || f.accountId !== accountId) return;
    f.realizedPnlUnits = deltaUnits + f.feeUnits;
    this.currentFill = null;
  }

  private onPositionAfterTrade(accountId: number): void {
    if (this.pendingNext >= this.pendingFills.length) {
      this.currentFill = null;
      return;
    }
    const f = this.pendingFills[this.pendingNext++]!;
    // The core reports taker then maker; anything else leaves PnL unattributed (never fatal).
    this.currentFill = f.accountId === accountId ? f : null;
  }
}
