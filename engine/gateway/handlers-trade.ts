// Signed trading endpoints: orders (incl. batch and modify), conditional (algo) orders,
// history, leverage. The account always comes from the API key; every command carries it,
// and the core only finds orders of that account, so no request can see or touch another's.

import type { Command, ModifyOrder } from '../core/commands.ts';
import type { Ctx } from './context.ts';
import { ok } from './context.ts';
import { ApiError, apiError, errorBody, GW } from './errors.ts';
import { firstOrderEvent, lastOrderEvent, limitParam, need, submit, uintParam } from './handler-kit.ts';
import { toLots, toTicks } from './markets.ts';
import type { Markets, SymbolCtx } from './markets.ts';
import { batchItemParams, clientId, parseBatch, parsePlaceOrder, respTypeIsResult } from './orders.ts';
import type { Params } from './params.ts';
import { algoJson, algosJson, orderJson, ordersJson, trimZeros, userTradeJson } from './responses.ts';
import { HostError } from '../host/host.ts';

/** orderId / origClientOrderId selector (-1102 when neither is sent). */
export function selector(p: Params, idName: string, clientName: string): { orderId: number; clientOrderId: string } {
  const orderId = uintParam(p, idName, 0);
  const clientOrderId = orderId > 0 ? '' : clientId(p, clientName);
  if (orderId === 0 && clientOrderId === '') throw new ApiError(GW.MANDATORY_PARAM.code, 400, `Either '${idName}' or '${clientName}' must be sent.`);
  return { orderId, clientOrderId };
}

export async function newOrder(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const cmd = parsePlaceOrder(mk, ctx.params, ctx.accountId, 'order');
  const result = respTypeIsResult(ctx.params);
  const events = await submit(ctx, cmd);
  const first = firstOrderEvent(events);
  ok(ctx, orderJson(mk, result ? lastOrderEvent(events, first.orderId) : first, false));
}

/** One batch item: the order body or its {code,msg}. Never throws. */
async function batchItem(ctx: Ctx, item: unknown): Promise<string> {
  try {
    const p = batchItemParams(item);
    const cmd = parsePlaceOrder(ctx.gw.markets, p, ctx.accountId, 'order');
    const result = respTypeIsResult(p);
    const events = await submit(ctx, cmd);
    const first = firstOrderEvent(events);
    return orderJson(ctx.gw.markets, result ? lastOrderEvent(events, first.orderId) : first, false);
  } catch (e) {
    if (e instanceof ApiError || e instanceof HostError) return errorBody(e.code, e.message);
    throw e;
  }
}

export async function batchOrders(ctx: Ctx): Promise<void> {
  const items = parseBatch(need(ctx.params, 'batchOrders'));
  const bodies = await Promise.all(items.map((item) => batchItem(ctx, item)));
  ok(ctx, `[${bodies.join(',')}]`);
}

/** DELETE /fapi/v1/batchOrders: orderIdList or origClientOrderIdList (JSON arrays, ≤ 10). */
export async function cancelBatch(ctx: Ctx): Promise<void> {
  const m = ctx.gw.markets.symbol(ctx.params.get('symbol'));
  const ids = jsonList(ctx.params.get('orderIdList') ?? ctx.params.get('orderidlist'));
  const cids = jsonList(ctx.params.get('origClientOrderIdList') ?? ctx.params.get('origclientorderidlist'));
  const list = ids.length > 0 ? ids : cids;
  if (list.length === 0) throw new ApiError(GW.MANDATORY_PARAM.code, 400, "Either 'orderIdList' or 'origClientOrderIdList' must be sent.");
  if (list.length > 10) throw apiError(GW.INVALID_PARAMETER, 'At most 10 orders.');
  const bodies = await Promise.all(list.map((x) => cancelOne(ctx, m, ids.length > 0 ? x : 0, ids.length > 0 ? '' : x)));
  ok(ctx, `[${bodies.join(',')}]`);
}

function jsonList(text: string | undefined): (number | string)[] {
  if (text === undefined || text === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw apiError(GW.INVALID_PARAMETER, 'Order id lists must be JSON arrays.');
  }
  if (!Array.isArray(v) || !v.every((x) => (typeof x === 'number' && Number.isSafeInteger(x) && x > 0) || (typeof x === 'string' && x.length <= 36))) {
    throw apiError(GW.INVALID_PARAMETER, 'Order id lists must be JSON arrays of ids.');
  }
  return v as (number | string)[];
}

async function cancelOne(ctx: Ctx, m: SymbolCtx, orderId: number | string, clientOrderId: number | string): Promise<string> {
  try {
    const events = await submit(ctx, { type: 'cancel', accountId: ctx.accountId, symbolId: m.id, orderId: Number(orderId), clientOrderId: String(clientOrderId) });
    return orderJson(ctx.gw.markets, firstOrderEvent(events), false);
  } catch (e) {
    if (e instanceof ApiError || e instanceof HostError) return errorBody(e.code, e.message);
    throw e;
  }
}

