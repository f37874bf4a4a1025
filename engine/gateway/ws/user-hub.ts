// User data streams: connections by account (from their listen key), fed from
// host.subscribe. An account only ever receives events the core attributed to it: every
// payload is built per account id from its own events (user-events.ts), and delivery
// looks connections up by that id.
//
// MARGIN_CALL: after a command that touched an account with a stream (or moved any mark
// price), the account is queried and its maintenance margin compared with its margin
// balance; crossing marginCallRatioBp upward sends one MARGIN_CALL (again only after it
// fell back below). listenKeyExpired: a sweep every second finds streams whose key
// expired or was closed, tells them, and stops their user data.

import type { AccountView, AppliedCommand, ExchangeHost } from '../../host/host.ts';
import { mulDivCeil } from '../../core/int.ts';
import type { GatewayState } from '../context.ts';
import type { ListenKeys } from '../auth.ts';
import type { Markets } from '../markets.ts';
import { price, qty } from '../markets.ts';
import type { WsConn } from './conn.ts';
import type { WsLimits } from './limits.ts';
import { UserEventBuilder } from './user-events.ts';
import type { UserSink } from './user-events.ts';

export class UserHub implements UserSink {
  private readonly host: ExchangeHost;
  private readonly mk: Markets;
  private readonly listenKeys: ListenKeys;
  private readonly now: () => number;
  private readonly limits: WsLimits;
  private readonly byAccount = new Map<number, Set<WsConn>>();
  readonly builder: UserEventBuilder;
  /** Accounts currently over the margin-call ratio. */
  private readonly overRatio = new Set<number>();
  private readonly marginDirty = new Set<number>();
  private marginScheduled = false;
  private marginChecking = false;
  private readonly marginPassBound: () => void;

  constructor(gw: GatewayState, limits: WsLimits) {
    this.host = gw.host;
    this.mk = gw.markets;
    this.listenKeys = gw.listenKeys;
    this.now = gw.now;
    this.limits = limits;
    this.builder = new UserEventBuilder(gw.markets);
    this.marginPassBound = () => void this.marginPass();
  }

  get accounts(): number { return this.byAccount.size; }

  /** Start user data for a connection (its listen key was checked by the caller). */
  attach(conn: WsConn, listenKey: string, accountId: number): void {
    conn.listenKey = listenKey;
    conn.accountId = accountId;
    let set = this.byAccount.get(accountId);
    if (set === undefined) {
      set = new Set();
      this.byAccount.set(accountId, set);
      this.seed(accountId);
    }
    set.add(conn);
  }

  detach(conn: WsConn): void {
    const a = conn.accountId;
    if (a < 0) return;
    conn.accountId = -1;
    conn.streams.delete(conn.listenKey);
    const set = this.byAccount.get(a);
    if (set === undefined || !set.delete(conn) || set.size > 0) return;
    this.byAccount.delete(a);
    this.builder.walletUnits.delete(a);
    this.overRatio.delete(a);
    this.marginDirty.delete(a);
  }

  /** Wallet and margin state of a newly streamed account, so its first updates are complete. */
  private seed(accountId: number): void {
    this.host.query({ type: 'account', accountId }).then((v) => {
      if (v === null || !this.byAccount.has(accountId)) return;
      if (!this.builder.walletUnits.has(accountId)) this.builder.walletUnits.set(accountId, v.walletUnits);
      if (isOver(v, this.limits.marginCallRatioBp)) this.overRatio.add(accountId);
    }, () => {});
  }

  // ---- UserSink ----------------------------------------------------------------------

  wants(accountId: number): boolean {
    return this.byAccount.has(accountId);
  }

  emit(accountId: number, eventType: string, json: string): void {
    const set = this.byAccount.get(accountId);
    if (set === undefined) return;
    for (const c of set) {
      if (c.userEvents !== null && !c.userEvents.has(eventType)) continue;
      c.send(c.combined ? `{"stream":"${c.listenKey}","data":${json}}` : json);
    }
  }

  // ---- events ------------------------------------------------------------------------

