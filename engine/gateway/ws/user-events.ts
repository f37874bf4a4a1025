// User data stream payloads from one applied command's events, for the accounts that have
// a stream open (nothing is built for anyone else):
//
//   ORDER_TRADE_UPDATE  one per order event (x = NEW, TRADE, CANCELED, EXPIRED, AMENDMENT,
//                       CALCULATED); a fill carries its trade id, fee, maker flag and
//                       realized PnL. Liquidation orders keep the core's "autoclose-<id>"
//                       client id; an ADL fill (no order in the core) is reported as
//                       x CALCULATED, X FILLED, c "adl_autoclose", i 0.
//   ACCOUNT_UPDATE      one per account and reason (m: ORDER, FUNDING_FEE, DEPOSIT,
//                       WITHDRAW, INSURANCE_CLEAR; liquidation fees and ADL count as ORDER),
//                       with the wallet balance and the positions the command changed.
//
// Fill attribution follows the core's event order: a trade, then per side (taker first)
// a position event and maybe a balance event (realized PnL − fee), then the maker's and
// the taker's order events.

import type { EngineEvent } from '../../core/events.ts';
import type { Markets } from '../markets.ts';
import { price, qty, ratioPrice } from '../markets.ts';
import { breakEvenPrice, entryPrice } from '../responses.ts';

type OrderEvent = Extract<EngineEvent, { type: 'order' }>;
type TradeEvent = Extract<EngineEvent, { type: 'trade' }>;

export interface UserSink {
  /** Does this account have a user data stream open? */
  wants(accountId: number): boolean;
  emit(accountId: number, eventType: string, json: string): void;
}

class Fill {
  accountId = -1;
  orderId = 0;
  feeUnits = 0;
  maker = false;
  /** Realized PnL (before fee): wallet delta + fee. */
  realizedUnits = 0;
}

class Group {
  readonly reason: string;
  /** Wallet after the command's last balance event of this reason (-1: none). */
  walletUnits = -1;
  /** Balance change other than PnL and fees (deposits, withdrawals). */
  changeUnits = 0;
  readonly positions = new Map<number, { qtyLots: number; costUnits: number }>();
  constructor(reason: string) {
    this.reason = reason;
  }
}

function reasonOf(r: string): string {
  return r === 'LIQUIDATION' || r === 'ADL' ? 'ORDER' : r;
}

export class UserEventBuilder {
  private readonly mk: Markets;
  /** Last mark per symbol (ticks), from markPrice events; seeded by the caller. */
  readonly markTicks: number[];
  /** Last known wallet of accounts with a stream (for ACCOUNT_UPDATE without a balance event). */
  readonly walletUnits = new Map<number, number>();
  // Per-command scratch.
  private readonly taker = new Fill();
  private readonly maker = new Fill();
  /** The two sides of the current trade in the order the core reports them (taker, maker). */
  private readonly fills: Fill[] = [this.taker, this.maker];
  private trade: TradeEvent | null = null;
  private nextFill = 0;
  private current: Fill | null = null;
  private readonly adl: { trade: TradeEvent; a: Fill; b: Fill }[] = [];
  private readonly groups = new Map<number, Group[]>();

  constructor(mk: Markets) {
    this.mk = mk;
    this.markTicks = new Array<number>(mk.list.length).fill(0);
  }

