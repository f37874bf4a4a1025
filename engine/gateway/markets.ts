// Per-symbol context built once at start-up: names, precisions, and the exact conversions
// between Binance decimal strings and engine integers (ticks, lots, collateral units).
// Inbound: symbol filters are enforced here so the engine only ever receives whole ticks
// and lots: more than 8 significant decimals (the assets' precision, baseAssetPrecision /
// quotePrecision in exchangeInfo) is -1111; within it, a price that is not a multiple of
// the tick size is -4014 and a quantity not a multiple of the step size -4023.
// Outbound: fixed-precision strings (pricePrecision / quantityPrecision decimals).

import { compileConfig } from '../core/config.ts';
import type { EngineConfig, EngineSpec, SymbolSpec } from '../core/config.ts';
import { ERR } from '../core/errors.ts';
import { mulDivFloor, unitsToDecimal } from '../core/int.ts';
import { apiError, engineError, GW } from './errors.ts';
import { DEC_MALFORMED, DEC_NEGATIVE, DEC_TOO_LARGE, DEC_TOO_PRECISE, decimalsOf, parseE8, parseScaled } from './params.ts';

const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

export interface SymbolCtx {
  id: number;
  name: string;
  spec: SymbolSpec;
  /** Decimals of the tick size / step size (Binance pricePrecision / quantityPrecision). */
  pricePrecision: number;
  qtyPrecision: number;
  /** 10^(8 − precision): E8 → fixed-precision units. */
  priceDivisor: number;
  qtyDivisor: number;
}

export class Markets {
  readonly spec: EngineSpec;
  readonly list: SymbolCtx[];
  readonly byName = new Map<string, SymbolCtx>();
  readonly marginAsset: string;
  readonly moneyDecimals: number;
  private readonly moneyPad: string;

  constructor(config: EngineConfig) {
    this.spec = compileConfig(config);
    this.marginAsset = config.marginAsset;
    this.moneyDecimals = this.spec.collateralDecimals;
    this.moneyPad = '0'.repeat(Math.max(0, 8 - this.moneyDecimals));
    this.list = this.spec.symbols.map((s) => {
      const pp = decimalsOf(s.cfg.tickSize);
      const qp = decimalsOf(s.cfg.stepSize);
      return { id: s.id, name: s.name, spec: s, pricePrecision: pp, qtyPrecision: qp, priceDivisor: POW10[8 - pp]!, qtyDivisor: POW10[8 - qp]! };
    });
    for (const m of this.list) this.byName.set(m.name, m);
  }

  /** The symbol named by a mandatory parameter (-1102 missing, -1121 unknown). */
  symbol(name: string | undefined): SymbolCtx {
    if (name === undefined || name === '') throw apiError(GW.MANDATORY_PARAM, "Parameter 'symbol' was not sent.");
    const m = this.byName.get(name);
    if (m === undefined) throw apiError(GW.BAD_SYMBOL);
    return m;
  }

  /** An optional symbol parameter: undefined when absent. */
  optionalSymbol(name: string | undefined): SymbolCtx | undefined {
    return name === undefined || name === '' ? undefined : this.symbol(name);
  }

  // ---- outbound formatting ---------------------------------------------------------

  /** Collateral units → decimal string with 8 decimals (exact). */
  money(units: number): string {
    return unitsToDecimal(units, this.moneyDecimals) + this.moneyPad;
  }

  /** Money from a decimal string of units (BigInt-sized totals). */
  moneyText(unitsText: string): string {
    const neg = unitsText.startsWith('-');
    const digits = (neg ? unitsText.slice(1) : unitsText).padStart(this.moneyDecimals + 1, '0');
    const d = this.moneyDecimals;
    const body = d === 0 ? digits : `${digits.slice(0, digits.length - d)}.${digits.slice(digits.length - d)}`;
    return (neg ? '-' : '') + body + (d === 0 ? `.${this.moneyPad}` : this.moneyPad);
  }
}

/** Rate in 1e-8 → decimal string with 8 decimals. */
export function rate(e8: number): string {
  return unitsToDecimal(e8, 8);
}

