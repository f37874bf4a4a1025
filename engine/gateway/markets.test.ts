// Edge conversions between Binance decimal strings and engine integers: each symbol filter
// maps to its Binance code, and formatting is the exact inverse of parsing.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { btcusdt, defaultConfig, ethusdt } from '../core/config.ts';
import { runParams } from '../core/test-params.ts';
import { ApiError } from './errors.ts';
import { Markets, price, qty, rate, ratioPrice, toLots, toTicks, toUnits } from './markets.ts';

const mk = new Markets(defaultConfig({ symbols: [btcusdt(), ethusdt(), btcusdt({ symbol: 'HALFUSDT', tickSize: '0.5', minPrice: '0.5', maxPrice: '100000', stepSize: '10', minQty: '10', maxQty: '1000', marketMaxQty: '1000', minNotional: '5' })] }));
const btc = mk.symbol('BTCUSDT');
const half = mk.symbol('HALFUSDT');

function code(f: () => unknown): number {
  try {
    f();
    return 0;
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
}

describe('symbol filters at the edge', () => {
  it('maps bad prices and quantities to Binance codes', () => {
    expect(toTicks(btc, '60000.1', 'price')).toBe(600_001);
    expect(code(() => toTicks(btc, '60000.05', 'price'))).toBe(-4014);
    expect(code(() => toTicks(btc, '60000.000000001', 'price'))).toBe(-1111);
    expect(code(() => toTicks(btc, '-5', 'price'))).toBe(-4013);
    expect(code(() => toTicks(btc, 'abc', 'price'))).toBe(-1102);
    expect(code(() => toTicks(btc, '1'.repeat(30), 'price'))).toBe(-4016);
    expect(code(() => toTicks(half, '100.2', 'price'))).toBe(-4014);
    expect(toTicks(half, '100.5', 'price')).toBe(201);
    expect(toLots(btc, '0.012', 'quantity')).toBe(12);
    expect(code(() => toLots(btc, '0.0125', 'quantity'))).toBe(-4023);
    expect(code(() => toLots(half, '15', 'quantity'))).toBe(-4023);
    expect(code(() => toLots(btc, '-0.001', 'quantity'))).toBe(-4003);
    expect(code(() => toLots(btc, '1'.repeat(20), 'quantity'))).toBe(-4005);
    expect(code(() => mk.symbol('NOPE'))).toBe(-1121);
    expect(code(() => mk.symbol(undefined))).toBe(-1102);
    expect(toUnits(mk, '12.5', 'amount')).toBe(12_500_000);
    expect(toUnits(mk, '1000000000', 'amount')).toBe(1_000_000_000_000_000); // maxWallet fits
    expect(code(() => toUnits(mk, '10000000000', 'amount'))).toBe(-1102);
    expect(code(() => toUnits(mk, '0.0000001', 'amount'))).toBe(-1102);
  });

  it('formats with the symbol precision and parses back to the same integer', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: btc.spec.maxPriceTicks }), fc.integer({ min: -89_999_999_999, max: 89_999_999_999 }) /* E8 stays below 2^53 */, (ticks, lots) => {
      expect(toTicks(btc, price(btc, ticks), 'price')).toBe(ticks);
      const q = qty(btc, lots);
      expect(lots < 0 ? -toLots(btc, q.slice(1), 'q') : toLots(btc, q, 'q')).toBe(lots);
    }), runParams(1_000));
    expect(price(btc, 600_001)).toBe('60000.1');
    expect(qty(btc, 12)).toBe('0.012');
    expect(qty(half, 3)).toBe('30');
    expect(price(half, 201)).toBe('100.5');
    expect(mk.money(-1_234_567)).toBe('-1.23456700');
    expect(mk.moneyText('123456789012345678901')).toBe('123456789012345.67890100');
    expect(rate(-12_345)).toBe('-0.00012345');
  });

  it('ratio prices are floored to 1e-8 and keep the symbol precision', () => {
    // 2 lots at 60000.0 and 1 lot at 60000.1: cost = (2 × 600000 + 600001) ticks × units.
    const u = btc.spec.unitsPerTickLot;
    expect(ratioPrice(btc, (2 * 600_000 + 600_001) * u, 3)).toBe('60000.03333333');
    expect(ratioPrice(btc, 600_000 * u, 1)).toBe('60000.0');
    expect(ratioPrice(btc, -600_000 * u, -1)).toBe('60000.0');
    expect(ratioPrice(half, 201 * half.spec.unitsPerTickLot, 1)).toBe('100.5');
    expect(ratioPrice(btc, 0, 0)).toBe('0.0');
  });
});
