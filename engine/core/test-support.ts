// Shared by the engine's property tests, the journal tests and the simulator: a small
// engine config and a fast-check arbitrary of realistic, risky command sequences.

import fc from 'fast-check';
import type { Command, PlaceOrder } from './commands.ts';
import { btcusdt, defaultConfig } from './config.ts';
import { Engine } from './engine.ts';
import type { EngineConfig } from './config.ts';

/** Two symbols, whole-dollar ticks, small pools: quick to build, easy to cross. */
export function testConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  const sym = (name: string, base: string) => btcusdt({
    symbol: name, baseAsset: base, tickSize: '1', minPrice: '1', maxPrice: '200000', stepSize: '0.001', minQty: '0.001',
    maxQty: '100', marketMaxQty: '100', minNotional: '5', maxOpenOrdersPerAccount: 20, maxRestingOrders: 4000, maxPriceLevels: 4000,
    percentPriceUp: '0.1', percentPriceDown: '0.1', marketTakeBound: '0.1',
  });
  return defaultConfig({ maxAccounts: 64, maxConditionalOrders: 256, symbols: [sym('BTCUSDT', 'BTC'), sym('ETHUSDT', 'ETH')], ...overrides });
}

export const ACCOUNTS = 6;
export const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const BASE_PRICE = 20_000; // ticks (= USDT)

/** Commands that set the scene: accounts, deposits, clock, index prices. */
export function setupCommands(): Command[] {
  const out: Command[] = [];
  for (let a = 0; a < ACCOUNTS; a++) out.push({ type: 'createAccount' });
  for (let a = 0; a < ACCOUNTS; a++) out.push({ type: 'deposit', accountId: a, amountUnits: (a < 2 ? 1_000_000 : 500 + 700 * a) * 1_000_000 });
  out.push({ type: 'advanceTime', timeMs: T0 });
  out.push({ type: 'setIndexPrice', symbolId: 0, priceTicks: BASE_PRICE });
  out.push({ type: 'setIndexPrice', symbolId: 1, priceTicks: BASE_PRICE / 10 });
  for (let a = 2; a < ACCOUNTS; a++) out.push({ type: 'setLeverage', accountId: a, symbolId: 0, leverage: 10 + 12 * a });
  return out;
}

const side = fc.constantFrom<'BUY' | 'SELL'>('BUY', 'SELL');
const account = fc.nat({ max: ACCOUNTS - 1 });
const symbol = fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) });
// Offsets around the index in basis points; narrow so orders cross often.
const offsetBp = fc.integer({ min: -150, max: 150 });
const qty = fc.oneof({ weight: 2, arbitrary: fc.integer({ min: 1, max: 20 }) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 400 }) }, { weight: 1, arbitrary: fc.integer({ min: 1000, max: 6000 }) });
const clientId = fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('a', 'b', 'c', 'x-1') });

/**
 * An order-flow "intent". Prices are relative to the symbol's index at generation time
 * (the runner resolves them), so sequences stay meaningful while the index moves.
 */
export type Intent =
  | { k: 'limit'; a: number; s: number; side: 'BUY' | 'SELL'; bp: number; qty: number; tif: 'GTC' | 'IOC' | 'FOK' | 'GTX'; ro: boolean; cid: string; stp: PlaceOrder['stpMode'] }
  | { k: 'market'; a: number; s: number; side: 'BUY' | 'SELL'; qty: number; ro: boolean }
  | { k: 'stop'; a: number; s: number; side: 'BUY' | 'SELL'; bp: number; qty: number; type: 'STOP_MARKET' | 'TAKE_PROFIT_MARKET' | 'STOP' | 'TAKE_PROFIT'; mark: boolean; ro: boolean }
  | { k: 'cancel'; a: number; s: number; pick: number; byClient: boolean }
  | { k: 'cancelAll'; a: number; s: number }
  | { k: 'modify'; a: number; s: number; pick: number; bp: number; qty: number }
  | { k: 'index'; s: number; bp: number }
  | { k: 'time'; ms: number }
  | { k: 'deposit'; a: number; amount: number }
  | { k: 'withdraw'; a: number; amount: number }
  | { k: 'leverage'; a: number; s: number; lev: number }
  | { k: 'garbage'; which: number };

