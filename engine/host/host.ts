// The boundary between the gateway (HTTP/WS, auth, validation, encoding) and the exchange
// core. Everything that crosses it is plain data (structured-clone safe: numbers, strings,
// booleans, arrays, plain objects) so the same interface can be backed by the engine on a
// worker thread: commands go one way, events and query views come back. Values stay in
// engine integers (ticks, lots, collateral units, rates in 1e-8); the gateway formats them.
//
// Two calls:
//   submit(cmd)  sequence + apply one command; resolves { seq, events } once applied (and,
//                when a journal is plugged in, durable); rejects at once with a HostError
//                code -1008 when the bounded queue is full or the host is not accepting.
//   query(q)     a read-only view of current state (never changes state, never queued).

import type { Command, OrderTypeName, SideName, StpName, TifName, WorkingTypeName } from '../core/commands.ts';
import type { EngineConfig } from '../core/config.ts';
import type { EngineEvent, TradeKind } from '../core/events.ts';

export const HOST_OVERLOADED = -1008;

/** A host-level failure that reaches the client as {code, msg} (crosses a worker boundary as {code, message}). */
export class HostError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'HostError';
    this.code = code;
  }
}

/** -1008 because the bounded queue is full (shed load at once, never queue without bound). */
export function overloadedError(): HostError {
  return new HostError(HOST_OVERLOADED, 'Server is currently overloaded with other requests. Please try again in a few minutes.');
}

/** -1008 because the host stopped accepting (shutdown). */
export function shuttingDownError(): HostError {
  return new HostError(HOST_OVERLOADED, 'Server is shutting down.');
}

export interface SubmitResult {
  /** Position of the command in the host's sequence (gap-free, starting at 1). */
  seq: number;
  /** The engine's events for this command; a rejection is one `reject` event. */
  events: EngineEvent[];
}

export type OrderStatusName = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'EXPIRED_IN_MATCH';
export type AlgoStatusName = 'NEW' | 'CANCELED' | 'TRIGGERED' | 'FINISHED' | 'EXPIRED';

/** An order as the engine reports it (same field names as the `order` event). */
export interface OrderView {
  orderId: number;
  clientOrderId: string;
  accountId: number;
  symbolId: number;
  side: SideName;
  /** OrderTypeName / TifName (strings as the `order` event carries them). */
  orderType: OrderTypeName | string;
  tif: TifName | string;
  status: string;
  priceTicks: number;
  triggerPriceTicks: number;
  origQtyLots: number;
  executedQtyLots: number;
  cumQuoteUnits: number;
  reduceOnly: boolean;
  stpMode: StpName | string;
  workingType: WorkingTypeName | string;
  liquidation: boolean;
  timeMs: number;
  updateTimeMs: number;
}

/** A conditional (algo) order: the order it becomes shares its id (actualOrderId = algoId). */
export interface AlgoOrderView extends OrderView {
  algoStatus: AlgoStatusName;
  /** Engine time it triggered, 0 while waiting. */
  triggerTimeMs: number;
}

/** One fill from one account's side. */
export interface UserTradeView {
  tradeId: number;
  orderId: number;
  accountId: number;
  symbolId: number;
  side: SideName;
  priceTicks: number;
  qtyLots: number;
  quoteUnits: number;
  /** Fee paid (negative = rebate received). */
  feeUnits: number;
  realizedPnlUnits: number;
  maker: boolean;
  kind: TradeKind;
  timeMs: number;
}

export interface PublicTradeView {
  tradeId: number;
  priceTicks: number;
  qtyLots: number;
  quoteUnits: number;
  takerSide: SideName;
  timeMs: number;
}

export interface PositionView {
  symbolId: number;
  /** Signed lots (one-way mode). */
  qtyLots: number;
  /** Signed entry notional. */
  costUnits: number;
  leverage: number;
  markTicks: number;
  /** Signed: qty × mark. */
  notionalUnits: number;
  unrealizedUnits: number;
  positionInitialMarginUnits: number;
  openOrderInitialMarginUnits: number;
  maintMarginUnits: number;
  /** Mark price at which the account falls below maintenance; 0 = none. */
  liquidationTicks: number;
  maxNotionalUnits: number;
  /** Σ remaining × price of open BUY / SELL orders in this symbol. */
  bidNotionalUnits: number;
  askNotionalUnits: number;
  openOrders: number;
  updateTimeMs: number;
}

export interface AccountView {
  accountId: number;
  walletUnits: number;
  unrealizedUnits: number;
  marginBalanceUnits: number;
  positionInitialMarginUnits: number;
  openOrderInitialMarginUnits: number;
  maintMarginUnits: number;
  availableUnits: number;
  maxWithdrawUnits: number;
  /** Engine time of the last balance change (0 = never). */
  updateTimeMs: number;
  /** One entry per symbol, in symbol order. */
  positions: PositionView[];
}

export interface DepthView {
  lastUpdateId: number;
  timeMs: number;
  /** [priceTicks, qtyLots], best first. */
  bids: [number, number][];
  asks: [number, number][];
}

export interface BookTickerView {
  symbolId: number;
  /** -1 when the side is empty. */
  bidTicks: number;
  bidLots: number;
  askTicks: number;
  askLots: number;
  lastUpdateId: number;
  timeMs: number;
}

