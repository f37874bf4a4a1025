// Symbol and engine configuration. Human-facing values are decimal strings; the engine
// works on integers derived here once: prices in ticks, quantities in lots, money in
// collateral units (10^-collateralDecimals of the margin asset), rates in 1e-8 (E8).
// validateConfig() proves up front that no product the engine forms can leave the
// safe-integer range, so the hot path needs no overflow checks beyond its own limits.

import { decimalToUnits, INT_MAX, mulDivFloor } from './int.ts';

export const RATE_ONE_E8 = 100_000_000;

export interface BracketConfig {
  initialLeverage: number;
  /** Upper bound of this tier's notional, in quote-asset decimal (e.g. "50000"). */
  notionalCap: string;
  /** e.g. "0.004" for 0.4 %. */
  maintMarginRatio: string;
}

export interface SymbolConfig {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  tickSize: string;
  stepSize: string;
  minPrice: string;
  maxPrice: string;
  minQty: string;
  maxQty: string;
  marketMaxQty: string;
  minNotional: string;
  /** PERCENT_PRICE: limit prices within mark × (1 ± band). e.g. "0.05". */
  percentPriceUp: string;
  percentPriceDown: string;
  /** MARKET orders may take liquidity up to mark × (1 ± bound). */
  marketTakeBound: string;
  maxOpenOrdersPerAccount: number;
  makerFeeRate: string; // may be negative (rebate), e.g. "-0.00005"
  takerFeeRate: string;
  liquidationFeeRate: string;
  fundingIntervalHours: number;
  /** Interest rate per 8 h, e.g. "0.0001". */
  interestRate: string;
  fundingCap: string; // e.g. "0.003"
  fundingFloor: string; // e.g. "-0.003"
  /** Impact margin notional in quote asset (Binance: 200 USDT, divided by IMR at max leverage). */
  impactMargin: string;
  defaultLeverage: number;
  brackets: BracketConfig[];
  /** Book pools. */
  maxRestingOrders: number;
  maxPriceLevels: number;
}

export interface EngineConfig {
  marginAsset: string;
  collateralDecimals: number;
  maxAccounts: number;
  maxConditionalOrders: number;
  /** Largest wallet balance an account may hold, in margin-asset decimal. */
  maxWallet: string;
  /** Largest single time advance that may cross funding boundaries (bounds the settlement loop). */
  maxFundingSettlementsPerAdvance: number;
  symbols: SymbolConfig[];
}

export interface Bracket {
  bracket: number;
  initialLeverage: number;
  notionalFloorUnits: number;
  notionalCapUnits: number;
  maintMarginRatioE8: number;
  cumUnits: number;
}

/** A symbol with every value in engine integers. */
export interface SymbolSpec {
  id: number;
  name: string;
  cfg: SymbolConfig;
  tickE8: number;
  stepE8: number;
  unitsPerTickLot: number;
  minPriceTicks: number;
  maxPriceTicks: number;
  minQtyLots: number;
  maxQtyLots: number;
  marketMaxQtyLots: number;
  minNotionalUnits: number;
  bandUpE8: number;
  bandDownE8: number;
  takeBoundE8: number;
  maxOpenOrdersPerAccount: number;
  makerFeeE8: number;
  takerFeeE8: number;
  liquidationFeeE8: number;
  fundingIntervalMs: number;
  interestPerIntervalE8: number;
  fundingCapE8: number;
  fundingFloorE8: number;
  impactNotionalUnits: number;
  defaultLeverage: number;
  maxLeverage: number;
  brackets: Bracket[];
  maxRestingOrders: number;
  maxPriceLevels: number;
}

export interface EngineSpec {
  cfg: EngineConfig;
  collateralDecimals: number;
  maxAccounts: number;
  maxConditionalOrders: number;
  maxWalletUnits: number;
  maxFundingSettlementsPerAdvance: number;
  symbols: SymbolSpec[];
}

function signedE8(text: string): number {
  return text.startsWith('-') ? -decimalToUnits(text.slice(1), 8) : decimalToUnits(text, 8);
}

function ticksOf(price: string, tickE8: number, what: string): number {
  const e8 = decimalToUnits(price, 8);
  if (e8 % tickE8 !== 0) throw new Error(`${what} ${price} is not a multiple of the tick size`);
  return e8 / tickE8;
}

