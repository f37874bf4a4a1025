// The exchange core: a pure, deterministic state machine. One thread, no I/O, no clock,
// no randomness; time and index prices arrive as commands. Every money value is an
// integer (collateral units); every count has a named maximum.
//
// Pipeline of one command (execute):
//   validate (reject → nothing changed) → risk check (order margin) → match (book)
//   → fills: positions, fees, PnL → rest or expire → settle: triggers and liquidations
//   (risk of every account touched by a fill, and of accounts crossed by a mark move).

import { CollectingSink, CountingSink, EX_AMENDMENT, EX_CALCULATED, EX_CANCELED, EX_EXPIRED, EX_NEW, EX_TRADE } from './events.ts';
import type { EngineEvent, EngineSink, TradeKind } from './events.ts';
import type { Command, PlaceOrder } from './commands.ts';
import { compileConfig, RATE_ONE_E8 } from './config.ts';
import type { EngineConfig, EngineSpec, SymbolSpec } from './config.ts';
import { ERR, errorMessage } from './errors.ts';
import { HierBitset } from './bitset.ts';
import { IndexedHeap } from './heap.ts';
import { assert, ceilDiv, floorDiv, median3, mulDivCeil, mulDivFloor, mulDivFloorSaturating } from './int.ts';
import { BUY, OrderBook, SELL, STP_NONE, TIF_FOK, TIF_GTC, TIF_GTX, TIF_IOC } from './orderbook.ts';
import type { BookListener, Side, StpMode } from './orderbook.ts';
import {
  F_CONDITIONAL, F_LIQUIDATION, F_REDUCE_ONLY, F_WORKING_MARK, OrderTable, OT_LIMIT, OT_MARKET, OT_STOP, OT_STOP_MARKET,
  OT_TAKE_PROFIT, OT_TAKE_PROFIT_MARKET, ST_CANCELED, ST_EXPIRED, ST_EXPIRED_IN_MATCH, ST_FILLED, ST_NEW, ST_PARTIALLY_FILLED,
} from './orders.ts';
import type { StateMachine } from './state-machine.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { createHash } from 'node:crypto';

const NIL = -1;
const NULL_SINK = new CountingSink();
const PRICE_INF = 2 ** 31; // "never" key for short liquidation heaps / up triggers
const MARK_SAMPLES = 30; // Price2: moving average of (mid − index) over the last 30 s
const PREMIUM_SAMPLE_MS = 5_000;
const FUNDING_CLAMP_E8 = 50_000; // ±0.05 %
const SETTLE_STEPS_MAX = 10_000_000; // guards the settle loop against a livelock bug
const LEDGER_UNITS_MAX = 2 ** 51; // Σ deposits; leaves room for PnL swings within 2^53
const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;

// Name → code by string comparison (interned strings compare by pointer; no hashing).
function sideCode(x: unknown): number {
  return x === 'BUY' ? BUY : x === 'SELL' ? SELL : -1;
}
function orderTypeCode(x: unknown): number {
  if (x === 'LIMIT') return OT_LIMIT;
  if (x === 'MARKET') return OT_MARKET;
  if (x === 'STOP') return OT_STOP;
  if (x === 'STOP_MARKET') return OT_STOP_MARKET;
  if (x === 'TAKE_PROFIT') return OT_TAKE_PROFIT;
  if (x === 'TAKE_PROFIT_MARKET') return OT_TAKE_PROFIT_MARKET;
  return -1;
}
function tifCode(x: unknown): number {
  if (x === 'GTC') return TIF_GTC;
  if (x === 'IOC') return TIF_IOC;
  if (x === 'FOK') return TIF_FOK;
  if (x === 'GTX') return TIF_GTX;
  return -1;
}
function stpCode(x: unknown): number {
  if (x === 'NONE') return 0;
  if (x === 'EXPIRE_TAKER') return 1;
  if (x === 'EXPIRE_MAKER') return 2;
  if (x === 'EXPIRE_BOTH') return 3;
  return -1;
}

function isMarketType(t: number): boolean {
  return t === OT_MARKET || t === OT_STOP_MARKET || t === OT_TAKE_PROFIT_MARKET;
}
function isConditionalType(t: number): boolean {
  return t >= OT_STOP;
}
/** BUY STOP and SELL TAKE_PROFIT fire when the price rises to the trigger; the others when it falls. */
function triggersUp(type: number, side: number): boolean {
  const stop = type === OT_STOP || type === OT_STOP_MARKET;
  return stop === (side === BUY);
}
function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x);
}

/** Per-symbol market state (mark price, funding). */
class MarketState {
  indexTicks = 0;
  markTicks = 0;
  lastTradeTicks = 0;
  oiLongLots = 0;
  readonly basisRing = new Float64Array(MARK_SAMPLES); // (mid − index) samples, ticks
  basisCount = 0;
  basisPos = 0;
  premiumSumE8 = 0;
  premiumCount = 0;
  lastFundingRateE8 = 0;
  nextFundingTimeMs = 0;
}

export class Engine implements StateMachine<Command>, BookListener {
  readonly spec: EngineSpec;
  readonly symbols: SymbolSpec[];
  readonly books: OrderBook[];
  readonly orders: OrderTable;
  sink: EngineSink;
  private readonly collector = new CollectingSink();

  // Clock and counters.
  nowMs = 0;
  clockStarted = false;
  nextOrderId = 1;
  nextTradeId = 1;
  accountCount = 0;
  commandsApplied = 0;

  // Ledger totals (conservation: Σ wallet − Σ cost + insurance + fees = deposits − withdrawals).
  depositsUnits = 0;
  withdrawalsUnits = 0;
  insuranceUnits = 0;
  feesUnits = 0;

  // Accounts.
  readonly wallet: Float64Array;
  readonly orderMargin: Float64Array; // Σ reserved initial margin of open orders
  readonly accHead: Int32Array; // first open order (intrusive list in OrderTable)
  readonly positionsOpen: Uint8Array; // number of non-zero positions
  private readonly clientIds: (Map<string, number> | undefined)[];

  // Positions, index account × nSymbols + symbol.
  readonly nSymbols: number;
  readonly posQty: Float64Array; // signed lots
  readonly posCost: Float64Array; // signed entry notional, collateral units
  readonly leverage: Uint8Array;
  readonly openOrders: Int32Array; // open orders per account and symbol

  readonly markets: MarketState[];
  private readonly symBase: number[]; // OrderTable index of book slot 0 per symbol
  private readonly takerSlot: number;
  private readonly condBase: number;
  private condFree: number;
  /** Conditional slots at or above this were never used (taken in order once condFree is empty). */
  private condFresh: number;
  private readonly condById = new Map<number, number>();

  // Position holders per symbol (for funding and ADL) with O(1) add/remove.
  private readonly holders: Int32Array[];
  private readonly holderCount: number[];
  private readonly holderPos: Int32Array[]; // account → index in holders, -1

  // Risk indexes: accounts by the mark price at which they fall below maintenance margin.
  private readonly longLiq: IndexedHeap[]; // max-heap: fires when mark ≤ key
  private readonly shortLiq: IndexedHeap[]; // min-heap: fires when mark ≥ key
  // Accounts with positions in ≥ 2 symbols, iterated in account order: a Set would iterate in
  // the order they became multi-symbol, which restore() cannot rebuild (liquidation order).
  private readonly multiSymbol: HierBitset;
  private multiSymbolCount = 0;
  // Conditional orders by trigger price: [symbol][working: 0 contract, 1 mark].
  private readonly trigUp: IndexedHeap[][]; // min-heap: fires when price ≥ key
  private readonly trigDown: IndexedHeap[][]; // max-heap: fires when price ≤ key

  // Settle-phase work lists.
  private readonly dirty: Int32Array;
  private dirtyCount = 0;
  private readonly dirtyFlag: Uint8Array;
  private readonly triggered: number[] = [];
  private readonly markMoved: boolean[];
  private readonly tradeMoved: boolean[];

  // Matching context (set before book.match and book.fillableQty, read by the listener
  // callbacks). Not state: meaningless between commands, so not in the snapshot.
  private curSym = 0;
  private curTakerKind: TradeKind = 0;
  private curLiqFeeUnits = 0;

  constructor(config: EngineConfig, sink?: EngineSink) {
    this.spec = compileConfig(config);
    this.symbols = this.spec.symbols;
    this.nSymbols = this.symbols.length;
    this.sink = sink ?? this.collector;
    const maxAcc = this.spec.maxAccounts;
    const n = this.nSymbols;
    this.books = this.symbols.map((s) => new OrderBook({ maxPriceTicks: s.maxPriceTicks, maxOrders: s.maxRestingOrders, maxLevels: s.maxPriceLevels }, this));
    this.symBase = [];
    let base = 0;
    for (const s of this.symbols) {
      this.symBase.push(base);
      base += s.maxRestingOrders;
    }
    this.takerSlot = base;
    this.condBase = base + 1;
    this.orders = new OrderTable(base + 1 + this.spec.maxConditionalOrders);
    // Freed conditional slots form a stack through accNext; never-used ones are handed out in
    // order after it (the sequence of a pre-threaded list, without touching every slot at startup).
    this.condFree = NIL;
    this.condFresh = this.condBase;

    this.wallet = new Float64Array(maxAcc);
    this.orderMargin = new Float64Array(maxAcc);
    this.accHead = new Int32Array(maxAcc).fill(NIL);
    this.positionsOpen = new Uint8Array(maxAcc);
    this.clientIds = new Array(maxAcc).fill(undefined);
    this.posQty = new Float64Array(maxAcc * n);
    this.posCost = new Float64Array(maxAcc * n);
    this.leverage = new Uint8Array(maxAcc * n);
    this.openOrders = new Int32Array(maxAcc * n);
    this.markets = this.symbols.map(() => new MarketState());
    this.holders = this.symbols.map(() => new Int32Array(maxAcc));
    this.holderCount = this.symbols.map(() => 0);
    this.holderPos = this.symbols.map(() => new Int32Array(maxAcc).fill(NIL));
    this.longLiq = this.symbols.map(() => new IndexedHeap(maxAcc, 'max'));
    this.shortLiq = this.symbols.map(() => new IndexedHeap(maxAcc, 'min'));
    this.multiSymbol = new HierBitset(maxAcc);
    const condCap = Math.max(1, this.spec.maxConditionalOrders);
    // Equal triggers fire by order id (older first), not by pool slot: slots differ after
    // restore(). The tie view shares memory with the order table: heap id k ↔ slot condBase + k.
    const condIds = this.spec.maxConditionalOrders > 0 ? this.orders.id.subarray(this.condBase, this.condBase + condCap) : null;
    this.trigUp = this.symbols.map(() => [new IndexedHeap(condCap, 'min', condIds), new IndexedHeap(condCap, 'min', condIds)]);
    this.trigDown = this.symbols.map(() => [new IndexedHeap(condCap, 'max', condIds), new IndexedHeap(condCap, 'max', condIds)]);
    this.dirty = new Int32Array(maxAcc);
    this.dirtyFlag = new Uint8Array(maxAcc);
    this.markMoved = this.symbols.map(() => false);
    this.tradeMoved = this.symbols.map(() => false);
  }

  // =================================================================================
  // Entry points
  // =================================================================================

  /** Apply a command and return its events (allocates; for tests, tools and the gateway). */
  apply(command: Command): EngineEvent[] {
    const prev = this.sink;
    this.collector.events = [];
    this.sink = this.collector;
    try {
      this.execute(command);
    } finally {
      this.sink = prev;
    }
    return this.collector.events;
  }

  /** Replay a journaled command: same state change as apply(), events discarded. */
  replay(command: Command): void {
    const prev = this.sink;
    this.sink = NULL_SINK;
    try {
      this.execute(command);
    } finally {
      this.sink = prev;
    }
  }