/** Modify parameters (PUT /fapi/v1/order, WS API order.modify) → the core command. */
export function parseModify(mk: Markets, p: Params, accountId: number): ModifyOrder {
  const m = mk.symbol(p.get('symbol'));
  const s = need(p, 'side');
  if (s !== 'BUY' && s !== 'SELL') throw apiError(GW.INVALID_SIDE);
  const sel = selector(p, 'orderId', 'origClientOrderId');
  const qtyLots = toLots(m, need(p, 'quantity'), 'quantity');
  const priceTicks = toTicks(m, need(p, 'price'), 'price');
  const pm = p.get('priceMatch');
  if (pm !== undefined && pm !== '' && pm !== 'NONE') throw apiError(GW.INVALID_PARAMETER, "Parameter 'priceMatch' is not supported (NONE only).");
  return { type: 'modify', accountId, symbolId: m.id, ...sel, priceTicks, qtyLots };
}

export async function modifyOrder(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const events = await submit(ctx, parseModify(mk, ctx.params, ctx.accountId));
  ok(ctx, orderJson(mk, lastOrderEvent(events, firstOrderEvent(events).orderId), false));
}

export async function cancelOrder(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const m = mk.symbol(ctx.params.get('symbol'));
  const sel = selector(ctx.params, 'orderId', 'origClientOrderId');
  const events = await submit(ctx, { type: 'cancel', accountId: ctx.accountId, symbolId: m.id, ...sel });
  ok(ctx, orderJson(mk, firstOrderEvent(events), false));
}

export async function cancelAll(ctx: Ctx): Promise<void> {
  const m = ctx.gw.markets.symbol(ctx.params.get('symbol'));
  await submit(ctx, { type: 'cancelAll', accountId: ctx.accountId, symbolId: m.id });
  ok(ctx, '{"code":200,"msg":"The operation of cancel all open order is done."}');
}

export async function getOrder(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const m = mk.symbol(ctx.params.get('symbol'));
  const sel = selector(ctx.params, 'orderId', 'origClientOrderId');
  const o = await ctx.gw.host.query({ type: 'order', accountId: ctx.accountId, symbolId: m.id, ...sel });
  if (o === null) throw new ApiError(-2013, 400, 'Order does not exist.');
  ok(ctx, orderJson(mk, o, true));
}

