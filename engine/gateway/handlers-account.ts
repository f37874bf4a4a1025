// Account endpoints (signed), listen keys (API key only), health, and the admin API.

import type { AccountView } from '../host/host.ts';
import type { Ctx } from './context.ts';
import { ok, respond } from './context.ts';
import { ApiError, apiError, errorBody, GW } from './errors.ts';
import { need, submit, uintParam } from './handler-kit.ts';
import { price, qty, toTicks, toUnits } from './markets.ts';
import { accountV2Json, accountV3Json, balanceJson, positionRiskV2, positionRiskV3 } from './responses.ts';

async function account(ctx: Ctx): Promise<AccountView> {
  const a = await ctx.gw.host.query({ type: 'account', accountId: ctx.accountId });
  if (a === null) throw apiError(GW.REJECTED_API_KEY);
  return a;
}

export async function accountV2(ctx: Ctx): Promise<void> {
  ok(ctx, accountV2Json(ctx.gw.markets, await account(ctx)));
}

export async function accountV3(ctx: Ctx): Promise<void> {
  ok(ctx, accountV3Json(ctx.gw.markets, await account(ctx)));
}

export async function balance(ctx: Ctx): Promise<void> {
  ok(ctx, balanceJson(ctx.gw.markets, await account(ctx), `perpx${ctx.accountId}`));
}

/** v2: every symbol (or the one asked for); v3: open positions (or the one asked for). */
async function positions(ctx: Ctx, v3: boolean): Promise<void> {
  const mk = ctx.gw.markets;
  const one = mk.optionalSymbol(ctx.params.get('symbol'));
  const a = await account(ctx);
  let rows = a.positions;
  if (one !== undefined) rows = rows.filter((p) => p.symbolId === one.id);
  else if (v3) rows = rows.filter((p) => p.qtyLots !== 0 || p.openOrders > 0);
  ok(ctx, JSON.stringify(rows.map((p) => (v3 ? positionRiskV3(mk, p) : positionRiskV2(mk, p)))));
}

export function positionRiskV2Handler(ctx: Ctx): Promise<void> {
  return positions(ctx, false);
}

export function positionRiskV3Handler(ctx: Ctx): Promise<void> {
  return positions(ctx, true);
}

export function positionSideDual(ctx: Ctx): void {
  ok(ctx, '{"dualSidePosition":false}');
}

// ---- listen keys (X-MBX-APIKEY only) -----------------------------------------------

export function listenKeyOpen(ctx: Ctx): void {
  ok(ctx, `{"listenKey":"${ctx.gw.listenKeys.open(ctx.accountId, ctx.gw.now())}"}`);
}

export function listenKeyKeepAlive(ctx: Ctx): void {
  ok(ctx, `{"listenKey":"${ctx.gw.listenKeys.keepAlive(ctx.accountId, ctx.gw.now())}"}`);
}

export function listenKeyClose(ctx: Ctx): void {
  ctx.gw.listenKeys.close(ctx.accountId);
  ok(ctx, '{}');
}

// ---- health --------------------------------------------------------------------------

export function healthz(ctx: Ctx): void {
  ok(ctx, '{"status":"ok"}');
}

export async function readyz(ctx: Ctx): Promise<void> {
  const s = await ctx.gw.host.query({ type: 'status' });
  if (s.ready) ok(ctx, JSON.stringify({ ready: true, seq: s.seq, queueDepth: s.queueDepth, queueMax: s.queueMax }));
  else respond(ctx, 503, errorBody(GW.OVERLOADED.code, 'Not ready.'));
}

// ---- admin (X-PERPX-ADMIN) -----------------------------------------------------------

function adminAccountId(ctx: Ctx): number {
  const id = uintParam(ctx.params, 'accountId', -1);
  if (id < 0) need(ctx.params, 'accountId');
  return id;
}