  /** Apply a command, reporting events to this.sink. Returns 0 or the rejection code. */
  execute(c: Command): number {
    const code = this.dispatch(c);
    if (code !== 0) {
      this.sink.reject(code, this.rejectDetail === '' ? errorMessage(code) : errorMessage(code, this.rejectDetail));
      this.rejectDetail = '';
      return code;
    }
    this.commandsApplied++;
    this.settle();
    return 0;
  }

  private rejectDetail = '';
  private fail(code: number, detail: string): number {
    this.rejectDetail = detail;
    return code;
  }

  private dispatch(c: Command): number {
    if (c === null || typeof c !== 'object') return this.fail(ERR.MANDATORY_PARAM, 'command must be an object');
    switch (c.type) {
      case 'place': return this.place(c);
      case 'cancel': return this.cancel(c.accountId, c.symbolId, c.orderId, c.clientOrderId);
      case 'cancelAll': return this.cancelAll(c.accountId, c.symbolId);
      case 'modify': return this.modify(c.accountId, c.symbolId, c.orderId, c.clientOrderId, c.priceTicks, c.qtyLots);
      case 'deposit': return this.deposit(c.accountId, c.amountUnits);
      case 'withdraw': return this.withdraw(c.accountId, c.amountUnits);
      case 'setLeverage': return this.setLeverage(c.accountId, c.symbolId, c.leverage);
      case 'setIndexPrice': return this.setIndexPrice(c.symbolId, c.priceTicks);
      case 'advanceTime': return this.advanceTime(c.timeMs);
      case 'createAccount': return this.createAccount();
      default: return this.fail(ERR.MANDATORY_PARAM, `unknown command type ${String((c as { type?: unknown }).type)}`);
    }
  }

  private badAccount(accountId: unknown): boolean {
    return !(isCount(accountId) && accountId >= 0 && accountId < this.accountCount);
  }
  private badSymbol(symbolId: unknown): boolean {
    return !(isCount(symbolId) && symbolId >= 0 && symbolId < this.nSymbols);
  }

  // =================================================================================
  // Accounts and money
  // =================================================================================

  private createAccount(): number {
    if (this.accountCount >= this.spec.maxAccounts) return this.fail(ERR.NEW_ORDER_REJECTED, `maxAccounts ${this.spec.maxAccounts} reached`);
    const a = this.accountCount++;
    for (let s = 0; s < this.nSymbols; s++) this.leverage[a * this.nSymbols + s] = this.symbols[s]!.defaultLeverage;
    this.sink.accountCreated(a);
    return 0;
  }

  private deposit(accountId: number, amountUnits: number): number {
    if (this.badAccount(accountId)) return this.fail(ERR.MANDATORY_PARAM, 'unknown accountId');
    if (!(isCount(amountUnits) && amountUnits > 0)) return this.fail(ERR.MANDATORY_PARAM, 'amountUnits must be a positive integer');
    if (this.wallet[accountId]! + amountUnits > this.spec.maxWalletUnits) return this.fail(ERR.MANDATORY_PARAM, `wallet would exceed maxWallet ${this.spec.cfg.maxWallet}`);
    // The ledger sums every wallet; keep the total inside exact integer range with headroom.
    if (this.depositsUnits + amountUnits > LEDGER_UNITS_MAX) return this.fail(ERR.MANDATORY_PARAM, 'total deposits would exceed the exact-arithmetic ledger limit (2^51 units)');
    this.wallet[accountId] = this.wallet[accountId]! + amountUnits;
    this.depositsUnits += amountUnits;
    this.sink.balance(accountId, this.wallet[accountId]!, amountUnits, 'DEPOSIT');
    this.markDirty(accountId);
    return 0;
  }

  private withdraw(accountId: number, amountUnits: number): number {
    if (this.badAccount(accountId)) return this.fail(ERR.MANDATORY_PARAM, 'unknown accountId');
    if (!(isCount(amountUnits) && amountUnits > 0)) return this.fail(ERR.MANDATORY_PARAM, 'amountUnits must be a positive integer');
    const available = this.availableUnits(accountId);
    if (amountUnits > available || amountUnits > this.wallet[accountId]!) return this.fail(ERR.MARGIN_INSUFFICIENT, `available ${Math.min(available, this.wallet[accountId]!)} units`);
    this.wallet[accountId] = this.wallet[accountId]! - amountUnits;
    this.withdrawalsUnits += amountUnits;
    this.sink.balance(accountId, this.wallet[accountId]!, -amountUnits, 'WITHDRAW');
    this.markDirty(accountId);
    return 0;
  }

  private setLeverage(accountId: number, symbolId: number, lev: number): number {
    if (this.badAccount(accountId)) return this.fail(ERR.MANDATORY_PARAM, 'unknown accountId');
    if (this.badSymbol(symbolId)) return ERR.INVALID_SYMBOL;
    const s = this.symbols[symbolId]!;
    if (!(isCount(lev) && lev >= 1 && lev <= s.maxLeverage)) return this.fail(ERR.INVALID_LEVERAGE, `1..${s.maxLeverage}`);
    const p = accountId * this.nSymbols + symbolId;
    const maxNotional = this.maxNotionalAt(s, lev);
    const mark = this.markets[symbolId]!.markTicks;
    const notional = Math.abs(this.posQty[p]!) * mark * s.unitsPerTickLot;
    if (notional > maxNotional) return ERR.MAX_POSITION;
    const oldIm = ceilDiv(notional, this.leverage[p]!);
    const newIm = ceilDiv(notional, lev);
    if (newIm - oldIm > this.availableUnits(accountId)) return ERR.MARGIN_INSUFFICIENT;
    this.leverage[p] = lev;
    this.sink.leverage(accountId, symbolId, lev, maxNotional);
    return 0;
  }

  // =================================================================================
  // Margin arithmetic
  // =================================================================================

  /** Largest position notional allowed at a leverage (highest cap of tiers that allow it). */
  maxNotionalAt(s: SymbolSpec, lev: number): number {
    let cap = 0;
    for (const b of s.brackets) if (b.initialLeverage >= lev) cap = b.notionalCapUnits;
    return cap;
  }

  /** Maintenance margin of a position notional: ceil(notional × MMR) − cum of its tier. */
  maintMargin(s: SymbolSpec, notionalUnits: number): number {
    if (notionalUnits === 0) return 0;
    const b = this.bracketOf(s, notionalUnits);
    return mulDivCeil(notionalUnits, b.maintMarginRatioE8, RATE_ONE_E8) - b.cumUnits;
  }

  /** Wallet + unrealized PnL at current marks. */
  equityUnits(a: number): number {
    let e = this.wallet[a]!;
    if (this.positionsOpen[a] === 0) return e;
    const base = a * this.nSymbols;
    for (let s = 0; s < this.nSymbols; s++) {
      const q = this.posQty[base + s]!;
      if (q !== 0) e += q * this.markets[s]!.markTicks * this.symbols[s]!.unitsPerTickLot - this.posCost[base + s]!;
    }
    return e;
  }

  maintMarginUnits(a: number): number {
    if (this.positionsOpen[a] === 0) return 0;
    let mm = 0;
    const base = a * this.nSymbols;
    for (let s = 0; s < this.nSymbols; s++) {
      const q = this.posQty[base + s]!;
      if (q !== 0) mm += this.maintMargin(this.symbols[s]!, Math.abs(q) * this.markets[s]!.markTicks * this.symbols[s]!.unitsPerTickLot);
    }
    return mm;
  }

  positionMarginUnits(a: number): number {
    if (this.positionsOpen[a] === 0) return 0;
    let im = 0;
    const base = a * this.nSymbols;
    for (let s = 0; s < this.nSymbols; s++) {
      const q = this.posQty[base + s]!;
      if (q !== 0) im += ceilDiv(Math.abs(q) * this.markets[s]!.markTicks * this.symbols[s]!.unitsPerTickLot, this.leverage[base + s]!);
    }
    return im;
  }

  /** Margin balance − position IM − order IM. */
  availableUnits(a: number): number {
    return this.equityUnits(a) - this.positionMarginUnits(a) - this.orderMargin[a]!;
  }

  isUnderMaintenance(a: number): boolean {
    return this.positionsOpen[a] !== 0 && this.equityUnits(a) < this.maintMarginUnits(a);
  }

  /** Initial margin + worst-case taker fee reserved for an order. */
  private orderReserve(s: SymbolSpec, priceTicks: number, qtyLots: number, lev: number): number {
    const notional = priceTicks * qtyLots * s.unitsPerTickLot;
    return ceilDiv(notional, lev) + mulDivCeil(notional, s.takerFeeE8, RATE_ONE_E8);
  }

  // =================================================================================
  // Orders
  // =================================================================================