function lotsOf(qty: string, stepE8: number, what: string): number {
  const e8 = decimalToUnits(qty, 8);
  if (e8 % stepE8 !== 0) throw new Error(`${what} ${qty} is not a multiple of the step size`);
  return e8 / stepE8;
}

export function compileConfig(cfg: EngineConfig): EngineSpec {
  const d = cfg.collateralDecimals;
  if (!(Number.isInteger(d) && d >= 0 && d <= 8)) throw new Error(`collateralDecimals must be 0..8: ${d}`);
  if (!(Number.isInteger(cfg.maxAccounts) && cfg.maxAccounts > 0 && cfg.maxAccounts <= 10_000_000)) throw new Error('maxAccounts must be 1..10,000,000');
  if (!(Number.isInteger(cfg.maxConditionalOrders) && cfg.maxConditionalOrders >= 0 && cfg.maxConditionalOrders <= 10_000_000)) throw new Error('maxConditionalOrders must be 0..10,000,000');
  if (cfg.symbols.length === 0 || cfg.symbols.length > 64) throw new Error('between 1 and 64 symbols');
  const maxWalletUnits = decimalToUnits(cfg.maxWallet, d);
  if (maxWalletUnits > 2 ** 50) throw new Error('maxWallet too large for exact arithmetic');
  const names = new Set<string>();
  const symbols = cfg.symbols.map((s, id) => {
    if (!/^[A-Z0-9]{2,20}$/.test(s.symbol)) throw new Error(`bad symbol name ${s.symbol}`);
    if (names.has(s.symbol)) throw new Error(`duplicate symbol ${s.symbol}`);
    names.add(s.symbol);
    const tickE8 = decimalToUnits(s.tickSize, 8);
    const stepE8 = decimalToUnits(s.stepSize, 8);
    if (tickE8 <= 0 || stepE8 <= 0) throw new Error(`${s.symbol}: tick and step must be positive`);
    // units per (tick × lot) = tick × step × 10^d, with tick and step in E8 → / 10^16.
    const num = BigInt(tickE8) * BigInt(stepE8) * 10n ** BigInt(d);
    if (num % 10n ** 16n !== 0n) throw new Error(`${s.symbol}: tick × step must be a whole number of collateral units`);
    const unitsPerTickLot = Number(num / 10n ** 16n);
    const unitOfQuote = 10 ** d;
    const quoteUnits = (text: string) => decimalToUnits(text, d);
    const brackets: Bracket[] = [];
    let floor = 0;
    let prevMmr = 0;
    let cum = 0;
    for (let i = 0; i < s.brackets.length; i++) {
      const b = s.brackets[i]!;
      const cap = quoteUnits(b.notionalCap);
      const mmr = decimalToUnits(b.maintMarginRatio, 8);
      if (!(cap > floor)) throw new Error(`${s.symbol}: bracket caps must increase`);
      if (!(mmr > prevMmr && mmr < RATE_ONE_E8)) throw new Error(`${s.symbol}: maintenance ratios must increase and stay below 1`);
      if (!(Number.isInteger(b.initialLeverage) && b.initialLeverage >= 1 && b.initialLeverage <= 125)) throw new Error(`${s.symbol}: leverage 1..125`);
      // cum_n = floor_n × (MMR_n − MMR_{n−1}) + cum_{n−1}: keeps MM continuous across tiers.
      cum = cum + mulDivFloor(floor, mmr - prevMmr, RATE_ONE_E8);
      brackets.push({ bracket: i + 1, initialLeverage: b.initialLeverage, notionalFloorUnits: floor, notionalCapUnits: cap, maintMarginRatioE8: mmr, cumUnits: cum });
      floor = cap;
      prevMmr = mmr;
    }
    if (brackets.length === 0) throw new Error(`${s.symbol}: at least one bracket`);
    const maxPriceTicks = ticksOf(s.maxPrice, tickE8, 'maxPrice');
    const maxQtyLots = lotsOf(s.maxQty, stepE8, 'maxQty');
    const spec: SymbolSpec = {
      id,
      name: s.symbol,
      cfg: s,
      tickE8,
      stepE8,
      unitsPerTickLot,
      minPriceTicks: ticksOf(s.minPrice, tickE8, 'minPrice'),
      maxPriceTicks,
      minQtyLots: lotsOf(s.minQty, stepE8, 'minQty'),
      maxQtyLots,
      marketMaxQtyLots: lotsOf(s.marketMaxQty, stepE8, 'marketMaxQty'),
      minNotionalUnits: quoteUnits(s.minNotional),
      bandUpE8: decimalToUnits(s.percentPriceUp, 8),
      bandDownE8: decimalToUnits(s.percentPriceDown, 8),
      takeBoundE8: decimalToUnits(s.marketTakeBound, 8),
      maxOpenOrdersPerAccount: s.maxOpenOrdersPerAccount,
      makerFeeE8: signedE8(s.makerFeeRate),
      takerFeeE8: signedE8(s.takerFeeRate),
      liquidationFeeE8: decimalToUnits(s.liquidationFeeRate, 8),
      fundingIntervalMs: s.fundingIntervalHours * 3_600_000,
      interestPerIntervalE8: mulDivFloor(decimalToUnits(s.interestRate, 8), s.fundingIntervalHours, 8),
      fundingCapE8: signedE8(s.fundingCap),
      fundingFloorE8: signedE8(s.fundingFloor),
      impactNotionalUnits: quoteUnits(s.impactMargin) * Math.max(...brackets.map((b) => b.initialLeverage)),
      defaultLeverage: s.defaultLeverage,
      maxLeverage: Math.max(...brackets.map((b) => b.initialLeverage)),
      brackets,
      maxRestingOrders: s.maxRestingOrders,
      maxPriceLevels: s.maxPriceLevels,
    };
    validateSymbol(spec, unitOfQuote);
    return spec;
  });
  return {
    cfg,
    collateralDecimals: d,
    maxAccounts: cfg.maxAccounts,
    maxConditionalOrders: cfg.maxConditionalOrders,
    maxWalletUnits,
    maxFundingSettlementsPerAdvance: cfg.maxFundingSettlementsPerAdvance,
    symbols,
  };
}

