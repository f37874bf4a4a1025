// New-order parameters (POST /fapi/v1/order, batchOrders items, POST /fapi/v1/algoOrder) →
// the core's PlaceOrder command. Every symbol filter that depends only on the request is
// checked here, with Binance's codes; what depends on state (mark bands, margin, book) is
// the engine's.

import type { OrderTypeName, PlaceOrder, StpName, TifName } from '../core/commands.ts';
import { ERR } from '../core/errors.ts';
import { randomKey } from './auth.ts';
import { apiError, engineError, GW } from './errors.ts';
import { boolParam, need } from './handler-kit.ts';
import type { Markets } from './markets.ts';
import { toLots, toTicks } from './markets.ts';
import type { Params } from './params.ts';

export const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;

// Binance generates a client order id when none is sent. A random per-process prefix and a
// counter keep them unique (across restarts too, with overwhelming probability) at no cost
// per order; the id is part of the command, so a journal replays it exactly.
const AUTO_ID_PREFIX = `perpx-${randomKey().slice(0, 8)}-`;
let autoIdCounter = 0;

function autoClientId(): string {
  return AUTO_ID_PREFIX + (autoIdCounter++).toString(36);
}
export const BATCH_ORDERS_MAX = 5;

export type OrderEndpoint = 'order' | 'algo';

function side(p: Params): 'BUY' | 'SELL' {
  const s = need(p, 'side');
  if (s === 'BUY' || s === 'SELL') return s;
  throw apiError(GW.INVALID_SIDE);
}

const CONDITIONAL = new Set(['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET']);

function orderType(p: Params, endpoint: OrderEndpoint): OrderTypeName {
  const t = need(p, 'type');
  if (endpoint === 'order') {
    if (t === 'LIMIT' || t === 'MARKET') return t;
    if (CONDITIONAL.has(t) || t === 'TRAILING_STOP_MARKET') throw apiError(GW.WRONG_ENDPOINT);
    throw apiError(GW.INVALID_ORDER_TYPE);
  }
  if (CONDITIONAL.has(t)) return t as OrderTypeName;
  throw apiError(GW.INVALID_ORDER_TYPE, 'Algo orders support STOP, STOP_MARKET, TAKE_PROFIT and TAKE_PROFIT_MARKET.');
}

function positionSide(p: Params): void {
  const v = p.get('positionSide');
  if (v === undefined || v === '' || v === 'BOTH') return;
  if (v === 'LONG' || v === 'SHORT') throw apiError(GW.POSITION_SIDE, 'Only one-way mode (positionSide BOTH) is supported.');
  throw apiError(GW.INVALID_PARAMETER, "Parameter 'positionSide' must be BOTH, LONG or SHORT.");
}

function timeInForce(p: Params, required: boolean): TifName {
  const v = p.get('timeInForce');
  if (v === undefined || v === '') {
    if (required) need(p, 'timeInForce');
    return 'GTC';
  }
  if (v === 'GTC' || v === 'IOC' || v === 'FOK' || v === 'GTX') return v;
  throw apiError(GW.INVALID_TIF);
}

function stpMode(p: Params): StpName {
  const v = p.get('selfTradePreventionMode');
  if (v === undefined || v === '') return 'NONE';
  if (v === 'NONE' || v === 'EXPIRE_TAKER' || v === 'EXPIRE_MAKER' || v === 'EXPIRE_BOTH') return v;
  throw apiError(GW.INVALID_PARAMETER, "Parameter 'selfTradePreventionMode' must be NONE, EXPIRE_TAKER, EXPIRE_MAKER or EXPIRE_BOTH.");
}

/** A client order id parameter ('' when absent; -4015 when not ^[.A-Z:/a-z0-9_-]{1,36}$). */
export function clientId(p: Params, name: string): string {
  const v = p.get(name);
  if (v === undefined || v === '') return '';
  if (!CLIENT_ID_RE.test(v)) throw engineError(ERR.CLIENT_ID_INVALID);
  return v;
}