  private place(c: PlaceOrder): number {
    if (this.badAccount(c.accountId)) return this.fail(ERR.MANDATORY_PARAM, 'unknown accountId');
    if (this.badSymbol(c.symbolId)) return ERR.INVALID_SYMBOL;
    const a = c.accountId;
    const sym = c.symbolId;
    const s = this.symbols[sym]!;
    const side = sideCode(c.side);
    if (side < 0) return ERR.INVALID_SIDE;
    const type = orderTypeCode(c.orderType);
    if (type < 0) return ERR.INVALID_ORDER_TYPE;
    const market = isMarketType(type);
    const tif = market ? TIF_IOC : tifCode(c.tif);
    if (tif < 0) return ERR.INVALID_TIF;
    const stpRaw = stpCode(c.stpMode);
    if (stpRaw < 0) return this.fail(ERR.MANDATORY_PARAM, 'selfTradePreventionMode');
    const stp = stpRaw as StpMode;
    if (typeof c.reduceOnly !== 'boolean') return this.fail(ERR.MANDATORY_PARAM, 'reduceOnly');
    const qty = c.qtyLots;
    if (!isCount(qty)) return this.fail(ERR.MANDATORY_PARAM, 'quantity');
    if (qty <= 0) return ERR.QTY_NOT_POSITIVE;
    if (qty < s.minQtyLots) return ERR.QTY_BELOW_MIN;
    if (qty > (market ? s.marketMaxQtyLots : s.maxQtyLots)) return ERR.QTY_ABOVE_MAX;
    let price = 0;
    if (!market) {
      price = c.priceTicks;
      if (!isCount(price)) return this.fail(ERR.MANDATORY_PARAM, 'price');
      if (price < s.minPriceTicks) return ERR.PRICE_BELOW_MIN;
      if (price > s.maxPriceTicks) return this.fail(ERR.PRICE_ABOVE_BAND, 'above maxPrice');
    }
    const clientId = c.clientOrderId;
    if (typeof clientId !== 'string' || (clientId !== '' && !CLIENT_ID_RE.test(clientId))) return ERR.CLIENT_ID_INVALID;
    if (clientId !== '' && this.clientIds[a]?.has(clientId) === true) return ERR.DUPLICATE_CLIENT_ID;
    const m = this.markets[sym]!;
    if (m.markTicks === 0) return this.fail(ERR.NEW_ORDER_REJECTED, 'no mark price yet: set the index price first');
    const conditional = isConditionalType(type);
    let workingMark = false;
    if (conditional) {
      if (c.workingType === 'MARK_PRICE') workingMark = true;
      else if (c.workingType !== 'CONTRACT_PRICE') return this.fail(ERR.MANDATORY_PARAM, 'workingType');
      const trig = c.triggerPriceTicks;
      if (!isCount(trig) || trig < s.minPriceTicks || trig > s.maxPriceTicks) return this.fail(ERR.MANDATORY_PARAM, 'stopPrice');
      const ref = workingMark ? m.markTicks : (m.lastTradeTicks !== 0 ? m.lastTradeTicks : m.markTicks);
      if (triggersUp(type, side) ? ref >= trig : ref <= trig) return ERR.WOULD_TRIGGER;
    }
    const pidx = a * this.nSymbols + sym;
    const pos = this.posQty[pidx]!;
    if (c.reduceOnly && (pos === 0 || (pos > 0) === (side === BUY))) return ERR.REDUCE_ONLY_REJECT;
    // A reduce-only FOK larger than the position could only fill in part.
    if (c.reduceOnly && tif === TIF_FOK && qty > Math.abs(pos)) return ERR.FOK_REJECTED;
    if (!market) {
      const hi = m.markTicks + mulDivFloor(m.markTicks, s.bandUpE8, RATE_ONE_E8);
      const lo = m.markTicks - mulDivFloor(m.markTicks, s.bandDownE8, RATE_ONE_E8);
      if (side === BUY && price > hi) return ERR.PRICE_ABOVE_BAND;
      if (side === SELL && price < lo) return ERR.PRICE_BELOW_BAND;
    }
    const refPrice = market ? m.markTicks : price;
    if (!c.reduceOnly && refPrice * qty * s.unitsPerTickLot < s.minNotionalUnits) return ERR.NOTIONAL_TOO_SMALL;
    const mayRest = conditional || tif === TIF_GTC || tif === TIF_GTX;
    if (mayRest && this.openOrders[pidx]! >= s.maxOpenOrdersPerAccount) return ERR.MAX_OPEN_ORDERS;
    if (conditional) return this.acceptConditional(c, a, sym, side, type, tif, stp, price, qty, workingMark, clientId);

    const book = this.books[sym]!;
    if (mayRest && (book.orderCount() >= s.maxRestingOrders || book.levelCount() >= s.maxPriceLevels)) return this.fail(ERR.NEW_ORDER_REJECTED, 'order book is full');
    const limit = market ? this.marketBound(sym, side) : price;
    if (tif === TIF_GTX && book.wouldCross(side as Side, limit)) return ERR.GTX_REJECTED;
    if (tif === TIF_FOK) {
      this.curSym = sym; // fillableQty asks makerCapLots about this book's reduce-only makers
      if (book.fillableQty(side as Side, limit, qty, a, stp) < qty) return ERR.FOK_REJECTED;
    }
    let reserve = 0;
    if (!c.reduceOnly) {
      const lev = this.leverage[pidx]!;
      const growsTo = Math.abs(pos + (side === BUY ? qty : -qty));
      if (growsTo > Math.abs(pos) && growsTo * refPrice * s.unitsPerTickLot > this.maxNotionalAt(s, lev)) return ERR.MAX_POSITION;
      reserve = this.orderReserve(s, limit, qty, lev);
      if (reserve > this.availableUnits(a)) return ERR.MARGIN_INSUFFICIENT;
    }
    // Accepted: from here on nothing rejects.
    const o = this.orders;
    const t = this.takerSlot;
    o.id[t] = this.nextOrderId++;
    o.account[t] = a;
    o.symbol[t] = sym;
    o.side[t] = side;
    o.type[t] = type;
    o.tif[t] = tif;
    o.stp[t] = stp;
    o.flags[t] = c.reduceOnly ? F_REDUCE_ONLY : 0;
    o.status[t] = ST_NEW;
    o.price[t] = price;
    o.trigger[t] = 0;
    o.origQty[t] = qty;
    o.execQty[t] = 0;
    o.cumQuote[t] = 0;
    o.reserved[t] = reserve;
    o.timeMs[t] = this.nowMs;
    o.updateMs[t] = this.nowMs;
    o.setClientId(t, clientId);
    this.orderMargin[a] = this.orderMargin[a]! + reserve;
    this.sink.order(o, t, EX_NEW, 0, 0);
    this.takeAndRest(sym, limit, c.reduceOnly);
    return 0;
  }

  /** Worst price a market order may take: mark ± market take bound, within the price range. */
  private marketBound(sym: number, side: number): number {
    const s = this.symbols[sym]!;
    const mark = this.markets[sym]!.markTicks;
    const delta = mulDivFloor(mark, s.takeBoundE8, RATE_ONE_E8);
    return side === BUY ? Math.min(mark + delta, s.maxPriceTicks) : Math.max(mark - delta, s.minPriceTicks);
  }

  /**
   * Match the order in the taker slot, then rest its remainder (GTC/GTX limit) or expire it.
   * The taker's record is complete and its reserve is already counted.
   */
  private takeAndRest(sym: number, limitTicks: number, reduceOnly: boolean): void {
    const o = this.orders;
    const t = this.takerSlot;
    const a = o.account[t]!;
    const side = o.side[t]! as Side;
    let qty = o.origQty[t]! - o.execQty[t]!;
    let trimmed = false;
    if (reduceOnly) {
      // Never grow |position|: cap the taker at the current reducible size.
      const cap = this.reduceOnlyCap(a, sym, side);
      if (cap < qty) {
        qty = cap;
        trimmed = true;
      }
    }
    const book = this.books[sym]!;
    let remaining = 0;
    if (qty > 0) {
      this.curSym = sym;
      remaining = book.match(o.id[t]!, a, side, limitTicks, qty, o.stp[t]! as StpMode);
    }
    const left = o.origQty[t]! - o.execQty[t]!;
    if (left === 0) return; // FILLED, reported by the last fill
    const stpExpired = qty > 0 && book.stpTakerExpired;
    const tif = o.tif[t]!;
    if (!stpExpired && !trimmed && remaining > 0 && (tif === TIF_GTC || tif === TIF_GTX) && !isMarketType(o.type[t]!)) {
      this.restTaker(sym);
      return;
    }
    this.releaseReserve(t);
    o.status[t] = stpExpired ? ST_EXPIRED_IN_MATCH : ST_EXPIRED;
    o.updateMs[t] = this.nowMs;
    this.sink.order(o, t, EX_EXPIRED, 0, 0);
  }

  /** Move the taker record onto the book. */
  private restTaker(sym: number): void {
    const o = this.orders;
    const t = this.takerSlot;
    const a = o.account[t]!;
    const left = o.origQty[t]! - o.execQty[t]!;
    const bookSlot = this.books[sym]!.rest(o.id[t]!, a, o.side[t]! as Side, o.price[t]!, left, (o.flags[t]! & F_REDUCE_ONLY) !== 0 ? 1 : 0);
    assert(bookSlot !== NIL, 'book capacity was checked before matching');
    const r = this.symBase[sym]! + bookSlot;
    o.copy(t, r);
    this.linkOpen(r);
  }

  /** Add an open order to its account's list, counts and client id index. */
  private linkOpen(r: number): void {
    const o = this.orders;
    const a = o.account[r]!;
    const head = this.accHead[a]!;
    o.accPrev[r] = NIL;
    o.accNext[r] = head;
    if (head !== NIL) o.accPrev[head] = r;
    this.accHead[a] = r;
    const p = a * this.nSymbols + o.symbol[r]!;
    this.openOrders[p] = this.openOrders[p]! + 1;
    const cid = o.getClientId(r);
    if (cid !== '') {
      let map = this.clientIds[a];
      if (map === undefined) {
        map = new Map();
        this.clientIds[a] = map;
      }
      map.set(cid, o.id[r]!);
    }
  }

  private unlinkOpen(r: number): void {
    const o = this.orders;
    const a = o.account[r]!;
    const prev = o.accPrev[r]!;
    const next = o.accNext[r]!;
    assert(prev === NIL ? this.accHead[a] === r : o.accNext[prev] === r, 'unlinkOpen: the order is in its account\'s open-order list');
    if (prev === NIL) this.accHead[a] = next;
    else o.accNext[prev] = next;
    if (next !== NIL) o.accPrev[next] = prev;
    o.accPrev[r] = NIL;
    o.accNext[r] = NIL;
    const p = a * this.nSymbols + o.symbol[r]!;
    this.openOrders[p] = this.openOrders[p]! - 1;
    const cid = o.getClientId(r);
    if (cid !== '') this.clientIds[a]!.delete(cid);
  }

  /** Release all margin an order still reserves. */
  private releaseReserve(r: number): void {
    const o = this.orders;
    const before = o.reserved[r]!;
    if (before === 0) return;
    o.reserved[r] = 0;
    const a = o.account[r]!;
    this.orderMargin[a] = this.orderMargin[a]! - before;
  }

  private reduceOnlyCap(a: number, sym: number, side: number): number {
    const pos = this.posQty[a * this.nSymbols + sym]!;
    if (pos === 0 || (pos > 0) === (side === BUY)) return 0;
    return Math.abs(pos);
  }

  // ---- book listener -----------------------------------------------------------------

  makerCapLots(makerId: number, makerSlot: number): number {
    // curSym must name the book that asks (set before every match and fillableQty): a stale
    // one reads another symbol's record, and differs after restore() (not in the snapshot).
    assert(this.books[this.curSym]!.ordId[makerSlot] === makerId, 'makerCapLots: matching context names the asking book');
    const r = this.symBase[this.curSym]! + makerSlot;
    return this.reduceOnlyCap(this.orders.account[r]!, this.curSym, this.orders.side[r]!);
  }

  onMakerExpired(_makerId: number, makerSlot: number): void {
    const r = this.symBase[this.curSym]! + makerSlot;
    const o = this.orders;
    this.releaseReserve(r);
    // Same owner: self-trade prevention; otherwise a reduce-only maker with nothing left to reduce.
    o.status[r] = o.account[r] === o.account[this.takerSlot] ? ST_EXPIRED_IN_MATCH : ST_EXPIRED;
    o.updateMs[r] = this.nowMs;
    this.unlinkOpen(r);
    this.sink.order(o, r, EX_EXPIRED, 0, 0);
  }

  onTrade(_takerId: number, _makerId: number, makerSlot: number, priceTicks: number, qtyLots: number, makerRemainingLots: number): void {
    const sym = this.curSym;
    const s = this.symbols[sym]!;
    const o = this.orders;
    const t = this.takerSlot;
    const r = this.symBase[sym]! + makerSlot;
    const taker = o.account[t]!;
    const maker = o.account[r]!;
    const takerSide = o.side[t]!;
    const notional = priceTicks * qtyLots * s.unitsPerTickLot;
    const kind = this.curTakerKind;

    // Positions and realized PnL.
    const takerPnl = this.applyFill(taker, sym, takerSide === BUY ? qtyLots : -qtyLots, priceTicks);
    const makerPnl = this.applyFill(maker, sym, takerSide === BUY ? -qtyLots : qtyLots, priceTicks);

    // Fees: taker pays; maker pays or receives a rebate out of collected fees.
    let takerFee = 0;
    if (kind === 0) {
      takerFee = mulDivCeil(notional, s.takerFeeE8, RATE_ONE_E8);
      this.feesUnits += takerFee;
    } else {
      this.curLiqFeeUnits += mulDivCeil(notional, s.liquidationFeeE8, RATE_ONE_E8);
    }
    const makerFee = s.makerFeeE8 >= 0 ? mulDivCeil(notional, s.makerFeeE8, RATE_ONE_E8) : -mulDivFloor(notional, -s.makerFeeE8, RATE_ONE_E8);
    this.feesUnits += makerFee;
    this.wallet[taker] = this.wallet[taker]! + takerPnl - takerFee;
    this.wallet[maker] = this.wallet[maker]! + makerPnl - makerFee;

    // Orders.
    const tradeId = this.nextTradeId++;
    const mLeftBefore = o.origQty[r]! - o.execQty[r]!;
    o.execQty[r] = o.execQty[r]! + qtyLots;
    o.cumQuote[r] = o.cumQuote[r]! + notional;
    o.updateMs[r] = this.nowMs;
    const tLeftBefore = o.origQty[t]! - o.execQty[t]!;
    o.execQty[t] = o.execQty[t]! + qtyLots;
    o.cumQuote[t] = o.cumQuote[t]! + notional;
    o.updateMs[t] = this.nowMs;
    this.shrinkReserve(r, mLeftBefore, makerRemainingLots);
    this.shrinkReserve(t, tLeftBefore, tLeftBefore - qtyLots);

    this.sink.trade(sym, tradeId, priceTicks, qtyLots, o.id[t]!, o.id[r]!, taker, maker, takerSide, takerFee, makerFee, kind);
    this.reportFill(taker, sym, takerPnl - takerFee);
    this.reportFill(maker, sym, makerPnl - makerFee);

    if (makerRemainingLots === 0) {
      // Filled, or trimmed to nothing more by a reduce-only cap: either way it leaves the book.
      o.status[r] = o.execQty[r] === o.origQty[r] ? ST_FILLED : ST_EXPIRED;
      this.releaseReserve(r);
      this.unlinkOpen(r);
    } else {
      o.status[r] = ST_PARTIALLY_FILLED;
    }
    this.sink.order(o, r, EX_TRADE, qtyLots, priceTicks);
    o.status[t] = o.execQty[t] === o.origQty[t] ? ST_FILLED : ST_PARTIALLY_FILLED;
    this.sink.order(o, t, kind === 1 ? EX_CALCULATED : EX_TRADE, qtyLots, priceTicks);

    this.markets[sym]!.lastTradeTicks = priceTicks;
    this.tradeMoved[sym] = true;
    this.markDirty(taker);
    this.markDirty(maker);
  }