export async function getOpenOrder(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const m = mk.symbol(ctx.params.get('symbol'));
  const sel = selector(ctx.params, 'orderId', 'origClientOrderId');
  const o = await ctx.gw.host.query({ type: 'order', accountId: ctx.accountId, symbolId: m.id, ...sel });
  if (o === null || (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED')) throw new ApiError(-2013, 400, 'Order does not exist.');
  ok(ctx, orderJson(mk, o, true));
}

export async function openOrders(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const m = mk.optionalSymbol(ctx.params.get('symbol'));
  const rows = await ctx.gw.host.query({ type: 'openOrders', accountId: ctx.accountId, symbolId: m === undefined ? -1 : m.id });
  ok(ctx, ordersJson(mk, rows, true));
}

function timeRange(p: Params): { startTimeMs: number; endTimeMs: number } {
  const startTimeMs = uintParam(p, 'startTime', 0);
  const endTimeMs = uintParam(p, 'endTime', 0);
  if (endTimeMs !== 0 && startTimeMs > endTimeMs) throw apiError(GW.INVALID_PARAMETER, 'startTime must not be after endTime.');
  return { startTimeMs, endTimeMs };
}

export async function allOrders(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const p = ctx.params;
  const m = mk.symbol(p.get('symbol'));
  const rows = await ctx.gw.host.query({
    type: 'allOrders', accountId: ctx.accountId, symbolId: m.id, fromOrderId: uintParam(p, 'orderId', 0), ...timeRange(p), limit: limitParam(p, 500, 1_000),
  });
  ok(ctx, ordersJson(mk, rows, true));
}

export async function userTrades(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const p = ctx.params;
  const m = mk.symbol(p.get('symbol'));
  const rows = await ctx.gw.host.query({
    type: 'userTrades', accountId: ctx.accountId, symbolId: m.id, fromId: uintParam(p, 'fromId', 0), ...timeRange(p), limit: limitParam(p, 500, 1_000),
  });
  ok(ctx, `[${rows.map((t) => userTradeJson(mk, t)).join(',')}]`);
}

// ---- conditional (algo) orders -----------------------------------------------------

export async function newAlgoOrder(ctx: Ctx): Promise<void> {
  const p = ctx.params;
  const algoType = need(p, 'algoType');
  if (algoType !== 'CONDITIONAL') throw apiError(GW.INVALID_PARAMETER, "Parameter 'algoType' must be CONDITIONAL.");
  const mk = ctx.gw.markets;
  const cmd = parsePlaceOrder(mk, p, ctx.accountId, 'algo');
  const events = await submit(ctx, cmd);
  const e = firstOrderEvent(events);
  ok(ctx, algoJson(mk, { ...e, algoStatus: 'NEW', triggerTimeMs: 0 }, false));
}

async function findAlgo(ctx: Ctx) {
  const sel = selector(ctx.params, 'algoId', 'clientAlgoId');
  const a = await ctx.gw.host.query({ type: 'algoOrder', accountId: ctx.accountId, algoId: sel.orderId, clientAlgoId: sel.clientOrderId });
  if (a === null) throw new ApiError(-2013, 400, 'Order does not exist.');
  return a;
}

export async function getAlgoOrder(ctx: Ctx): Promise<void> {
  ok(ctx, algoJson(ctx.gw.markets, await findAlgo(ctx), true));
}

export async function cancelAlgoOrder(ctx: Ctx): Promise<void> {
  const a = await findAlgo(ctx);
  if (a.algoStatus !== 'NEW') throw new ApiError(-2011, 400, 'Unknown order sent.');
  await submit(ctx, { type: 'cancel', accountId: ctx.accountId, symbolId: a.symbolId, orderId: a.orderId, clientOrderId: '' });
  ok(ctx, JSON.stringify({ algoId: a.orderId, clientAlgoId: a.clientOrderId, code: '200', msg: 'success' }));
}

export async function openAlgoOrders(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const m = mk.optionalSymbol(ctx.params.get('symbol'));
  const rows = await ctx.gw.host.query({ type: 'openAlgoOrders', accountId: ctx.accountId, symbolId: m === undefined ? -1 : m.id });
  ok(ctx, algosJson(mk, rows, false));
}

export async function cancelAllAlgo(ctx: Ctx): Promise<void> {
  const m = ctx.gw.markets.symbol(ctx.params.get('symbol'));
  const rows = await ctx.gw.host.query({ type: 'openAlgoOrders', accountId: ctx.accountId, symbolId: m.id });
  const cmds: Command[] = rows.map((a) => ({ type: 'cancel', accountId: ctx.accountId, symbolId: m.id, orderId: a.orderId, clientOrderId: '' }));
  // Each cancel may find its order already triggered; that is not an error here.
  await Promise.all(cmds.map((c) => ctx.gw.host.submit(c)));
  ok(ctx, '{"code":200,"msg":"The operation of cancel all open order is done."}');
}

export async function allAlgoOrders(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const p = ctx.params;
  const m = mk.symbol(p.get('symbol'));
  const rows = await ctx.gw.host.query({
    type: 'allAlgoOrders', accountId: ctx.accountId, symbolId: m.id, fromAlgoId: uintParam(p, 'algoId', 0), ...timeRange(p), limit: limitParam(p, 500, 1_000),
  });
  ok(ctx, algosJson(mk, rows, true));
}

// ---- leverage ------------------------------------------------------------------------

export async function setLeverage(ctx: Ctx): Promise<void> {
  const mk = ctx.gw.markets;
  const m = mk.symbol(ctx.params.get('symbol'));
  const lev = uintParam(ctx.params, 'leverage', -1);
  if (lev < 0) need(ctx.params, 'leverage');
  const events = await submit(ctx, { type: 'setLeverage', accountId: ctx.accountId, symbolId: m.id, leverage: lev });
  const e = events.find((x) => x.type === 'leverage');
  if (e === undefined || e.type !== 'leverage') throw new Error('setLeverage produced no leverage event');
  ok(ctx, `{"leverage":${e.leverage},"maxNotionalValue":"${trimZeros(mk.money(e.maxNotionalUnits))}","symbol":"${m.name}"}`);
}

export function leverageBracket(ctx: Ctx): void {
  const mk = ctx.gw.markets;
  const one = mk.optionalSymbol(ctx.params.get('symbol'));
  const list = one === undefined ? mk.list : [one];
  // Binance answers with JSON numbers here; splice exact decimal text in as numbers.
  const rows = list.map((m) => {
    const brackets = m.spec.brackets.map((b) => `{"bracket":${b.bracket},"initialLeverage":${b.initialLeverage},`
      + `"notionalCap":${trimZeros(mk.money(b.notionalCapUnits))},"notionalFloor":${trimZeros(mk.money(b.notionalFloorUnits))},`
      + `"maintMarginRatio":${trimZeros(rateText(b.maintMarginRatioE8))},"cum":${trimZeros(mk.money(b.cumUnits))}}`);
    return `{"symbol":"${m.name}","notionalCoef":1.0,"brackets":[${brackets.join(',')}]}`;
  });
  ok(ctx, one === undefined ? `[${rows.join(',')}]` : rows[0]!);
}

function rateText(e8: number): string {
  const s = String(e8).padStart(9, '0');
  return `${s.slice(0, -8)}.${s.slice(-8)}`;
}

export function commissionRate(ctx: Ctx): void {
  const m = ctx.gw.markets.symbol(ctx.params.get('symbol'));
  ok(ctx, JSON.stringify({ symbol: m.name, makerCommissionRate: m.spec.cfg.makerFeeRate, takerCommissionRate: m.spec.cfg.takerFeeRate }));
}