function unsupported(p: Params): void {
  const pm = p.get('priceMatch');
  if (pm !== undefined && pm !== '' && pm !== 'NONE') throw apiError(GW.INVALID_PARAMETER, "Parameter 'priceMatch' is not supported (NONE only).");
  if (boolParam(p, 'closePosition', false)) throw apiError(GW.INVALID_PARAMETER, "Parameter 'closePosition' is not supported; send quantity with reduceOnly.");
}

/** Build the core command for a new order of `accountId` from request parameters. */
export function parsePlaceOrder(mk: Markets, p: Params, accountId: number, endpoint: OrderEndpoint): PlaceOrder {
  const m = mk.symbol(p.get('symbol'));
  const s = side(p);
  positionSide(p);
  const type = orderType(p, endpoint);
  const limitLike = type === 'LIMIT' || type === 'STOP' || type === 'TAKE_PROFIT';
  const tif = limitLike ? timeInForce(p, type === 'LIMIT') : 'GTC';
  unsupported(p);
  const qtyLots = toLots(m, need(p, 'quantity'), 'quantity');
  const priceTicks = limitLike ? toTicks(m, need(p, 'price'), 'price') : 0;
  let triggerPriceTicks = 0;
  let workingType: PlaceOrder['workingType'] = 'CONTRACT_PRICE';
  if (endpoint === 'algo') {
    const trig = p.get('triggerPrice') ?? p.get('stopPrice');
    triggerPriceTicks = toTicks(m, trig === undefined || trig === '' ? need(p, 'triggerPrice') : trig, 'triggerPrice');
    if (triggerPriceTicks === 0) throw engineError(ERR.PRICE_BELOW_MIN);
    const wt = p.get('workingType');
    if (wt === 'MARK_PRICE') workingType = 'MARK_PRICE';
    else if (wt !== undefined && wt !== '' && wt !== 'CONTRACT_PRICE') throw apiError(GW.INVALID_PARAMETER, "Parameter 'workingType' must be MARK_PRICE or CONTRACT_PRICE.");
  }
  return {
    type: 'place', accountId, symbolId: m.id, side: s, orderType: type, tif, priceTicks, qtyLots,
    reduceOnly: boolParam(p, 'reduceOnly', false), clientOrderId: clientId(p, endpoint === 'algo' ? 'clientAlgoId' : 'newClientOrderId') || autoClientId(),
    stpMode: stpMode(p), triggerPriceTicks, workingType,
  };
}

/** newOrderRespType: ACK (default) or RESULT. */
export function respTypeIsResult(p: Params): boolean {
  const v = p.get('newOrderRespType');
  if (v === undefined || v === '' || v === 'ACK') return false;
  if (v === 'RESULT') return true;
  throw apiError(GW.INVALID_PARAMETER, "Parameter 'newOrderRespType' must be ACK or RESULT.");
}

/** One element of batchOrders (a JSON object) as parameters. */
export function batchItemParams(item: unknown): Params {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) throw apiError(GW.INVALID_PARAMETER, 'Each batch order must be an object.');
  const out: Params = new Map();
  for (const [k, v] of Object.entries(item as Record<string, unknown>)) {
    if (typeof v === 'string') out.set(k, v);
    else if (typeof v === 'boolean') out.set(k, v ? 'true' : 'false');
    else if (typeof v === 'number' && Number.isFinite(v)) out.set(k, String(v));
    else throw apiError(GW.INVALID_PARAMETER, `Batch order field '${k.slice(0, 40)}' must be a string.`);
  }
  return out;
}

/** The batchOrders parameter: a JSON array of 1..5 objects. */
export function parseBatch(text: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw apiError(GW.INVALID_PARAMETER, "Parameter 'batchOrders' is not valid JSON.");
  }
  if (!Array.isArray(v) || v.length === 0 || v.length > BATCH_ORDERS_MAX) throw apiError(GW.INVALID_PARAMETER, `Parameter 'batchOrders' must be an array of 1..${BATCH_ORDERS_MAX} orders.`);
  return v;
}