  private shrinkReserve(r: number, leftBefore: number, leftAfter: number): void {
    const o = this.orders;
    const before = o.reserved[r]!;
    if (before === 0) return;
    const after = leftAfter <= 0 ? 0 : mulDivCeil(before, leftAfter, leftBefore);
    o.reserved[r] = after;
    const a = o.account[r]!;
    this.orderMargin[a] = this.orderMargin[a]! - (before - after);
  }

  private reportFill(a: number, sym: number, walletDelta: number): void {
    const p = a * this.nSymbols + sym;
    this.sink.position(a, sym, this.posQty[p]!, this.posCost[p]!);
    if (walletDelta !== 0) this.sink.balance(a, this.wallet[a]!, walletDelta, 'ORDER');
  }

  /**
   * Apply a signed fill to a position; returns realized PnL (not yet credited).
   * Reducing removes cost pro rata (truncated); Σ(wallet − cost) is preserved exactly by
   * every trade because buyer's and seller's notional cancel.
   */
  private applyFill(a: number, sym: number, dq: number, priceTicks: number): number {
    const s = this.symbols[sym]!;
    const p = a * this.nSymbols + sym;
    const q = this.posQty[p]!;
    const c = this.posCost[p]!;
    const u = s.unitsPerTickLot;
    const m = this.markets[sym]!;
    let realized = 0;
    let nq: number;
    let nc: number;
    if (q === 0 || (q > 0) === (dq > 0)) {
      nq = q + dq;
      nc = c + dq * priceTicks * u;
    } else {
      const absQ = Math.abs(q);
      const closing = Math.min(Math.abs(dq), absQ);
      const costRemoved = closing === absQ ? c : (c > 0 ? mulDivFloor(c, closing, absQ) : -mulDivFloor(-c, closing, absQ));
      realized = (q > 0 ? closing : -closing) * priceTicks * u - costRemoved;
      nq = q + dq;
      nc = c - costRemoved;
      if (Math.abs(dq) > absQ) nc = nq * priceTicks * u; // flipped: the rest opens at this price
    }
    // Open interest (long side) and holder bookkeeping.
    m.oiLongLots += (nq > 0 ? nq : 0) - (q > 0 ? q : 0);
    this.posQty[p] = nq;
    this.posCost[p] = nc;
    if (q === 0 && nq !== 0) this.addHolder(a, sym);
    else if (q !== 0 && nq === 0) this.removeHolder(a, sym);
    return realized;
  }

  private addHolder(a: number, sym: number): void {
    const n = this.holderCount[sym]!;
    this.holders[sym]![n] = a;
    this.holderPos[sym]![a] = n;
    this.holderCount[sym] = n + 1;
    const open = this.positionsOpen[a]! + 1;
    this.positionsOpen[a] = open;
    if (open === 2) {
      this.multiSymbol.set(a);
      this.multiSymbolCount++;
    }
  }

  private removeHolder(a: number, sym: number): void {
    const i = this.holderPos[sym]![a]!;
    const last = this.holderCount[sym]! - 1;
    const moved = this.holders[sym]![last]!;
    this.holders[sym]![i] = moved;
    this.holderPos[sym]![moved] = i;
    this.holderPos[sym]![a] = NIL;
    this.holderCount[sym] = last;
    const open = this.positionsOpen[a]! - 1;
    this.positionsOpen[a] = open;
    if (open === 1) {
      this.multiSymbol.clear(a);
      this.multiSymbolCount--;
    }
    this.longLiq[sym]!.remove(a);
    this.shortLiq[sym]!.remove(a);
  }

  /** Holders of a symbol, sorted by account id (deterministic iteration). */
  private sortedHolders(sym: number): number[] {
    return Array.from(this.holders[sym]!.subarray(0, this.holderCount[sym]!)).sort((x, y) => x - y);
  }

  // ---- conditional orders ------------------------------------------------------------

  /** A free conditional slot (freed ones first, then never-used ones in order), or NIL when all are open. */
  private takeConditionalSlot(): number {
    const r = this.condFree;
    if (r !== NIL) {
      this.condFree = this.orders.accNext[r]!;
      return r;
    }
    return this.condFresh < this.condBase + this.spec.maxConditionalOrders ? this.condFresh++ : NIL;
  }

  private acceptConditional(c: PlaceOrder, a: number, sym: number, side: number, type: number, tif: number, stp: number,
    price: number, qty: number, workingMark: boolean, clientId: string): number {
    const r = this.takeConditionalSlot();
    if (r === NIL) return this.fail(ERR.NEW_ORDER_REJECTED, `maxConditionalOrders ${this.spec.maxConditionalOrders} reached`);
    const o = this.orders;
    o.id[r] = this.nextOrderId++;
    o.account[r] = a;
    o.symbol[r] = sym;
    o.side[r] = side;
    o.type[r] = type;
    o.tif[r] = tif;
    o.stp[r] = stp;
    o.flags[r] = F_CONDITIONAL | (c.reduceOnly ? F_REDUCE_ONLY : 0) | (workingMark ? F_WORKING_MARK : 0);
    o.status[r] = ST_NEW;
    o.price[r] = price;
    o.trigger[r] = c.triggerPriceTicks;
    o.origQty[r] = qty;
    o.execQty[r] = 0;
    o.cumQuote[r] = 0;
    o.reserved[r] = 0; // Binance reserves nothing until a conditional order triggers.
    o.timeMs[r] = this.nowMs;
    o.updateMs[r] = this.nowMs;
    o.setClientId(r, clientId);
    this.linkOpen(r);
    this.condById.set(o.id[r]!, r);
    this.indexConditional(r);
    this.sink.order(o, r, EX_NEW, 0, 0);
    return 0;
  }

  private indexConditional(r: number): void {
    const o = this.orders;
    const w = (o.flags[r]! & F_WORKING_MARK) !== 0 ? 1 : 0;
    const sym = o.symbol[r]!;
    const heap = triggersUp(o.type[r]!, o.side[r]!) ? this.trigUp[sym]![w]! : this.trigDown[sym]![w]!;
    heap.set(r - this.condBase, o.trigger[r]!);
  }

  private freeConditional(r: number): void {
    const o = this.orders;
    const sym = o.symbol[r]!;
    const k = r - this.condBase;
    for (let w = 0; w < 2; w++) {
      this.trigUp[sym]![w]!.remove(k);
      this.trigDown[sym]![w]!.remove(k);
    }
    this.condById.delete(o.id[r]!);
    this.unlinkOpen(r);
    o.accNext[r] = this.condFree;
    this.condFree = r;
  }

  /** Queue conditional orders whose trigger the current mark / last price has crossed. */
  private collectTriggers(sym: number, working: number): void {
    const m = this.markets[sym]!;
    const price = working === 1 ? m.markTicks : m.lastTradeTicks;
    if (price === 0) return;
    const up = this.trigUp[sym]![working]!;
    while (up.size > 0 && up.topKey() <= price) this.triggered.push(this.condBase + up.pop());
    const down = this.trigDown[sym]![working]!;
    while (down.size > 0 && down.topKey() >= price) this.triggered.push(this.condBase + down.pop());
  }

  /** Remove r from the triggered queue if it is there (in place, no allocation). */
  private dequeueTriggered(r: number): void {
    const q = this.triggered;
    const i = q.indexOf(r);
    if (i < 0) return;
    for (let k = i + 1; k < q.length; k++) q[k - 1] = q[k]!;
    q.length--;
  }

  /** A triggered conditional order becomes a LIMIT/MARKET order, checked like a new one. */
  private fireConditional(r: number): void {
    const o = this.orders;
    assert(this.condById.get(o.id[r]!) === r, 'a triggered conditional order is still open when it fires');
    const a = o.account[r]!;
    const sym = o.symbol[r]!;
    const s = this.symbols[sym]!;
    const type = o.type[r]!;
    const market = isMarketType(type);
    const reduceOnly = (o.flags[r]! & F_REDUCE_ONLY) !== 0;
    const side = o.side[r]! as Side;
    const t = this.takerSlot;
    o.copy(r, t);
    this.freeConditional(r);
    o.flags[t] = o.flags[t]! & ~F_CONDITIONAL;
    const limit = market ? this.marketBound(sym, side) : o.price[t]!;
    const pidx = a * this.nSymbols + sym;
    let expire = false;
    if (reduceOnly && this.reduceOnlyCap(a, sym, side) === 0) expire = true;
    const tif = o.tif[t]!;
    const book = this.books[sym]!;
    if (!expire && tif === TIF_GTX && book.wouldCross(side, limit)) expire = true;
    if (!expire && tif === TIF_FOK) {
      this.curSym = sym; // see place(): the cap callback reads the matching context
      if (book.fillableQty(side, limit, o.origQty[t]!, a, o.stp[t]! as StpMode) < o.origQty[t]!) expire = true;
    }
    const mayRest = !market && (tif === TIF_GTC || tif === TIF_GTX);
    if (!expire && mayRest && (book.orderCount() >= s.maxRestingOrders || book.levelCount() >= s.maxPriceLevels)) expire = true;
    let reserve = 0;
    if (!expire && !reduceOnly) {
      reserve = this.orderReserve(s, limit, o.origQty[t]!, this.leverage[pidx]!);
      if (reserve > this.availableUnits(a)) expire = true;
    }
    o.updateMs[t] = this.nowMs;
    if (expire) {
      o.status[t] = ST_EXPIRED;
      this.sink.order(o, t, EX_EXPIRED, 0, 0);
      return;
    }
    o.reserved[t] = reserve;
    this.orderMargin[a] = this.orderMargin[a]! + reserve;
    // The account's open-order list gets it back if it rests (restTaker links it).
    this.sink.order(o, t, EX_NEW, 0, 0);
    this.takeAndRest(sym, limit, reduceOnly);
  }

  // ---- cancel / modify ---------------------------------------------------------------