  onApplied(a: AppliedCommand): void {
    if (this.byAccount.size === 0) {
      for (const e of a.events) if (e.type === 'markPrice') this.builder.markTicks[e.symbolId] = e.markTicks;
      return;
    }
    // A mark that moved changes every holder's margin ratio; the clock re-reports unchanged ones.
    let marksMoved = false;
    for (const e of a.events) {
      if (e.type === 'markPrice') marksMoved ||= this.builder.markTicks[e.symbolId] !== e.markTicks;
      else if ('accountId' in e && this.byAccount.has(e.accountId)) this.marginDirty.add(e.accountId);
    }
    this.builder.build(a.events, a.nowMs, this.now(), this);
    if (marksMoved) for (const acc of this.byAccount.keys()) this.marginDirty.add(acc);
    this.scheduleMarginPass();
  }

  private scheduleMarginPass(): void {
    if (this.marginScheduled || this.marginChecking || this.marginDirty.size === 0) return;
    this.marginScheduled = true;
    setImmediate(this.marginPassBound);
  }

  /** Check up to marginChecksPerPassMax dirty accounts; the rest wait for the next pass. */
  private async marginPass(): Promise<void> {
    this.marginScheduled = false;
    this.marginChecking = true;
    const batch: number[] = [];
    for (const acc of this.marginDirty) {
      if (batch.length >= this.limits.marginChecksPerPassMax) break;
      batch.push(acc);
    }
    for (const acc of batch) this.marginDirty.delete(acc);
    try {
      const views = await Promise.all(batch.map((accountId) => this.host.query({ type: 'account', accountId })));
      for (const v of views) if (v !== null) this.checkMargin(v);
    } catch {
      // Host closing or overloaded: margin calls resume with the next command.
    } finally {
      this.marginChecking = false;
      this.scheduleMarginPass();
    }
  }

  private checkMargin(v: AccountView): void {
    const acc = v.accountId;
    if (!this.byAccount.has(acc)) return;
    const over = isOver(v, this.limits.marginCallRatioBp);
    if (!over) {
      this.overRatio.delete(acc);
      return;
    }
    if (this.overRatio.has(acc)) return;
    this.overRatio.add(acc);
    this.emit(acc, 'MARGIN_CALL', this.marginCallJson(v));
  }

  private marginCallJson(v: AccountView): string {
    const mk = this.mk;
    const rows: string[] = [];
    for (const p of v.positions) {
      if (p.qtyLots === 0) continue;
      const m = mk.list[p.symbolId]!;
      rows.push(`{"s":"${m.name}","ps":"BOTH","pa":"${qty(m, p.qtyLots)}","mt":"CROSSED","iw":"0","mp":"${price(m, p.markTicks)}",`
        + `"up":"${mk.money(p.unrealizedUnits)}","mm":"${mk.money(p.maintMarginUnits)}"}`);
    }
    return `{"e":"MARGIN_CALL","E":${this.now()},"cw":"${mk.money(v.walletUnits)}","p":[${rows.join(',')}]}`;
  }

  // ---- listen key expiry ---------------------------------------------------------------

  /** Tell streams whose listen key expired (or was closed) and stop their user data. */
  sweep(): void {
    if (this.byAccount.size === 0) return;
    const now = this.now();
    const expired: WsConn[] = [];
    for (const set of this.byAccount.values()) {
      for (const c of set) if (this.listenKeys.accountOf(c.listenKey, now) !== c.accountId) expired.push(c);
    }
    for (const c of expired) {
      const key = c.listenKey;
      this.detach(c);
      const body = `{"e":"listenKeyExpired","E":${now},"listenKey":"${key}"}`;
      c.send(c.combined ? `{"stream":"${key}","data":${body}}` : body);
    }
  }
}

/** Maintenance margin ≥ ratio × margin balance (or no balance left while margin is needed). */
function isOver(v: AccountView, ratioBp: number): boolean {
  if (v.maintMarginUnits <= 0) return false;
  if (v.marginBalanceUnits <= 0) return true;
  return v.maintMarginUnits >= mulDivCeil(v.marginBalanceUnits, ratioBp, 10_000);
}