function validateSymbol(s: SymbolSpec, unitOfQuote: number): void {
  const fail = (m: string) => { throw new Error(`${s.name}: ${m}`); };
  if (!(s.minPriceTicks >= 1 && s.maxPriceTicks > s.minPriceTicks && s.maxPriceTicks < 2 ** 31)) fail('price range must be 1 ≤ min < max < 2^31 ticks');
  if (!(s.minQtyLots >= 1 && s.maxQtyLots >= s.minQtyLots && s.marketMaxQtyLots >= s.minQtyLots)) fail('quantity range invalid');
  // The largest notional any single order or position can reach, and products with rates.
  const lastCap = s.brackets[s.brackets.length - 1]!.notionalCapUnits;
  const maxOrderNotional = s.maxPriceTicks * Math.max(s.maxQtyLots, s.marketMaxQtyLots) * s.unitsPerTickLot;
  if (!(maxOrderNotional <= 2 ** 50)) fail('maxPrice × maxQty notional exceeds 2^50 collateral units');
  if (!(lastCap <= 2 ** 50)) fail('last bracket cap exceeds 2^50 collateral units');
  if (!(s.takerFeeE8 >= 0 && s.takerFeeE8 + s.makerFeeE8 >= 0 && s.takerFeeE8 < RATE_ONE_E8 / 10)) fail('fees: taker ≥ 0, taker + maker ≥ 0 (rebates paid from taker fees), taker < 10 %');
  if (!(s.makerFeeE8 > -RATE_ONE_E8 / 10 && s.makerFeeE8 < RATE_ONE_E8 / 10)) fail('maker fee out of range');
  if (!(s.liquidationFeeE8 >= 0 && s.liquidationFeeE8 < RATE_ONE_E8 / 10)) fail('liquidation fee out of range');
  if (!(s.bandUpE8 > 0 && s.bandDownE8 > 0 && s.bandDownE8 < RATE_ONE_E8 && s.takeBoundE8 > 0 && s.takeBoundE8 < RATE_ONE_E8)) fail('price bands out of range');
  if (!(s.fundingIntervalMs > 0 && s.fundingIntervalMs <= 24 * 3_600_000 && (24 * 3_600_000) % s.fundingIntervalMs === 0)) fail('funding interval must divide 24 h');
  if (!(s.fundingFloorE8 < 0 && s.fundingCapE8 > 0)) fail('funding floor < 0 < cap');
  if (!(Number.isInteger(s.maxOpenOrdersPerAccount) && s.maxOpenOrdersPerAccount >= 1 && s.maxOpenOrdersPerAccount <= 10_000)) fail('maxOpenOrdersPerAccount 1..10,000');
  if (!(Number.isInteger(s.defaultLeverage) && s.defaultLeverage >= 1 && s.defaultLeverage <= s.maxLeverage)) fail('defaultLeverage must be within the brackets');
  if (!(Number.isInteger(s.maxRestingOrders) && s.maxRestingOrders >= 1 && s.maxRestingOrders <= 50_000_000)) fail('maxRestingOrders 1..50M');
  if (!(Number.isInteger(s.maxPriceLevels) && s.maxPriceLevels >= 1 && s.maxPriceLevels <= 10_000_000)) fail('maxPriceLevels 1..10M');
  if (!(unitOfQuote >= 1 && s.unitsPerTickLot >= 1)) fail('collateral unit too coarse for tick × step');
  if (INT_MAX < 2 ** 53 - 1) fail('unexpected number range');
}