  /** Emit the user data events of one command. */
  build(events: readonly EngineEvent[], engineMs: number, eventMs: number, sink: UserSink): void {
    this.trade = null;
    this.current = null;
    this.adl.length = 0;
    this.groups.clear();
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      switch (e.type) {
        case 'trade': this.onTrade(e, sink); break;
        case 'position': this.onPosition(e, sink); break;
        case 'balance': this.onBalance(e, sink); break;
        case 'order':
          if (sink.wants(e.accountId)) sink.emit(e.accountId, 'ORDER_TRADE_UPDATE', this.orderUpdate(e, engineMs, eventMs));
          break;
        case 'markPrice': this.markTicks[e.symbolId] = e.markTicks; break;
        default: break;
      }
    }
    for (const x of this.adl) this.emitAdl(x.trade, x.a, x.b, engineMs, eventMs, sink);
    for (const [accountId, list] of this.groups) {
      for (const g of list) sink.emit(accountId, 'ACCOUNT_UPDATE', this.accountUpdate(accountId, g, engineMs, eventMs));
    }
  }

  private onTrade(e: TradeEvent, sink: UserSink): void {
    const adl = e.kind === 2;
    const t = adl ? new Fill() : this.taker;
    const m = adl ? new Fill() : this.maker;
    setFill(t, e.takerAccountId, e.takerOrderId, e.takerFeeUnits, false);
    setFill(m, e.makerAccountId, e.makerOrderId, e.makerFeeUnits, true);
    this.trade = e;
    this.nextFill = 0;
    this.current = null;
    this.fills[0] = t;
    this.fills[1] = m;
    if (adl && (sink.wants(t.accountId) || sink.wants(m.accountId))) this.adl.push({ trade: e, a: t, b: m });
  }

  private onPosition(e: Extract<EngineEvent, { type: 'position' }>, sink: UserSink): void {
    // After a trade: the first position event is the taker's, the second the maker's.
    if (this.trade !== null && this.nextFill < 2) {
      const f = this.fills[this.nextFill++]!;
      this.current = f.accountId === e.accountId ? f : null;
    } else {
      this.current = null;
    }
    if (!sink.wants(e.accountId)) return;
    this.group(e.accountId, 'ORDER').positions.set(e.symbolId, { qtyLots: e.qtyLots, costUnits: e.costUnits });
  }

  private onBalance(e: Extract<EngineEvent, { type: 'balance' }>, sink: UserSink): void {
    const f = this.current;
    if ((e.reason === 'ORDER' || e.reason === 'ADL') && f !== null && f.accountId === e.accountId) {
      f.realizedUnits = e.deltaUnits + f.feeUnits;
      this.current = null;
    }
    if (!sink.wants(e.accountId)) return;
    this.walletUnits.set(e.accountId, e.walletUnits);
    const g = this.group(e.accountId, reasonOf(e.reason));
    g.walletUnits = e.walletUnits;
    if (e.reason === 'DEPOSIT' || e.reason === 'WITHDRAW') g.changeUnits += e.deltaUnits;
  }

  private group(accountId: number, reason: string): Group {
    let list = this.groups.get(accountId);
    if (list === undefined) {
      list = [];
      this.groups.set(accountId, list);
    }
    for (const g of list) if (g.reason === reason) return g;
    const g = new Group(reason);
    list.push(g);
    return g;
  }

  /** The fill of this order in the current trade, if the event is that fill. */
  private fillOf(e: OrderEvent): Fill | null {
    if (this.trade === null || (e.execType !== 'TRADE' && e.execType !== 'CALCULATED')) return null;
    if (this.taker.orderId === e.orderId && this.taker.accountId === e.accountId) return this.taker;
    if (this.maker.orderId === e.orderId && this.maker.accountId === e.accountId) return this.maker;
    return null;
  }

  private orderUpdate(e: OrderEvent, engineMs: number, eventMs: number): string {
    const mk = this.mk;
    const m = mk.list[e.symbolId]!;
    const f = this.fillOf(e);
    return `{"e":"ORDER_TRADE_UPDATE","E":${eventMs},"T":${engineMs},"o":{"s":"${m.name}","c":${JSON.stringify(e.clientOrderId)},`
      + `"S":"${e.side}","o":"${e.orderType}","f":"${e.tif}","q":"${qty(m, e.origQtyLots)}","p":"${price(m, e.priceTicks)}",`
      + `"ap":"${ratioPrice(m, e.cumQuoteUnits, e.executedQtyLots)}","sp":"${price(m, e.triggerPriceTicks)}","x":"${e.execType}",`
      + `"X":"${e.status}","i":${e.orderId},"l":"${qty(m, e.lastQtyLots)}","z":"${qty(m, e.executedQtyLots)}",`
      + `"L":"${price(m, e.lastPriceTicks)}","N":"${mk.marginAsset}","n":"${mk.money(f === null ? 0 : f.feeUnits)}",`
      + `"T":${e.updateTimeMs},"t":${f === null ? 0 : this.trade!.tradeId},"b":"0","a":"0","m":${f !== null && f.maker},`
      + `"R":${e.reduceOnly},"wt":"${e.workingType}","ot":"${e.orderType}","ps":"BOTH","cp":false,`
      + `"rp":"${mk.money(f === null ? 0 : f.realizedUnits)}","pP":false,"si":0,"ss":0,"V":"${e.stpMode}","pm":"NONE","gtd":0}}`;
  }

  private emitAdl(t: TradeEvent, a: Fill, b: Fill, engineMs: number, eventMs: number, sink: UserSink): void {
    const mk = this.mk;
    const m = mk.list[t.symbolId]!;
    const side = (f: Fill): string => (f === a ? t.takerSide : t.takerSide === 'BUY' ? 'SELL' : 'BUY');
    for (const f of [a, b]) {
      if (!sink.wants(f.accountId)) continue;
      const p = price(m, t.priceTicks);
      const q = qty(m, t.qtyLots);
      sink.emit(f.accountId, 'ORDER_TRADE_UPDATE', `{"e":"ORDER_TRADE_UPDATE","E":${eventMs},"T":${engineMs},"o":{"s":"${m.name}",`
        + `"c":"adl_autoclose","S":"${side(f)}","o":"LIMIT","f":"IOC","q":"${q}","p":"${p}","ap":"${p}","sp":"${price(m, 0)}",`
        + `"x":"CALCULATED","X":"FILLED","i":0,"l":"${q}","z":"${q}","L":"${p}","N":"${mk.marginAsset}","n":"${mk.money(0)}",`
        + `"T":${engineMs},"t":${t.tradeId},"b":"0","a":"0","m":false,"R":true,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH",`
        + `"cp":false,"rp":"${mk.money(f.realizedUnits)}","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}}`);
    }
  }

  private accountUpdate(accountId: number, g: Group, engineMs: number, eventMs: number): string {
    const mk = this.mk;
    const wallet = g.walletUnits >= 0 ? g.walletUnits : (this.walletUnits.get(accountId) ?? -1);
    const balances = wallet < 0 ? '' : `{"a":"${mk.marginAsset}","wb":"${mk.money(wallet)}","cw":"${mk.money(wallet)}","bc":"${mk.money(g.changeUnits)}"}`;
    let positions = '';
    for (const [s, p] of g.positions) {
      const m = mk.list[s]!;
      const up = p.qtyLots === 0 ? 0 : p.qtyLots * this.markTicks[s]! * m.spec.unitsPerTickLot - p.costUnits;
      positions += `${positions === '' ? '' : ','}{"s":"${m.name}","pa":"${qty(m, p.qtyLots)}","ep":"${entryPrice(m, p)}",`
        + `"bep":"${breakEvenPrice(m, p)}","cr":"0","up":"${mk.money(up)}","mt":"cross","iw":"0","ps":"BOTH","ma":"${mk.marginAsset}"}`;
    }
    return `{"e":"ACCOUNT_UPDATE","E":${eventMs},"T":${engineMs},"a":{"m":"${g.reason}","B":[${balances}],"P":[${positions}]}}`;
  }
}

function setFill(f: Fill, accountId: number, orderId: number, feeUnits: number, maker: boolean): void {
  f.accountId = accountId;
  f.orderId = orderId;
  f.feeUnits = feeUnits;
  f.maker = maker;
  f.realizedUnits = feeUnits; // no balance event means a wallet delta of 0: realized = fee
}