export const intentArb: fc.Arbitrary<Intent> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ k: fc.constant('limit' as const), a: account, s: symbol, side, bp: offsetBp, qty, tif: fc.constantFrom('GTC', 'GTC', 'GTC', 'IOC', 'FOK', 'GTX') as fc.Arbitrary<'GTC' | 'IOC' | 'FOK' | 'GTX'>, ro: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), cid: clientId, stp: fc.constantFrom('NONE', 'NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH') as fc.Arbitrary<PlaceOrder['stpMode']> }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('market' as const), a: account, s: symbol, side, qty, ro: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('stop' as const), a: account, s: symbol, side, bp: offsetBp, qty, type: fc.constantFrom('STOP_MARKET', 'TAKE_PROFIT_MARKET', 'STOP', 'TAKE_PROFIT') as fc.Arbitrary<'STOP_MARKET' | 'TAKE_PROFIT_MARKET' | 'STOP' | 'TAKE_PROFIT'>, mark: fc.boolean(), ro: fc.boolean() }) },
  { weight: 10, arbitrary: fc.record({ k: fc.constant('cancel' as const), a: account, s: symbol, pick: fc.nat({ max: 1000 }), byClient: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancelAll' as const), a: account, s: symbol }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('modify' as const), a: account, s: symbol, pick: fc.nat({ max: 1000 }), bp: offsetBp, qty }) },
  { weight: 7, arbitrary: fc.record({ k: fc.constant('index' as const), s: symbol, bp: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -80, max: 80 }) }, { weight: 3, arbitrary: fc.integer({ min: -900, max: 900 }) }) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('time' as const), ms: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 9 * 3_600_000 })) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('deposit' as const), a: account, amount: fc.integer({ min: 1, max: 5_000_000_000 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('withdraw' as const), a: account, amount: fc.integer({ min: 1, max: 5_000_000_000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('leverage' as const), a: account, s: symbol, lev: fc.integer({ min: 0, max: 130 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('garbage' as const), which: fc.nat({ max: 9 }) }) },
);

/** Minimal read access the resolver needs (implemented by Engine). */
export interface ResolveView {
  nowMs: number;
  markets: { indexTicks: number }[];
  openOrderIds(accountId: number, symbolId: number): { id: number; clientId: string }[];
}

function priceAt(index: number, bp: number): number {
  return Math.max(1, index + Math.trunc((index * bp) / 10_000));
}

/** Turn an intent into a concrete command against the current state. */
export function resolveIntent(i: Intent, v: ResolveView): Command {
  const index = (s: number) => v.markets[s]!.indexTicks;
  switch (i.k) {
    case 'limit':
      return { type: 'place', accountId: i.a, symbolId: i.s, side: i.side, orderType: 'LIMIT', tif: i.tif, priceTicks: priceAt(index(i.s), i.bp), qtyLots: i.qty, reduceOnly: i.ro, clientOrderId: i.cid, stpMode: i.stp, triggerPriceTicks: 0, workingType: 'CONTRACT_PRICE' };
    case 'market':
      return { type: 'place', accountId: i.a, symbolId: i.s, side: i.side, orderType: 'MARKET', tif: 'GTC', priceTicks: 0, qtyLots: i.qty, reduceOnly: i.ro, clientOrderId: '', stpMode: 'NONE', triggerPriceTicks: 0, workingType: 'CONTRACT_PRICE' };
    case 'stop': {
      const p = priceAt(index(i.s), i.bp);
      return { type: 'place', accountId: i.a, symbolId: i.s, side: i.side, orderType: i.type, tif: 'GTC', priceTicks: i.type === 'STOP' || i.type === 'TAKE_PROFIT' ? p : 0, qtyLots: i.qty, reduceOnly: i.ro, clientOrderId: '', stpMode: 'NONE', triggerPriceTicks: p, workingType: i.mark ? 'MARK_PRICE' : 'CONTRACT_PRICE' };
    }
    case 'cancel': {
      const open = v.openOrderIds(i.a, i.s);
      const o = open.length === 0 ? { id: 999_999, clientId: 'nope' } : open[i.pick % open.length]!;
      return i.byClient && o.clientId !== '' ? { type: 'cancel', accountId: i.a, symbolId: i.s, orderId: 0, clientOrderId: o.clientId } : { type: 'cancel', accountId: i.a, symbolId: i.s, orderId: o.id, clientOrderId: '' };
    }
    case 'cancelAll':
      return { type: 'cancelAll', accountId: i.a, symbolId: i.s };
    case 'modify': {
      const open = v.openOrderIds(i.a, i.s);
      const o = open.length === 0 ? { id: 999_999, clientId: '' } : open[i.pick % open.length]!;
      return { type: 'modify', accountId: i.a, symbolId: i.s, orderId: o.id, clientOrderId: '', priceTicks: priceAt(index(i.s), i.bp), qtyLots: i.qty };
    }
    case 'index':
      return { type: 'setIndexPrice', symbolId: i.s, priceTicks: Math.min(199_999, priceAt(index(i.s), i.bp)) };
    case 'time':
      return { type: 'advanceTime', timeMs: v.nowMs + i.ms };
    case 'deposit':
      return { type: 'deposit', accountId: i.a, amountUnits: i.amount };
    case 'withdraw':
      return { type: 'withdraw', accountId: i.a, amountUnits: i.amount };
    case 'leverage':
      return { type: 'setLeverage', accountId: i.a, symbolId: i.s, leverage: i.lev };
    case 'garbage':
      return GARBAGE[i.which]!;
  }
}

/** Malformed commands: each must be rejected without changing anything. */
const GARBAGE: Command[] = [
  { type: 'deposit', accountId: 999, amountUnits: 1 },
  { type: 'deposit', accountId: 0, amountUnits: -5 },
  { type: 'deposit', accountId: 0, amountUnits: 1.5 },
  { type: 'place', accountId: 0, symbolId: 9, side: 'BUY', orderType: 'LIMIT', tif: 'GTC', priceTicks: 1, qtyLots: 1, reduceOnly: false, clientOrderId: '', stpMode: 'NONE', triggerPriceTicks: 0, workingType: 'CONTRACT_PRICE' },
  { type: 'place', accountId: 0, symbolId: 0, side: 'UP' as 'BUY', orderType: 'LIMIT', tif: 'GTC', priceTicks: 20_000, qtyLots: 1, reduceOnly: false, clientOrderId: '', stpMode: 'NONE', triggerPriceTicks: 0, workingType: 'CONTRACT_PRICE' },
  { type: 'place', accountId: 0, symbolId: 0, side: 'BUY', orderType: 'LIMIT', tif: 'GTC', priceTicks: 2 ** 60, qtyLots: 1, reduceOnly: false, clientOrderId: '', stpMode: 'NONE', triggerPriceTicks: 0, workingType: 'CONTRACT_PRICE' },
  { type: 'place', accountId: 0, symbolId: 0, side: 'BUY', orderType: 'LIMIT', tif: 'GTC', priceTicks: 20_000, qtyLots: 1e9, reduceOnly: false, clientOrderId: 'bad id!', stpMode: 'NONE', triggerPriceTicks: 0, workingType: 'CONTRACT_PRICE' },
  { type: 'advanceTime', timeMs: 5 },
  { type: 'setIndexPrice', symbolId: 0, priceTicks: 0 },
  { type: 'nonsense' } as unknown as Command,
];

/** Resolve intents into a concrete command log: the setup commands, then each intent against a
 * scratch engine (intents read state, so they resolve in order). */
export function commandLog(intents: readonly Intent[]): Command[] {
  const scratch = new Engine(testConfig());
  const log: Command[] = [];
  for (const c of setupCommands()) { scratch.apply(c); log.push(c); }
  for (const i of intents) {
    const c = resolveIntent(i, scratch);
    scratch.apply(c);
    log.push(c);
  }
  return log;
}