/** Create an account (optionally funded with `deposit`) and its API key. */
export async function adminCreateAccount(ctx: Ctx): Promise<void> {
  const gw = ctx.gw;
  const depositText = ctx.params.get('deposit');
  const amount = depositText === undefined || depositText === '' ? 0 : toUnits(gw.markets, depositText, 'deposit');
  // Checked before creating, so a rejected request changes nothing.
  if (amount > gw.markets.spec.maxWalletUnits) throw apiError(GW.INVALID_PARAMETER, `Parameter 'deposit' exceeds maxWallet ${gw.markets.spec.cfg.maxWallet}.`);
  const events = await submit(ctx, { type: 'createAccount' });
  const created = events.find((e) => e.type === 'accountCreated');
  if (created === undefined || created.type !== 'accountCreated') throw new Error('createAccount produced no accountCreated event');
  const rec = gw.keys.create(created.accountId);
  if (amount > 0) await submit(ctx, { type: 'deposit', accountId: created.accountId, amountUnits: amount });
  ok(ctx, JSON.stringify({ accountId: created.accountId, apiKey: rec.apiKey, secretKey: rec.secretKey }));
}

async function moveMoney(ctx: Ctx, type: 'deposit' | 'withdraw'): Promise<void> {
  const gw = ctx.gw;
  const accountId = adminAccountId(ctx);
  const amountUnits = toUnits(gw.markets, need(ctx.params, 'amount'), 'amount');
  const events = await submit(ctx, { type, accountId, amountUnits });
  const b = events.find((e) => e.type === 'balance');
  const wallet = b !== undefined && b.type === 'balance' ? b.walletUnits : 0;
  ok(ctx, JSON.stringify({ accountId, asset: gw.markets.marginAsset, balance: gw.markets.money(wallet) }));
}

export function adminDeposit(ctx: Ctx): Promise<void> {
  return moveMoney(ctx, 'deposit');
}

export function adminWithdraw(ctx: Ctx): Promise<void> {
  return moveMoney(ctx, 'withdraw');
}

export async function adminIndexPrice(ctx: Ctx): Promise<void> {
  const m = ctx.gw.markets.symbol(ctx.params.get('symbol'));
  const priceTicks = toTicks(m, need(ctx.params, 'price'), 'price');
  const events = await submit(ctx, { type: 'setIndexPrice', symbolId: m.id, priceTicks });
  const mark = events.find((e) => e.type === 'markPrice' && e.symbolId === m.id);
  const markTicks = mark !== undefined && mark.type === 'markPrice' ? mark.markTicks : 0;
  ok(ctx, JSON.stringify({ symbol: m.name, indexPrice: price(m, priceTicks), markPrice: price(m, markTicks) }));
}

/** Advance engine time: `timeMs` (absolute) or `advanceMs` (relative). */
export async function adminTime(ctx: Ctx): Promise<void> {
  const p = ctx.params;
  const abs = uintParam(p, 'timeMs', -1);
  const rel = uintParam(p, 'advanceMs', -1);
  if ((abs < 0) === (rel < 0)) throw new ApiError(GW.MANDATORY_PARAM.code, 400, "Send exactly one of 'timeMs' and 'advanceMs'.");
  let timeMs = abs;
  if (rel >= 0) timeMs = (await ctx.gw.host.query({ type: 'status' })).nowMs + rel;
  await submit(ctx, { type: 'advanceTime', timeMs });
  ok(ctx, JSON.stringify({ timeMs }));
}

export async function adminTotals(ctx: Ctx): Promise<void> {
  const t = await ctx.gw.host.query({ type: 'totals' });
  const mk = ctx.gw.markets;
  ok(ctx, JSON.stringify({
    seq: t.seq, timeMs: t.nowMs, accounts: t.accounts, asset: mk.marginAsset, deposits: mk.money(t.depositsUnits),
    withdrawals: mk.money(t.withdrawalsUnits), insuranceFund: mk.money(t.insuranceUnits), fees: mk.money(t.feesUnits),
    ledger: mk.money(t.ledgerUnits), conserved: t.ledgerUnits === t.depositsUnits - t.withdrawalsUnits,
    openInterest: t.openInterest.map((o) => {
      const m = mk.list[o.symbolId]!;
      return { symbol: m.name, long: qty(m, o.longLots), short: qty(m, o.shortLots) };
    }),
  }));
}

export async function adminStateHash(ctx: Ctx): Promise<void> {
  ok(ctx, JSON.stringify(await ctx.gw.host.query({ type: 'stateHash' })));
}