  /** Table index of an open order of this account and symbol, or -1. */
  private findOpen(a: number, sym: number, orderId: unknown, clientId: unknown): number {
    let id: number;
    if (isCount(orderId) && orderId > 0) id = orderId;
    else if (typeof clientId === 'string' && clientId !== '') {
      const found = this.clientIds[a]?.get(clientId);
      if (found === undefined) return NIL;
      id = found;
    } else return NIL;
    const book = this.books[sym]!;
    const bs = book.slotOf(id);
    let r = NIL;
    if (bs !== NIL) r = this.symBase[sym]! + bs;
    else {
      const cr = this.condById.get(id);
      if (cr !== undefined) r = cr;
    }
    if (r === NIL || this.orders.account[r] !== a || this.orders.symbol[r] !== sym) return NIL;
    return r;
  }

  private cancel(accountId: number, symbolId: number, orderId: number, clientId: string): number {
    if (this.badAccount(accountId)) return this.fail(ERR.MANDATORY_PARAM, 'unknown accountId');
    if (this.badSymbol(symbolId)) return ERR.INVALID_SYMBOL;
    if (!(isCount(orderId) && orderId > 0) && !(typeof clientId === 'string' && clientId !== '')) return this.fail(ERR.MANDATORY_PARAM, 'orderId or origClientOrderId');
    const r = this.findOpen(accountId, symbolId, orderId, clientId);
    if (r === NIL) return ERR.CANCEL_REJECTED;
    this.cancelOpen(r, ST_CANCELED);
    return 0;
  }

  private cancelOpen(r: number, status: number): void {
    const o = this.orders;
    if ((o.flags[r]! & F_CONDITIONAL) !== 0) {
      // Triggered but not fired yet (a liquidation in the same settle cancels its orders):
      // take it off the queue, or it would fire from a freed slot.
      this.dequeueTriggered(r);
      o.status[r] = status;
      o.updateMs[r] = this.nowMs;
      this.freeConditional(r);
      this.sink.order(o, r, status === ST_CANCELED ? EX_CANCELED : EX_EXPIRED, 0, 0);
      return;
    }
    const sym = o.symbol[r]!;
    this.books[sym]!.cancel(o.id[r]!);
    this.releaseReserve(r);
    o.status[r] = status;
    o.updateMs[r] = this.nowMs;
    this.unlinkOpen(r);
    this.sink.order(o, r, status === ST_CANCELED ? EX_CANCELED : EX_EXPIRED, 0, 0);
  }

  /** Open orders of an account (optionally one symbol), by ascending order id. */
  openOrderSlots(a: number, sym = -1): number[] {
    const out: number[] = [];
    const o = this.orders;
    for (let r = this.accHead[a]!; r !== NIL; r = o.accNext[r]!) if (sym < 0 || o.symbol[r] === sym) out.push(r);
    return out.sort((x, y) => o.id[x]! - o.id[y]!);
  }

  /** OrderTable index of an order resting on a symbol's book, or -1. */
  restingOrderIndex(sym: number, orderId: number): number {
    const slot = this.books[sym]!.slotOf(orderId);
    return slot < 0 ? NIL : this.symBase[sym]! + slot;
  }

  /** Ids and client ids of an account's open orders in one symbol (ascending id). */
  openOrderIds(a: number, sym: number): { id: number; clientId: string }[] {
    if (this.badAccount(a) || this.badSymbol(sym)) return [];
    return this.openOrderSlots(a, sym).map((r) => ({ id: this.orders.id[r]!, clientId: this.orders.getClientId(r) }));
  }

  private cancelAll(accountId: number, symbolId: number): number {
    if (this.badAccount(accountId)) return this.fail(ERR.MANDATORY_PARAM, 'unknown accountId');
    if (this.badSymbol(symbolId)) return ERR.INVALID_SYMBOL;
    for (const r of this.openOrderSlots(accountId, symbolId)) this.cancelOpen(r, ST_CANCELED);
    return 0;
  }

  private modify(accountId: number, symbolId: number, orderId: number, clientId: string, priceTicks: number, qtyLots: number): number {
    if (this.badAccount(accountId)) return this.fail(ERR.MANDATORY_PARAM, 'unknown accountId');
    if (this.badSymbol(symbolId)) return ERR.INVALID_SYMBOL;
    const r = this.findOpen(accountId, symbolId, orderId, clientId);
    if (r === NIL) return ERR.NO_SUCH_ORDER;
    const o = this.orders;
    if ((o.flags[r]! & F_CONDITIONAL) !== 0 || o.type[r] !== OT_LIMIT) return this.fail(ERR.NEW_ORDER_REJECTED, 'only resting LIMIT orders can be modified');
    const s = this.symbols[symbolId]!;
    if (!isCount(priceTicks)) return this.fail(ERR.MANDATORY_PARAM, 'price');
    if (priceTicks < s.minPriceTicks) return ERR.PRICE_BELOW_MIN;
    if (priceTicks > s.maxPriceTicks) return this.fail(ERR.PRICE_ABOVE_BAND, 'above maxPrice');
    if (!isCount(qtyLots)) return this.fail(ERR.MANDATORY_PARAM, 'quantity');
    if (qtyLots <= 0) return ERR.QTY_NOT_POSITIVE;
    if (qtyLots > s.maxQtyLots) return ERR.QTY_ABOVE_MAX;
    const executed = o.execQty[r]!;
    if (qtyLots <= executed) return this.fail(ERR.NEW_ORDER_REJECTED, 'quantity must exceed the executed quantity');
    const side = o.side[r]! as Side;
    const m = this.markets[symbolId]!;
    const hi = m.markTicks + mulDivFloor(m.markTicks, s.bandUpE8, RATE_ONE_E8);
    const lo = m.markTicks - mulDivFloor(m.markTicks, s.bandDownE8, RATE_ONE_E8);
    if (side === BUY && priceTicks > hi) return ERR.PRICE_ABOVE_BAND;
    if (side === SELL && priceTicks < lo) return ERR.PRICE_BELOW_BAND;
    const reduceOnly = (o.flags[r]! & F_REDUCE_ONLY) !== 0;
    if (!reduceOnly && priceTicks * qtyLots * s.unitsPerTickLot < s.minNotionalUnits) return ERR.NOTIONAL_TOO_SMALL;
    const book = this.books[symbolId]!;
    // The order leaves the book before the new one is checked: test crossing without it.
    const tif = o.tif[r]!;
    const newLeft = qtyLots - executed;
    const lev = this.leverage[accountId * this.nSymbols + symbolId]!;
    const newReserve = reduceOnly ? 0 : this.orderReserve(s, priceTicks, newLeft, lev);
    if (newReserve - o.reserved[r]! > this.availableUnits(accountId)) return ERR.MARGIN_INSUFFICIENT;
    if (tif === TIF_GTX && book.wouldCross(side, priceTicks)) return ERR.GTX_REJECTED;
    // Accepted: move the order to the taker slot, off the book, and re-enter it.
    const t = this.takerSlot;
    book.cancel(o.id[r]!);
    this.unlinkOpen(r);
    o.copy(r, t);
    this.orderMargin[accountId] = this.orderMargin[accountId]! - o.reserved[t]! + newReserve;
    o.reserved[t] = newReserve;
    o.price[t] = priceTicks;
    o.origQty[t] = qtyLots;
    o.updateMs[t] = this.nowMs;
    this.sink.order(o, t, EX_AMENDMENT, 0, 0);
    this.takeAndRest(symbolId, priceTicks, reduceOnly);
    return 0;
  }

  // =================================================================================
  // Prices, time, funding
  // =================================================================================

  private setIndexPrice(symbolId: number, priceTicks: number): number {
    if (this.badSymbol(symbolId)) return ERR.INVALID_SYMBOL;
    const s = this.symbols[symbolId]!;
    if (!(isCount(priceTicks) && priceTicks >= s.minPriceTicks && priceTicks <= s.maxPriceTicks)) return this.fail(ERR.MANDATORY_PARAM, `index price must be ${s.minPriceTicks}..${s.maxPriceTicks} ticks`);
    this.markets[symbolId]!.indexTicks = priceTicks;
    this.updateMark(symbolId);
    return 0;
  }

  private advanceTime(timeMs: number): number {
    if (!(isCount(timeMs) && timeMs >= 0)) return this.fail(ERR.MANDATORY_PARAM, 'timeMs must be a non-negative integer');
    if (timeMs < this.nowMs) return this.fail(ERR.MANDATORY_PARAM, `time cannot go backwards (now ${this.nowMs})`);
    if (!this.clockStarted) {
      // The first time command starts the clock; funding boundaries count from here.
      this.clockStarted = true;
      this.nowMs = timeMs;
      for (let i = 0; i < this.nSymbols; i++) {
        const iv = this.symbols[i]!.fundingIntervalMs;
        this.markets[i]!.nextFundingTimeMs = (floorDiv(timeMs, iv) + 1) * iv;
      }
      for (let i = 0; i < this.nSymbols; i++) this.updateMark(i);
      return 0;
    }
    for (let i = 0; i < this.nSymbols; i++) {
      const iv = this.symbols[i]!.fundingIntervalMs;
      const crossings = timeMs >= this.markets[i]!.nextFundingTimeMs ? floorDiv(timeMs - this.markets[i]!.nextFundingTimeMs, iv) + 1 : 0;
      if (crossings > this.spec.maxFundingSettlementsPerAdvance) return this.fail(ERR.MANDATORY_PARAM, `time jump crosses ${crossings} funding times (max ${this.spec.maxFundingSettlementsPerAdvance})`);
    }
    const from = this.nowMs;
    for (let i = 0; i < this.nSymbols; i++) this.advanceSymbol(i, from, timeMs);
    this.nowMs = timeMs;
    for (let i = 0; i < this.nSymbols; i++) this.updateMark(i);
    return 0;
  }

  /** Sample basis and premium for the whole seconds / 5 s marks in (from, to], settling funding on the way. */
  private advanceSymbol(sym: number, from: number, to: number): void {
    const m = this.markets[sym]!;
    const s = this.symbols[sym]!;
    // The book and index do not change inside one command, so samples in one span are equal.
    const seconds = floorDiv(to, 1000) - floorDiv(from, 1000);
    if (seconds > 0 && m.indexTicks > 0) {
      const basis = this.basisSample(sym);
      for (let k = 0; k < Math.min(seconds, MARK_SAMPLES); k++) {
        m.basisRing[m.basisPos] = basis;
        m.basisPos = (m.basisPos + 1) % MARK_SAMPLES;
        if (m.basisCount < MARK_SAMPLES) m.basisCount++;
      }
    }
    let cursor = from;
    while (m.nextFundingTimeMs <= to) {
      const at = m.nextFundingTimeMs;
      this.addPremiumSamples(sym, cursor, at);
      this.nowMs = at;
      this.settleFunding(sym, at);
      m.nextFundingTimeMs = at + s.fundingIntervalMs;
      cursor = at;
    }
    this.addPremiumSamples(sym, cursor, to);
  }

  private addPremiumSamples(sym: number, from: number, to: number): void {
    const k = floorDiv(to, PREMIUM_SAMPLE_MS) - floorDiv(from, PREMIUM_SAMPLE_MS);
    const m = this.markets[sym]!;
    if (k <= 0 || m.indexTicks === 0) return;
    m.premiumSumE8 += k * this.premiumSampleE8(sym);
    m.premiumCount += k;
  }

  /** (mid − index) in ticks, 0 when a side of the book is empty. */
  private basisSample(sym: number): number {
    const book = this.books[sym]!;
    const bid = book.bestBid();
    const ask = book.bestAsk();
    if (bid < 0 || ask < 0) return 0;
    return floorDiv(bid + ask, 2) - this.markets[sym]!.indexTicks;
  }