/** count × unitE8 (a value in 1e-8) with `decimals` decimals; exact (BigInt past 2^53). */
function scaled(count: number, unitE8: number, divisor: number, decimals: number): string {
  const v = count * unitE8;
  if (Number.isSafeInteger(v)) return unitsToDecimal(v / divisor, decimals);
  const b = (BigInt(count) * BigInt(unitE8)) / BigInt(divisor);
  return bigToDecimal(b, decimals);
}

function bigToDecimal(v: bigint, decimals: number): string {
  const neg = v < 0n;
  let s = (neg ? -v : v).toString();
  if (decimals > 0) {
    s = s.padStart(decimals + 1, '0');
    s = `${s.slice(0, s.length - decimals)}.${s.slice(s.length - decimals)}`;
  }
  return neg ? `-${s}` : s;
}

export function price(m: SymbolCtx, ticks: number): string {
  return scaled(ticks, m.spec.tickE8, m.priceDivisor, m.pricePrecision);
}

export function qty(m: SymbolCtx, lots: number): string {
  return scaled(lots, m.spec.stepE8, m.qtyDivisor, m.qtyPrecision);
}

/**
 * A price that is a ratio (average fill, entry): units / (lots × unitsPerTickLot) ticks,
 * floored to 1e-8 and shown with at least the symbol's price precision.
 */
export function ratioPrice(m: SymbolCtx, units: number, lots: number): string {
  if (lots === 0) return price(m, 0);
  const den = Math.abs(lots) * m.spec.unitsPerTickLot;
  const e8 = mulDivFloor(Math.abs(units), m.spec.tickE8, den);
  let s = unitsToDecimal(e8, 8);
  const keep = s.length - 8 + m.pricePrecision; // index just past the required decimals
  let end = s.length;
  while (end > keep && s.charCodeAt(end - 1) === 48) end--;
  if (m.pricePrecision === 0 && end === keep) end--; // drop a bare '.'
  s = s.slice(0, end);
  return s;
}

// ---- inbound conversion ------------------------------------------------------------

/** A price parameter → ticks (enforces precision and the tick size). */
export function toTicks(m: SymbolCtx, text: string, field: string): number {
  const e8 = parseE8(text);
  if (e8 < 0) {
    if (e8 === DEC_MALFORMED) throw apiError(GW.MANDATORY_PARAM, `Parameter '${field}' is malformed.`);
    if (e8 === DEC_NEGATIVE) throw engineError(ERR.PRICE_BELOW_MIN);
    if (e8 === DEC_TOO_PRECISE) throw apiError(GW.BAD_PRECISION);
    if (e8 === DEC_TOO_LARGE) throw engineError(ERR.PRICE_ABOVE_BAND, 'Price greater than max price.');
  }
  if (e8 % m.spec.tickE8 !== 0) throw engineError(ERR.PRICE_NOT_TICK);
  return e8 / m.spec.tickE8;
}

/** A quantity parameter → lots (enforces precision and the step size). */
export function toLots(m: SymbolCtx, text: string, field: string): number {
  const e8 = parseE8(text);
  if (e8 < 0) {
    if (e8 === DEC_MALFORMED) throw apiError(GW.MANDATORY_PARAM, `Parameter '${field}' is malformed.`);
    if (e8 === DEC_NEGATIVE) throw engineError(ERR.QTY_NOT_POSITIVE);
    if (e8 === DEC_TOO_PRECISE) throw apiError(GW.BAD_PRECISION);
    if (e8 === DEC_TOO_LARGE) throw engineError(ERR.QTY_ABOVE_MAX);
  }
  if (e8 % m.spec.stepE8 !== 0) throw engineError(ERR.QTY_NOT_STEP);
  return e8 / m.spec.stepE8;
}

/** A money amount (admin deposit/withdraw) → collateral units. */
export function toUnits(markets: Markets, text: string, field: string): number {
  const units = parseScaled(text, markets.moneyDecimals);
  if (units < 0) throw apiError(GW.MANDATORY_PARAM, `Parameter '${field}' must be a non-negative decimal with at most ${markets.moneyDecimals} decimals.`);
  return units;
}

