// GET /fapi/v1/exchangeInfo, built once from the engine config: everything after
// "serverTime" is constant, so a request only splices the current time in front.

import { unitsToDecimal } from '../core/int.ts';
import type { Markets, SymbolCtx } from './markets.ts';
import type { RateLimitConfig } from './rate-limit.ts';

const DELIVERY_PERPETUAL = 4_133_404_800_000;
const ONBOARD_DATE = 1_569_398_400_000;
export const ORDER_TYPES = ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET'];
export const TIME_IN_FORCE = ['GTC', 'IOC', 'FOK', 'GTX'];

function multiplier(e8: number): string {
  return unitsToDecimal(e8, 8).slice(0, -4); // 4 decimals, as Binance shows them
}

function symbolInfo(mk: Markets, m: SymbolCtx): object {
  const c = m.spec.cfg;
  const mmr0 = m.spec.brackets[0]!.maintMarginRatioE8;
  return {
    symbol: m.name, pair: m.name, contractType: 'PERPETUAL', deliveryDate: DELIVERY_PERPETUAL, onboardDate: ONBOARD_DATE,
    status: 'TRADING', maintMarginPercent: unitsToDecimal(mmr0 * 100, 8).slice(0, -4),
    requiredMarginPercent: unitsToDecimal(Math.ceil(100 * 100_000_000 / m.spec.maxLeverage), 8).slice(0, -4),
    baseAsset: c.baseAsset, quoteAsset: c.quoteAsset, marginAsset: mk.marginAsset,
    pricePrecision: m.pricePrecision, quantityPrecision: m.qtyPrecision, baseAssetPrecision: 8, quotePrecision: 8,
    underlyingType: 'COIN', underlyingSubType: [], settlePlan: 0, triggerProtect: '0.0500',
    liquidationFee: c.liquidationFeeRate, marketTakeBound: c.marketTakeBound, maxMoveOrderLimit: 10_000,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: c.minPrice, maxPrice: c.maxPrice, tickSize: c.tickSize },
      { filterType: 'LOT_SIZE', minQty: c.minQty, maxQty: c.maxQty, stepSize: c.stepSize },
      { filterType: 'MARKET_LOT_SIZE', minQty: c.minQty, maxQty: c.marketMaxQty, stepSize: c.stepSize },
      { filterType: 'MAX_NUM_ORDERS', limit: c.maxOpenOrdersPerAccount },
      { filterType: 'MAX_NUM_ALGO_ORDERS', limit: c.maxOpenOrdersPerAccount },
      { filterType: 'MIN_NOTIONAL', notional: c.minNotional },
      {
        filterType: 'PERCENT_PRICE', multiplierUp: multiplier(100_000_000 + m.spec.bandUpE8),
        multiplierDown: multiplier(100_000_000 - m.spec.bandDownE8), multiplierDecimal: '4',
      },
    ],
    orderTypes: ORDER_TYPES, timeInForce: TIME_IN_FORCE, permissionSets: ['GRID', 'COPY'],
  };
}

/** The constant part after `{"timezone":"UTC","serverTime":<now>`. */
export function exchangeInfoTail(mk: Markets, limits: RateLimitConfig): string {
  const body = JSON.stringify({
    futuresType: 'U_MARGINED',
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: limits.weightPerMinute },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: limits.ordersPerMinute },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: limits.ordersPer10s },
    ],
    exchangeFilters: [],
    assets: [{ asset: mk.marginAsset, marginAvailable: true, autoAssetExchange: '-10000' }],
    symbols: mk.list.map((m) => symbolInfo(mk, m)),
  });
  return `,${body.slice(1)}`;
}

export function exchangeInfoJson(tail: string, nowMs: number): string {
  return `{"timezone":"UTC","serverTime":${nowMs}${tail}`;
}