  /** Premium index P = [max(0, impact bid − index) − max(0, index − impact ask)] / index, E8. */
  private premiumSampleE8(sym: number): number {
    const index = this.markets[sym]!.indexTicks;
    const bid = this.impactPrice(sym, BUY);
    const ask = this.impactPrice(sym, SELL);
    if (bid === 0 || ask === 0) return 0;
    const diff = Math.max(0, bid - index) - Math.max(0, index - ask);
    return diff >= 0 ? mulDivFloor(diff, RATE_ONE_E8, index) : -mulDivFloor(-diff, RATE_ONE_E8, index);
  }

  /** Average fill price of the impact notional on one side (BUY = bids), 0 if too thin. */
  private impactPrice(sym: number, side: Side): number {
    const s = this.symbols[sym]!;
    const book = this.books[sym]!;
    const target = s.impactNotionalUnits;
    let notional = 0;
    let lots = 0;
    let p = side === BUY ? book.bestBid() : book.bestAsk();
    let levels = 0;
    while (p > 0 && notional < target && levels < 10_000) {
      const perLot = p * s.unitsPerTickLot;
      const need = ceilDiv(target - notional, perLot);
      const take = Math.min(need, book.depthAt(p));
      notional += take * perLot;
      lots += take;
      p = book.nextLevel(side, p);
      levels++;
    }
    if (notional < target || lots === 0) return 0;
    return floorDiv(notional, lots * s.unitsPerTickLot);
  }

  /** F = avgP + clamp(I − avgP, ±0.05 %), then the symbol's cap/floor. */
  estimatedFundingRateE8(sym: number): number {
    const m = this.markets[sym]!;
    const s = this.symbols[sym]!;
    const avg = m.premiumCount === 0 ? 0 : (m.premiumSumE8 >= 0 ? floorDiv(m.premiumSumE8, m.premiumCount) : -floorDiv(-m.premiumSumE8, m.premiumCount));
    const i = s.interestPerIntervalE8;
    const f = avg + Math.max(-FUNDING_CLAMP_E8, Math.min(FUNDING_CLAMP_E8, i - avg));
    return Math.max(s.fundingFloorE8, Math.min(s.fundingCapE8, f));
  }

  /** Mark = median(index × (1 + F × t/interval), index + MA30(mid − index), last trade). */
  private updateMark(sym: number): void {
    const m = this.markets[sym]!;
    if (m.indexTicks === 0) return;
    const s = this.symbols[sym]!;
    const f = this.estimatedFundingRateE8(sym);
    const remainingMs = m.nextFundingTimeMs > this.nowMs ? m.nextFundingTimeMs - this.nowMs : 0;
    const adj = mulDivFloor(mulDivFloor(m.indexTicks, f, RATE_ONE_E8), remainingMs, s.fundingIntervalMs);
    const price1 = m.indexTicks + adj;
    let basisSum = 0;
    for (let k = 0; k < m.basisCount; k++) basisSum += m.basisRing[k]!;
    const price2 = m.indexTicks + (m.basisCount === 0 ? 0 : (basisSum >= 0 ? floorDiv(basisSum, m.basisCount) : -floorDiv(-basisSum, m.basisCount)));
    const last = m.lastTradeTicks !== 0 ? m.lastTradeTicks : m.indexTicks;
    const mark = Math.max(s.minPriceTicks, Math.min(s.maxPriceTicks, median3(price1, price2, last)));
    const moved = mark !== m.markTicks;
    m.markTicks = mark;
    this.sink.markPrice(sym, mark, m.indexTicks, f, m.nextFundingTimeMs);
    if (moved) this.markMoved[sym] = true;
  }

  /**
   * Every open position pays mark notional × F (longs pay shorts when F > 0). Payers round
   * up, receivers down; the remainder goes to the insurance fund, so Σ = 0 exactly.
   */
  private settleFunding(sym: number, atMs: number): void {
    const m = this.markets[sym]!;
    const s = this.symbols[sym]!;
    const rate = this.estimatedFundingRateE8(sym);
    m.lastFundingRateE8 = rate;
    m.premiumSumE8 = 0;
    m.premiumCount = 0;
    this.sink.funding(sym, rate, m.markTicks, atMs);
    if (rate === 0 || m.markTicks === 0) return;
    const absRate = Math.abs(rate);
    let paid = 0;
    let received = 0;
    for (const a of this.sortedHolders(sym)) {
      const q = this.posQty[a * this.nSymbols + sym]!;
      const notional = Math.abs(q) * m.markTicks * s.unitsPerTickLot;
      const pays = (q > 0) === (rate > 0);
      const amount = pays ? mulDivCeil(notional, absRate, RATE_ONE_E8) : mulDivFloor(notional, absRate, RATE_ONE_E8);
      if (amount === 0) continue;
      const delta = pays ? -amount : amount;
      if (pays) paid += amount;
      else received += amount;
      this.wallet[a] = this.wallet[a]! + delta;
      this.sink.balance(a, this.wallet[a]!, delta, 'FUNDING_FEE');
      this.markDirty(a);
    }
    const remainder = paid - received;
    assert(remainder >= 0, 'funding: payers round up, receivers down');
    if (remainder > 0) {
      this.insuranceUnits += remainder;
      this.sink.insurance(this.insuranceUnits, remainder, 'FUNDING_REMAINDER');
    }
  }

  // =================================================================================
  // Settle phase: triggers, risk, liquidation
  // =================================================================================

  private markDirty(a: number): void {
    if (this.dirtyFlag[a] === 1) return;
    this.dirtyFlag[a] = 1;
    this.dirty[this.dirtyCount++] = a;
  }

  private settle(): void {
    let steps = 0;
    for (;;) {
      assert(++steps < SETTLE_STEPS_MAX, 'settle loop did not converge');
      let work = false;
      for (let sym = 0; sym < this.nSymbols; sym++) {
        if (this.markMoved[sym]) {
          this.markMoved[sym] = false;
          this.collectMarkRisk(sym);
          this.collectTriggers(sym, 1);
          work = true;
        }
        if (this.tradeMoved[sym]) {
          this.tradeMoved[sym] = false;
          this.collectTriggers(sym, 0);
          work = true;
        }
      }
      if (this.dirtyCount > 0) {
        work = true;
        // Risk first: liquidations must not wait behind triggered orders.
        while (this.dirtyCount > 0) {
          const a = this.dirty[--this.dirtyCount]!;
          this.dirtyFlag[a] = 0;
          this.refreshRisk(a);
        }
      }
      if (this.triggered.length > 0) {
        work = true;
        // Fire in trigger order; ids break ties so the sequence is deterministic.
        const r = this.triggered.shift()!;
        this.fireConditional(r);
      }
      if (!work) break;
    }
  }

  /** Pop accounts whose liquidation price the new mark crossed; mark multi-symbol holders. */
  private collectMarkRisk(sym: number): void {
    const mark = this.markets[sym]!.markTicks;
    const longs = this.longLiq[sym]!;
    while (longs.size > 0 && longs.topKey() >= mark) this.markDirty(longs.pop());
    const shorts = this.shortLiq[sym]!;
    while (shorts.size > 0 && shorts.topKey() <= mark) this.markDirty(shorts.pop());
    // Cross-margin: a mark move in one symbol shifts the liquidation price in the others.
    if (this.multiSymbolCount > 0) {
      const multi = this.multiSymbol;
      for (let a = multi.lowestAtOrAbove(0); a >= 0; a = multi.lowestAtOrAbove(a + 1)) {
        if (this.posQty[a * this.nSymbols + sym] !== 0) this.markDirty(a);
      }
    }
  }

  /**
   * Re-index the account's liquidation prices; liquidate if the current mark has crossed
   * one. The key is exact (the integer margin test at the boundary), so "mark crossed the
   * key" is the same test as equity < maintenance margin, without computing it twice.
   */
  private refreshRisk(a: number): void {
    if (this.positionsOpen[a] === 0) {
      if (this.wallet[a]! < 0) this.coverDeficit(a);
      return;
    }
    let under = false;
    for (let sym = 0; sym < this.nSymbols; sym++) {
      const q = this.posQty[a * this.nSymbols + sym]!;
      if (q === 0) continue;
      const key = this.liquidationKey(a, sym);
      const mark = this.markets[sym]!.markTicks;
      if (q > 0) {
        this.longLiq[sym]!.set(a, key);
        if (mark <= key) under = true;
      } else {
        this.shortLiq[sym]!.set(a, key);
        if (mark >= key) under = true;
      }
    }
    if (under) {
      assert(this.isUnderMaintenance(a), 'liquidation key agrees with the margin test');
      this.liquidate(a);
    }
  }