const BTC_BRACKETS: BracketConfig[] = [
  { initialLeverage: 125, notionalCap: '50000', maintMarginRatio: '0.004' },
  { initialLeverage: 100, notionalCap: '250000', maintMarginRatio: '0.005' },
  { initialLeverage: 50, notionalCap: '1000000', maintMarginRatio: '0.01' },
  { initialLeverage: 20, notionalCap: '10000000', maintMarginRatio: '0.025' },
  { initialLeverage: 10, notionalCap: '20000000', maintMarginRatio: '0.05' },
  { initialLeverage: 5, notionalCap: '50000000', maintMarginRatio: '0.1' },
  { initialLeverage: 4, notionalCap: '100000000', maintMarginRatio: '0.125' },
  { initialLeverage: 3, notionalCap: '200000000', maintMarginRatio: '0.15' },
  { initialLeverage: 2, notionalCap: '300000000', maintMarginRatio: '0.25' },
  { initialLeverage: 1, notionalCap: '500000000', maintMarginRatio: '0.5' },
];

export function btcusdt(overrides: Partial<SymbolConfig> = {}): SymbolConfig {
  return {
    symbol: 'BTCUSDT',
    baseAsset: 'BTC',
    quoteAsset: 'USDT',
    tickSize: '0.1',
    stepSize: '0.001',
    minPrice: '0.1',
    maxPrice: '1000000',
    minQty: '0.001',
    maxQty: '1000',
    marketMaxQty: '120',
    minNotional: '100',
    percentPriceUp: '0.05',
    percentPriceDown: '0.05',
    marketTakeBound: '0.05',
    maxOpenOrdersPerAccount: 200,
    makerFeeRate: '0.0002',
    takerFeeRate: '0.0005',
    liquidationFeeRate: '0.0125',
    fundingIntervalHours: 8,
    interestRate: '0.0001',
    fundingCap: '0.003',
    fundingFloor: '-0.003',
    impactMargin: '200',
    defaultLeverage: 20,
    brackets: BTC_BRACKETS,
    maxRestingOrders: 1_000_000,
    maxPriceLevels: 200_000,
    ...overrides,
  };
}

export function ethusdt(overrides: Partial<SymbolConfig> = {}): SymbolConfig {
  return btcusdt({
    symbol: 'ETHUSDT',
    baseAsset: 'ETH',
    tickSize: '0.01',
    stepSize: '0.001',
    minPrice: '0.01',
    maxPrice: '100000',
    minQty: '0.001',
    maxQty: '10000',
    marketMaxQty: '2000',
    minNotional: '20',
    ...overrides,
  });
}

export function defaultConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  return {
    marginAsset: 'USDT',
    collateralDecimals: 6,
    maxAccounts: 100_000,
    maxConditionalOrders: 100_000,
    maxWallet: '1000000000',
    maxFundingSettlementsPerAdvance: 64,
    symbols: [btcusdt(), ethusdt()],
    ...overrides,
  };
}