export interface Ticker24hView {
  symbolId: number;
  /** 0 when there was no trade in the window. */
  openTicks: number;
  highTicks: number;
  lowTicks: number;
  lastTicks: number;
  lastQtyLots: number;
  volumeLots: number;
  /** Decimal string of collateral units (can exceed 2^53 over a day). */
  quoteVolumeUnits: string;
  count: number;
  firstId: number;
  lastId: number;
  openTimeMs: number;
  closeTimeMs: number;
}

export interface MarkView {
  symbolId: number;
  markTicks: number;
  indexTicks: number;
  /** Estimated rate of the next settlement. */
  fundingRateE8: number;
  lastSettledRateE8: number;
  interestRateE8: number;
  nextFundingTimeMs: number;
  timeMs: number;
}

export interface FundingView {
  symbolId: number;
  rateE8: number;
  markTicks: number;
  timeMs: number;
}

export interface TotalsView {
  seq: number;
  nowMs: number;
  accounts: number;
  depositsUnits: number;
  withdrawalsUnits: number;
  insuranceUnits: number;
  feesUnits: number;
  /** Σ wallet − Σ entry cost + insurance + fees; equals deposits − withdrawals. */
  ledgerUnits: number;
  openInterest: { symbolId: number; longLots: number; shortLots: number }[];
}

export interface HostStatus {
  ready: boolean;
  seq: number;
  queueDepth: number;
  queueMax: number;
  nowMs: number;
  clockStarted: boolean;
  accounts: number;
}

interface TimeRange {
  /** 0 = unbounded. */
  startTimeMs: number;
  endTimeMs: number;
  /** Already clamped by the caller to the endpoint's maximum. */
  limit: number;
}

/** Every query: its request fields and its result. symbolId -1 = all symbols where allowed. */
export interface QueryMap {
  status: { req: Record<never, never>; res: HostStatus };
  totals: { req: Record<never, never>; res: TotalsView };
  stateHash: { req: Record<never, never>; res: { seq: number; stateHash: string } };
  account: { req: { accountId: number }; res: AccountView | null };
  openOrders: { req: { accountId: number; symbolId: number }; res: OrderView[] };
  openAlgoOrders: { req: { accountId: number; symbolId: number }; res: AlgoOrderView[] };
  /** By orderId (> 0) or else clientOrderId; open orders first, then history. */
  order: { req: { accountId: number; symbolId: number; orderId: number; clientOrderId: string }; res: OrderView | null };
  algoOrder: { req: { accountId: number; algoId: number; clientAlgoId: string }; res: AlgoOrderView | null };
  allOrders: { req: { accountId: number; symbolId: number; fromOrderId: number } & TimeRange; res: OrderView[] };
  allAlgoOrders: { req: { accountId: number; symbolId: number; fromAlgoId: number } & TimeRange; res: AlgoOrderView[] };
  userTrades: { req: { accountId: number; symbolId: number; fromId: number } & TimeRange; res: UserTradeView[] };
  depth: { req: { symbolId: number; limit: number }; res: DepthView };
  bookTicker: { req: { symbolId: number }; res: BookTickerView[] };
  trades: { req: { symbolId: number; limit: number }; res: PublicTradeView[] };
  ticker24h: { req: { symbolId: number }; res: Ticker24hView[] };
  markPrice: { req: { symbolId: number }; res: MarkView[] };
  fundingHistory: { req: { symbolId: number } & TimeRange; res: FundingView[] };
}

export type QueryType = keyof QueryMap;
export type QueryOf<K extends QueryType> = { type: K } & QueryMap[K]['req'];
export type HostQuery = { [K in QueryType]: QueryOf<K> }[QueryType];
export type QueryResult<K extends QueryType> = QueryMap[K]['res'];

/** What subscribers (WebSocket streams, later) receive after each applied command. */
export interface AppliedCommand {
  seq: number;
  command: Command;
  events: EngineEvent[];
  /** Engine time after the command. */
  nowMs: number;
}

export interface ExchangeHost {
  /** The engine configuration (plain data; the gateway compiles its own copy of the spec). */
  readonly config: EngineConfig;
  submit(command: Command): Promise<SubmitResult>;
  query<K extends QueryType>(q: QueryOf<K>): Promise<QueryResult<K>>;
  /** Called in sequence order after each applied command; returns an unsubscribe function. */
  subscribe(listener: (applied: AppliedCommand) => void): () => void;
  /** Stop accepting, finish what is queued, stop timers. */
  close(): Promise<void>;
}

// ---- the wire between a gateway thread and an engine thread (for a worker-backed host) ----
// Everything above crosses as these messages via postMessage (structured clone). A failed
// submit or query crosses as { ok: false, code, message } and is rebuilt as a HostError;
// `subscribe` listeners stay on the gateway side, fed by 'applied' messages.

export type HostRequestMessage =
  | { id: number; kind: 'submit'; command: Command }
  | { id: number; kind: 'query'; query: HostQuery };

export type HostReplyMessage =
  | { id: number; ok: true; result: SubmitResult | QueryResult<QueryType> }
  | { id: number; ok: false; code: number; message: string };

export type HostEventMessage = { kind: 'applied'; applied: AppliedCommand };