  /**
   * The mark price (ticks) of `sym` at which the account falls below maintenance, other
   * marks fixed: for a long the highest such price (0: never), for a short the lowest
   * (PRICE_INF: never). Exact: a closed-form guess verified by the integer margin test,
   * with a binary search when the guess lands in another tier.
   */
  liquidationKey(a: number, sym: number): number {
    const s = this.symbols[sym]!;
    const p = a * this.nSymbols + sym;
    const q = this.posQty[p]!;
    const c = this.posCost[p]!;
    const u = s.unitsPerTickLot;
    // K = wallet + other positions' (uPnL − MM).
    let k = this.wallet[a]!;
    const base = a * this.nSymbols;
    for (let o = 0; o < this.nSymbols; o++) {
      if (o === sym) continue;
      const oq = this.posQty[base + o]!;
      if (oq === 0) continue;
      const os = this.symbols[o]!;
      const mk = this.markets[o]!.markTicks;
      k += oq * mk * os.unitsPerTickLot - this.posCost[base + o]! - this.maintMargin(os, Math.abs(oq) * mk * os.unitsPerTickLot);
    }
    const absQ = Math.abs(q);
    const maxP = s.maxPriceTicks;
    const mark = this.markets[sym]!.markTicks;
    const b = this.bracketOf(s, absQ * Math.max(mark, 1) * u);
    if (q > 0) {
      // root ≈ (c − K − cum) / (q·u·(1 − r))
      const num = c - k - b.cumUnits;
      const g = num <= 0 ? 0 : floorDiv(mulDivFloor(num, RATE_ONE_E8, RATE_ONE_E8 - b.maintMarginRatioE8), absQ * u);
      for (let d = -1; d <= 1; d++) {
        const x = g + d;
        if (x >= 1 && x < maxP && this.underAt(s, k, q, c, x) && !this.underAt(s, k, q, c, x + 1)) return x;
      }
      if (!this.underAt(s, k, q, c, 1)) return 0;
      if (this.underAt(s, k, q, c, maxP)) return maxP;
      let lo = 1;
      let hi = maxP; // under(lo), !under(hi)
      while (hi - lo > 1) {
        const mid = lo + floorDiv(hi - lo, 2);
        if (this.underAt(s, k, q, c, mid)) lo = mid;
        else hi = mid;
      }
      return lo;
    }
    // short: root ≈ (K − c + cum) / (|q|·u·(1 + r))   (c < 0)
    const num = k - c + b.cumUnits;
    const g = num <= 0 ? 0 : floorDiv(mulDivFloor(num, RATE_ONE_E8, RATE_ONE_E8 + b.maintMarginRatioE8), absQ * u);
    for (let d = 0; d <= 2; d++) {
      const x = g + d;
      if (x > 1 && x <= maxP && this.underAt(s, k, q, c, x) && !this.underAt(s, k, q, c, x - 1)) return x;
    }
    if (this.underAt(s, k, q, c, 1)) return 1;
    if (!this.underAt(s, k, q, c, maxP)) return PRICE_INF;
    let lo = 1;
    let hi = maxP; // !under(lo), under(hi)
    while (hi - lo > 1) {
      const mid = lo + floorDiv(hi - lo, 2);
      if (this.underAt(s, k, q, c, mid)) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  /** K + qPu − c − MM(|q|Pu) < 0: below maintenance if this symbol's mark were `price`. */
  private underAt(s: SymbolSpec, k: number, q: number, c: number, price: number): boolean {
    const u = s.unitsPerTickLot;
    return k + q * price * u - c - this.maintMargin(s, Math.abs(q) * price * u) < 0;
  }

  private bracketOf(s: SymbolSpec, notionalUnits: number) {
    const brackets = s.brackets;
    let i = 0;
    while (i < brackets.length - 1 && notionalUnits > brackets[i]!.notionalCapUnits) i++;
    return brackets[i]!;
  }

  /**
   * Liquidate an account below maintenance margin (perp-mechanics.md):
   *  1. cancel all its open orders;
   *  2. per position, an IOC order into the book down to the price at which the account's
   *     loss would exhaust the insurance fund (never past the market take bound), paying the
   *     liquidation fee to the fund out of whatever equity remains;
   *  3. what the book cannot take is auto-deleveraged against the opposite positions,
   *     best-ranked first, at the bankruptcy price (no fee);
   *  4. a negative wallet left over is covered by the insurance fund.
   */
  private liquidate(a: number): void {
    for (const r of this.openOrderSlots(a)) this.cancelOpen(r, ST_CANCELED);
    for (let sym = 0; sym < this.nSymbols; sym++) {
      const q = this.posQty[a * this.nSymbols + sym]!;
      if (q !== 0) this.liquidatePosition(a, sym);
    }
    if (this.wallet[a]! < 0) this.coverDeficit(a);
  }

  /**
   * A flat account with a negative wallet (bankrupt) is topped back up by the insurance
   * fund. Liquidation limits keep that deficit within the fund; a deficit the fund cannot
   * cover (only reachable through prices clamped at the range ends) stays on the account.
   */
  private coverDeficit(a: number): void {
    const deficit = -this.wallet[a]!;
    const cover = Math.min(deficit, this.insuranceUnits);
    if (cover <= 0) return;
    this.insuranceUnits -= cover;
    this.wallet[a] = this.wallet[a]! + cover;
    this.sink.insurance(this.insuranceUnits, -cover, 'COVER_DEFICIT');
    this.sink.balance(a, this.wallet[a]!, cover, 'INSURANCE_CLEAR');
  }

  /** Equity excluding one position's unrealized PnL. */
  private equityWithout(a: number, sym: number): number {
    const p = a * this.nSymbols + sym;
    const q = this.posQty[p]!;
    return this.equityUnits(a) - (q * this.markets[sym]!.markTicks * this.symbols[sym]!.unitsPerTickLot - this.posCost[p]!);
  }

  private liquidatePosition(a: number, sym: number): void {
    const s = this.symbols[sym]!;
    const m = this.markets[sym]!;
    const u = s.unitsPerTickLot;
    const p = a * this.nSymbols + sym;
    const q = this.posQty[p]!;
    const absQ = Math.abs(q);
    const side: Side = q > 0 ? SELL : BUY;
    // Closing all at P leaves equity K' + qPu − c. The worst price the fund can absorb:
    // K' + qPu − c ≥ −fund  →  long: P ≥ (c − K' − fund)/(q·u); short: P ≤ (K' + fund − c)/(|q|·u).
    const k0 = this.equityWithout(a, sym);
    const c0 = this.posCost[p]!;
    const bound = this.marketBound(sym, side);
    let limit: number;
    if (q > 0) limit = Math.max(bound, Math.max(s.minPriceTicks, ceilDiv(c0 - k0 - this.insuranceUnits, absQ * u)));
    else limit = Math.min(bound, floorDiv(k0 + this.insuranceUnits - c0, absQ * u));
    this.sink.liquidation(a, sym, side, absQ, m.markTicks, this.bankruptcyPrice(a, sym));
    if (limit >= s.minPriceTicks && limit <= s.maxPriceTicks) {
      const o = this.orders;
      const t = this.takerSlot;
      o.id[t] = this.nextOrderId++;
      o.account[t] = a;
      o.symbol[t] = sym;
      o.side[t] = side;
      o.type[t] = OT_LIMIT;
      o.tif[t] = TIF_IOC;
      o.stp[t] = STP_NONE;
      o.flags[t] = F_LIQUIDATION | F_REDUCE_ONLY;
      o.status[t] = ST_NEW;
      o.price[t] = limit;
      o.trigger[t] = 0;
      o.origQty[t] = absQ;
      o.execQty[t] = 0;
      o.cumQuote[t] = 0;
      o.reserved[t] = 0;
      o.timeMs[t] = this.nowMs;
      o.updateMs[t] = this.nowMs;
      o.setClientId(t, `autoclose-${o.id[t]}`);
      this.sink.order(o, t, EX_NEW, 0, 0);
      this.curSym = sym;
      this.curTakerKind = 1;
      this.curLiqFeeUnits = 0;
      this.books[sym]!.match(o.id[t]!, a, side, limit, absQ, STP_NONE);
      this.curTakerKind = 0;
      if (o.execQty[t]! < absQ) {
        o.status[t] = ST_EXPIRED;
        this.sink.order(o, t, EX_EXPIRED, 0, 0);
      }
      // Liquidation fee: only out of equity that remains positive.
      const equity = this.equityUnits(a);
      const fee = Math.min(this.curLiqFeeUnits, Math.max(0, equity));
      this.curLiqFeeUnits = 0;
      if (fee > 0) {
        this.wallet[a] = this.wallet[a]! - fee;
        this.insuranceUnits += fee;
        this.sink.balance(a, this.wallet[a]!, -fee, 'LIQUIDATION');
        this.sink.insurance(this.insuranceUnits, fee, 'LIQUIDATION_FEE');
      }
    }
    if (this.posQty[p] !== 0) this.autoDeleverage(a, sym);
  }

  /** Price at which closing the whole position leaves zero equity (rounded in the account's favour ≥ 0). */
  bankruptcyPrice(a: number, sym: number): number {
    const s = this.symbols[sym]!;
    const p = a * this.nSymbols + sym;
    const q = this.posQty[p]!;
    if (q === 0) return 0;
    const k = this.equityWithout(a, sym);
    const c = this.posCost[p]!;
    const d = Math.abs(q) * s.unitsPerTickLot;
    const price = q > 0 ? ceilDiv(c - k, d) : floorDiv(k - c, d);
    return Math.max(1, price);
  }

  private autoDeleverage(a: number, sym: number): void {
    const s = this.symbols[sym]!;
    const p = a * this.nSymbols + sym;
    const q = this.posQty[p]!;
    const price = this.bankruptcyPrice(a, sym);
    const mark = this.markets[sym]!.markTicks;
    const u = s.unitsPerTickLot;
    // Rank opposite positions by PnL% × effective leverage (PnL% / leverage when losing).
    const ranked: { acc: number; score: number }[] = [];
    for (const b of this.sortedHolders(sym)) {
      if (b === a) continue;
      const bq = this.posQty[b * this.nSymbols + sym]!;
      if ((bq > 0) === (q > 0)) continue;
      const cost = Math.abs(this.posCost[b * this.nSymbols + sym]!);
      const notional = Math.abs(bq) * mark * u;
      const pnl = bq * mark * u - this.posCost[b * this.nSymbols + sym]!;
      const pnlE8 = cost === 0 ? 0 : (pnl >= 0 ? mulDivFloor(pnl, RATE_ONE_E8, cost) : -mulDivFloor(-pnl, RATE_ONE_E8, cost));
      const equity = Math.max(1, this.equityUnits(b));
      // Saturating: with equity near 0 the effective leverage is unbounded and the exact score
      // overflows (perpx sim --seed 1 --steps 10911 --fault-rate 0 threw inside apply and
      // fail-stopped the journal); such an account just ranks first.
      const score = pnlE8 >= 0 ? mulDivFloorSaturating(pnlE8, notional, equity) : -mulDivFloorSaturating(-pnlE8, equity, Math.max(1, notional));
      ranked.push({ acc: b, score });
    }
    ranked.sort((x, y) => (y.score - x.score) || (x.acc - y.acc));
    let left = Math.abs(q);
    for (const { acc: b } of ranked) {
      if (left === 0) break;
      const bp = b * this.nSymbols + sym;
      const take = Math.min(left, Math.abs(this.posQty[bp]!));
      const aPnl = this.applyFill(a, sym, q > 0 ? -take : take, price);
      const bPnl = this.applyFill(b, sym, q > 0 ? take : -take, price);
      this.wallet[a] = this.wallet[a]! + aPnl;
      this.wallet[b] = this.wallet[b]! + bPnl;
      const tradeId = this.nextTradeId++;
      this.sink.trade(sym, tradeId, price, take, 0, 0, a, b, q > 0 ? SELL : BUY, 0, 0, 2);
      this.sink.adl(a, b, sym, take, price);
      this.reportFill(a, sym, aPnl);
      this.sink.position(b, sym, this.posQty[bp]!, this.posCost[bp]!);
      if (bPnl !== 0) this.sink.balance(b, this.wallet[b]!, bPnl, 'ADL');
      this.markets[sym]!.lastTradeTicks = price;
      this.markDirty(b);
      left -= take;
    }
    assert(left === 0, 'open interest is balanced, so opposite positions cover the remainder');
  }

  // =================================================================================
  // Invariants, state hash, snapshot / restore
  // =================================================================================

  /** Σ wallet − Σ cost + insurance + fees; equals deposits − withdrawals at every sequence. */
  ledgerUnits(): number {
    let sum = this.insuranceUnits + this.feesUnits;
    for (let a = 0; a < this.accountCount; a++) {
      sum += this.wallet[a]!;
      if (this.positionsOpen[a] === 0) continue;
      for (let s = 0; s < this.nSymbols; s++) sum -= this.posCost[a * this.nSymbols + s]!;
    }
    return sum;
  }

  /** Σ over long positions vs Σ over short positions, per symbol. */
  openInterest(sym: number): { longLots: number; shortLots: number } {
    let longLots = 0;
    let shortLots = 0;
    for (let a = 0; a < this.accountCount; a++) {
      const q = this.posQty[a * this.nSymbols + sym]!;
      if (q > 0) longLots += q;
      else shortLots -= q;
    }
    return { longLots, shortLots };
  }

  stateHash(): string {
    return createHash('sha256').update(this.snapshot()).digest('hex');
  }

  private static readonly MAGIC = 0x50455250; // "PERP"
  private static readonly VERSION = 1;

  /** Canonical bytes of the whole state (independent of pool slots and history). */
  snapshot(): Uint8Array {
    const w = new ByteWriter();
    w.num(Engine.MAGIC);
    w.num(Engine.VERSION);
    w.str(JSON.stringify(this.spec.cfg));
    w.num(this.nowMs);
    w.u8(this.clockStarted ? 1 : 0);
    w.num(this.nextOrderId);
    w.num(this.nextTradeId);
    w.num(this.accountCount);
    w.num(this.commandsApplied);
    w.num(this.depositsUnits);
    w.num(this.withdrawalsUnits);
    w.num(this.insuranceUnits);
    w.num(this.feesUnits);
    for (const m of this.markets) {
      w.num(m.indexTicks);
      w.num(m.markTicks);
      w.num(m.lastTradeTicks);
      w.num(m.basisCount);
      w.num(m.basisPos);
      for (let k = 0; k < MARK_SAMPLES; k++) w.num(m.basisRing[k]!);
      w.num(m.premiumSumE8);
      w.num(m.premiumCount);
      w.num(m.lastFundingRateE8);
      w.num(m.nextFundingTimeMs);
    }
    const n = this.nSymbols;
    for (let a = 0; a < this.accountCount; a++) {
      w.num(this.wallet[a]!);
      w.num(this.orderMargin[a]!);
      for (let s = 0; s < n; s++) {
        w.num(this.posQty[a * n + s]!);
        w.num(this.posCost[a * n + s]!);
        w.u8(this.leverage[a * n + s]!);
      }
    }
    // Resting orders in priority order (best price first, FIFO), per symbol and side.
    for (let sym = 0; sym < n; sym++) {
      const book = this.books[sym]!;
      w.num(book.orderCount());
      for (const side of [BUY, SELL] as const) {
        book.forEachOrder(side, (slot) => this.writeOrder(w, this.symBase[sym]! + slot, book.ordQty[slot]!));
      }
    }
    const conds = Array.from(this.condById.values()).sort((x, y) => this.orders.id[x]! - this.orders.id[y]!);
    w.num(conds.length);
    for (const r of conds) this.writeOrder(w, r, 0);
    return w.bytes();
  }

  private writeOrder(w: ByteWriter, r: number, bookQty: number): void {
    const o = this.orders;
    w.num(o.id[r]!);
    w.num(o.account[r]!);
    w.u8(o.symbol[r]!);
    w.u8(o.side[r]!);
    w.u8(o.type[r]!);
    w.u8(o.tif[r]!);
    w.u8(o.stp[r]!);
    w.u8(o.flags[r]!);
    w.u8(o.status[r]!);
    w.num(o.price[r]!);
    w.num(o.trigger[r]!);
    w.num(o.origQty[r]!);
    w.num(o.execQty[r]!);
    w.num(o.cumQuote[r]!);
    w.num(o.reserved[r]!);
    w.num(o.timeMs[r]!);
    w.num(o.updateMs[r]!);
    w.str(o.getClientId(r));
    w.num(bookQty);
  }

  /** Replace the whole state with a snapshot taken from an engine with the same config. */
  restore(bytes: Uint8Array): void {
    const fresh = new Engine(this.spec.cfg, this.sink);
    fresh.load(new ByteReader(bytes));
    Object.assign(this, fresh);
    // Book listeners must point at this instance, not the temporary one.
    for (const b of this.books) b.listener = this;
  }

  private load(rd: ByteReader): void {
    if (rd.int() !== Engine.MAGIC) throw new Error('not a perpx snapshot');
    if (rd.int() !== Engine.VERSION) throw new Error('unsupported snapshot version');
    if (rd.str() !== JSON.stringify(this.spec.cfg)) throw new Error('snapshot was taken with a different engine config');
    this.nowMs = rd.int();
    this.clockStarted = rd.u8() === 1;
    this.nextOrderId = rd.int();
    this.nextTradeId = rd.int();
    this.accountCount = rd.int();
    if (this.accountCount > this.spec.maxAccounts) throw new Error('snapshot has more accounts than maxAccounts');
    this.commandsApplied = rd.int();
    this.depositsUnits = rd.int();
    this.withdrawalsUnits = rd.int();
    this.insuranceUnits = rd.int();
    this.feesUnits = rd.int();
    for (const m of this.markets) {
      m.indexTicks = rd.int();
      m.markTicks = rd.int();
      m.lastTradeTicks = rd.int();
      m.basisCount = rd.int();
      m.basisPos = rd.int();
      for (let k = 0; k < MARK_SAMPLES; k++) m.basisRing[k] = rd.int();
      m.premiumSumE8 = rd.int();
      m.premiumCount = rd.int();
      m.lastFundingRateE8 = rd.int();
      m.nextFundingTimeMs = rd.int();
    }
    const n = this.nSymbols;
    const savedOrderMargin = new Float64Array(this.accountCount);
    for (let a = 0; a < this.accountCount; a++) {
      this.wallet[a] = rd.int();
      savedOrderMargin[a] = rd.int();
      for (let s = 0; s < n; s++) {
        const q = rd.int();
        const c = rd.int();
        this.leverage[a * n + s] = rd.u8();
        this.posCost[a * n + s] = c;
        if (q !== 0) {
          this.posQty[a * n + s] = q;
          if (q > 0) this.markets[s]!.oiLongLots += q;
          this.addHolder(a, s);
        }
      }
    }
    const o = this.orders;
    const t = this.takerSlot;
    for (let sym = 0; sym < n; sym++) {
      const count = rd.int();
      for (let i = 0; i < count; i++) {
        const bookQty = this.readOrder(rd, t);
        const slot = this.books[sym]!.rest(o.id[t]!, o.account[t]!, o.side[t]! as Side, o.price[t]!, bookQty, (o.flags[t]! & F_REDUCE_ONLY) !== 0 ? 1 : 0);
        if (slot === NIL) throw new Error('snapshot does not fit the configured book pools');
        const r = this.symBase[sym]! + slot;
        o.copy(t, r);
        this.linkOpen(r);
        this.orderMargin[o.account[r]!] = this.orderMargin[o.account[r]!]! + o.reserved[r]!;
      }
    }
    const conds = rd.int();
    for (let i = 0; i < conds; i++) {
      const r = this.takeConditionalSlot();
      if (r === NIL) throw new Error('snapshot has more conditional orders than maxConditionalOrders');
      this.readOrder(rd, r);
      this.linkOpen(r);
      this.condById.set(o.id[r]!, r);
      this.indexConditional(r);
    }
    if (!rd.done()) throw new Error('snapshot has trailing bytes');
    for (let a = 0; a < this.accountCount; a++) {
      if (this.orderMargin[a] !== savedOrderMargin[a]) throw new Error(`snapshot order margin of account ${a} does not match its orders`);
    }
    for (let a = 0; a < this.accountCount; a++) this.refreshRiskIndexOnly(a);
  }

  private readOrder(rd: ByteReader, r: number): number {
    const o = this.orders;
    o.id[r] = rd.int();
    o.account[r] = rd.int();
    o.symbol[r] = rd.u8();
    o.side[r] = rd.u8();
    o.type[r] = rd.u8();
    o.tif[r] = rd.u8();
    o.stp[r] = rd.u8();
    o.flags[r] = rd.u8();
    o.status[r] = rd.u8();
    o.price[r] = rd.int();
    o.trigger[r] = rd.int();
    o.origQty[r] = rd.int();
    o.execQty[r] = rd.int();
    o.cumQuote[r] = rd.int();
    o.reserved[r] = rd.int();
    o.timeMs[r] = rd.int();
    o.updateMs[r] = rd.int();
    o.setClientId(r, rd.str());
    return rd.int();
  }

  private refreshRiskIndexOnly(a: number): void {
    for (let sym = 0; sym < this.nSymbols; sym++) {
      const q = this.posQty[a * this.nSymbols + sym]!;
      if (q > 0) this.longLiq[sym]!.set(a, this.liquidationKey(a, sym));
      else if (q < 0) this.shortLiq[sym]!.set(a, this.liquidationKey(a, sym));
    }
  }

  /**
   * The intrusive lists, walked with a bound so a cycle fails instead of hanging: every
   * account's open-order list holds exactly its open orders (back links, owner, status, per
   * symbol counts), every open order is in one list, and the conditional free list holds
   * exactly the unused conditional slots, each once.
   */
  private validateOrderLists(): void {
    const o = this.orders;
    const n = this.nSymbols;
    const perSymbol = new Array<number>(n).fill(0);
    const counted = new Int32Array(n);
    let listed = 0;
    for (let a = 0; a < this.accountCount; a++) {
      counted.fill(0);
      let prev = NIL;
      for (let r = this.accHead[a]!; r !== NIL; r = o.accNext[r]!) {
        assert(++listed <= o.capacity, `open-order list of account ${a} has a cycle`);
        assert(o.account[r] === a, `open-order list of account ${a} holds order ${o.id[r]} of account ${o.account[r]}`);
        assert(o.accPrev[r] === prev, `open-order list of account ${a}: back link of slot ${r} is ${o.accPrev[r]}, expected ${prev}`);
        const st = o.status[r]!;
        assert(st === ST_NEW || st === ST_PARTIALLY_FILLED, `open-order list of account ${a} holds order ${o.id[r]} with closed status ${st}`);
        counted[o.symbol[r]!]!++;
        prev = r;
      }
      for (let sym = 0; sym < n; sym++) {
        assert(counted[sym] === this.openOrders[a * n + sym], `account ${a} symbol ${sym}: ${counted[sym]} orders listed, count says ${this.openOrders[a * n + sym]}`);
        perSymbol[sym]! += counted[sym]!;
      }
    }
    const condPerSymbol = new Array<number>(n).fill(0);
    for (const r of this.condById.values()) condPerSymbol[o.symbol[r]!]!++;
    for (let sym = 0; sym < n; sym++) {
      const open = this.books[sym]!.orderCount() + condPerSymbol[sym]!;
      assert(perSymbol[sym] === open, `symbol ${sym}: ${perSymbol[sym]} orders in account lists, ${open} open (book + conditional)`);
    }
    let free = 0;
    for (let r = this.condFree; r !== NIL; r = o.accNext[r]!) {
      assert(++free <= this.spec.maxConditionalOrders, 'conditional free list has a cycle or holds a slot twice');
      assert(r >= this.condBase, `conditional free list holds slot ${r}, below the conditional range`);
      assert(this.condById.get(o.id[r]!) !== r, `conditional slot ${r} is both free and open`);
    }
    assert(this.condFresh >= this.condBase && this.condFresh <= this.condBase + this.spec.maxConditionalOrders, `conditional high-water slot ${this.condFresh} outside the conditional range`);
    free += this.condBase + this.spec.maxConditionalOrders - this.condFresh;
    assert(free + this.condById.size === this.spec.maxConditionalOrders, `conditional slots: ${free} free + ${this.condById.size} open ≠ ${this.spec.maxConditionalOrders}`);
  }

  /** Internal consistency check for tests (O(state)); throws on the first violation. */
  validate(): void {
    const ledger = this.ledgerUnits();
    assert(ledger === this.depositsUnits - this.withdrawalsUnits, `conservation: ledger ${ledger} ≠ deposits − withdrawals ${this.depositsUnits - this.withdrawalsUnits}`);
    assert(this.insuranceUnits >= 0, 'insurance fund is never negative');
    for (let sym = 0; sym < this.nSymbols; sym++) {
      const oi = this.openInterest(sym);
      assert(oi.longLots === oi.shortLots, `open interest of symbol ${sym}: long ${oi.longLots} ≠ short ${oi.shortLots}`);
      assert(oi.longLots === this.markets[sym]!.oiLongLots, 'tracked open interest matches positions');
      const book = this.books[sym]!;
      const bid = book.bestBid();
      const ask = book.bestAsk();
      assert(bid < 0 || ask < 0 || bid < ask, `book ${sym} crossed at rest: ${bid} ≥ ${ask}`);
    }
    let multi = 0;
    for (let a = 0; a < this.accountCount; a++) {
      const isMulti = this.positionsOpen[a]! >= 2;
      if (isMulti) multi++;
      assert(this.multiSymbol.has(a) === isMulti, `account ${a}: multi-symbol index says ${this.multiSymbol.has(a)}, ${this.positionsOpen[a]} positions open`);
    }
    assert(multi === this.multiSymbolCount, `multi-symbol count ${this.multiSymbolCount} ≠ ${multi} accounts`);
    const o = this.orders;
    this.validateOrderLists();
    for (let a = 0; a < this.accountCount; a++) {
      let reserved = 0;
      const seen = new Set<string>();
      for (let r = this.accHead[a]!; r !== NIL; r = o.accNext[r]!) {
        reserved += o.reserved[r]!;
        const cid = o.getClientId(r);
        if (cid !== '') {
          assert(!seen.has(cid), `client order id ${cid} duplicated among open orders of account ${a}`);
          seen.add(cid);
        }
      }
      assert(reserved === this.orderMargin[a], `order margin of account ${a}: ${this.orderMargin[a]} ≠ Σ orders ${reserved}`);
    }
  }
}
