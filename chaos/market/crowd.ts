// The market faults' precondition: a crowd of leveraged longs that a price move must
// liquidate, a well-funded short "whale" on the other side of their positions (the ADL
// counterparty), and optionally a bid ladder that absorbs liquidation orders. Without it an
// index shock proves nothing — an idle exchange has nobody to liquidate.
//
// Each long i gets a seeded leverage in [leverageMin, leverageMax] and buys ~utilization ×
// deposit × leverage of notional at the index, so its liquidation price is ≈ index × (1 −
// 1/(utilization × leverage) + MMR): the crowd's liquidation prices are spread out, and a
// stepped drop liquidates them over several steps (a cascade), not all at once.
//
// `crowdOutcome` reads back from the public API what happened to the crowd: liquidation
// orders ("autoclose-…" client ids in allOrders), ADL fills (user trades with orderId 0: an
// ADL fill has no order) and the positions left.

import { createTrader, mapLimit, premiumIndex, signedCall, signedOk } from '../signed-rest.ts';
import type { Trader } from '../signed-rest.ts';
import { lotsOf, priceText, qtyText, symbolSteps, ticksOf } from './symbol.ts';
import type { SymbolSteps } from './symbol.ts';

export interface CrowdOptions {
  baseUrl: string;
  adminToken: string;
  symbol: string;
  /** Leveraged long accounts. */
  longs: number;
  /** USDT deposited per long. */
  depositUsdt: number;
  leverageMin: number;
  leverageMax: number;
  /** Share of deposit × leverage a long uses (0 < u < 1; the rest pays the fee). */
  utilization?: number;
  /** Bid ladder (liquidity for liquidation orders): total lots over `ladderLevels` levels, 0 = none. */
  ladderLots?: number;
  ladderLevels?: number;
  /** The ladder spans index × (1 − ladderSpanPct/100) .. just under the index. */
  ladderSpanPct?: number;
  rng: () => number;
}

export interface CrowdMember {
  trader: Trader;
  leverage: number;
  /** Position actually opened (lots; may be less than asked if the book moved). */
  lots: number;
}

export interface Crowd {
  symbol: SymbolSteps;
  /** The index when the crowd opened its positions (ticks). */
  entryTicks: number;
  longs: CrowdMember[];
  whale: Trader;
  ladder: Trader | null;
}

export interface CrowdOutcome {
  /** Longs with a liquidation order in their history. */
  liquidated: number;
  /** Liquidation orders and the lots they filled in the book. */
  liquidationOrders: number;
  liquidationFilledLots: number;
  /** ADL fills (trade ids) and lots, seen from the crowd's side. */
  adlFills: number;
  adlLots: number;
  /** ADL fills the whale received. */
  whaleAdlFills: number;
  /** Longs whose position is now 0. */
  flat: number;
  whalePositionLots: number;
}

async function positionLots(baseUrl: string, t: Trader, s: SymbolSteps): Promise<number> {
  const rows = await signedOk(baseUrl, t, 'GET', '/fapi/v3/positionRisk', [['symbol', s.symbol]]) as { positionAmt: string }[];
  return rows.length === 0 ? 0 : lotsOf(s, rows[0]!.positionAmt);
}

export async function prepareCrowd(o: CrowdOptions): Promise<Crowd> {
  const s = await symbolSteps(o.baseUrl, o.symbol);
  const entryTicks = ticksOf(s, (await premiumIndex(o.baseUrl, o.symbol)).indexPrice);
  const u = o.utilization ?? 0.9;
  const plan = Array.from({ length: o.longs }, () => {
    const leverage = o.leverageMin + Math.floor(o.rng() * (o.leverageMax - o.leverageMin + 1));
    // notional = lots × ticks × tick × step; lots = u × deposit × leverage / (price × step)
    const lots = Math.floor((u * o.depositUsdt * leverage) / (entryTicks * s.tick * s.step));
    return { leverage, lots };
  });
  const totalLots = plan.reduce((a, p) => a + p.lots, 0);
  const whale = await createTrader(o.baseUrl, o.adminToken, String(Math.max(1_000_000, Math.ceil(totalLots * entryTicks * s.tick * s.step))));
  await signedOk(o.baseUrl, whale, 'POST', '/fapi/v1/order', [
    ['symbol', s.symbol], ['side', 'SELL'], ['type', 'LIMIT'], ['timeInForce', 'GTC'], ['price', priceText(s, entryTicks)],
    ['quantity', qtyText(s, totalLots)], ['newClientOrderId', 'chaos-whale-ask'],
  ]);
  const longs = await mapLimit(plan, 4, async (p): Promise<CrowdMember> => {
    const trader = await createTrader(o.baseUrl, o.adminToken, String(o.depositUsdt));
    await signedOk(o.baseUrl, trader, 'POST', '/fapi/v1/leverage', [['symbol', s.symbol], ['leverage', String(p.leverage)]]);
    // IOC at the entry price: fills against the whale's ask (or anything cheaper), never rests.
    await signedOk(o.baseUrl, trader, 'POST', '/fapi/v1/order', [
      ['symbol', s.symbol], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'IOC'], ['price', priceText(s, entryTicks)],
      ['quantity', qtyText(s, p.lots)],
    ]);
    return { trader, leverage: p.leverage, lots: await positionLots(o.baseUrl, trader, s) };
  });
  // Whatever the crowd did not take must not rest: it would catch later sweeps.
  await signedCall(o.baseUrl, whale, 'DELETE', '/fapi/v1/allOpenOrders', [['symbol', s.symbol]]);
  let ladder: Trader | null = null;
  const ladderLots = o.ladderLots ?? 0;
  if (ladderLots > 0) {
    ladder = await createTrader(o.baseUrl, o.adminToken, '5000000');
    const levels = Math.max(1, o.ladderLevels ?? 10);
    const span = (o.ladderSpanPct ?? 4.5) / 100;
    const per = Math.max(1, Math.floor(ladderLots / levels));
    for (let i = 0; i < levels; i++) {
      const ticks = Math.floor(entryTicks * (1 - (span * (i + 1)) / levels));
      await signedOk(o.baseUrl, ladder, 'POST', '/fapi/v1/order', [
        ['symbol', s.symbol], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'GTC'], ['price', priceText(s, ticks)],
        ['quantity', qtyText(s, per)], ['newClientOrderId', `chaos-ladder-${i}`],
      ]);
    }
  }
  return { symbol: s, entryTicks, longs, whale, ladder };
}

/** What happened to the crowd, read back through the public API. */
export async function crowdOutcome(baseUrl: string, c: Crowd): Promise<CrowdOutcome> {
  const s = c.symbol;
  const per = await mapLimit(c.longs, 4, async (m) => {
    const orders = await signedOk(baseUrl, m.trader, 'GET', '/fapi/v1/allOrders', [['symbol', s.symbol], ['limit', '1000']]) as { clientOrderId: string; executedQty: string }[];
    const liq = orders.filter((r) => r.clientOrderId.startsWith('autoclose-'));
    const trades = await signedOk(baseUrl, m.trader, 'GET', '/fapi/v1/userTrades', [['symbol', s.symbol], ['limit', '1000']]) as { orderId: number; qty: string }[];
    const adl = trades.filter((t) => t.orderId === 0);
    return {
      liq: liq.length, liqLots: liq.reduce((a, r) => a + lotsOf(s, r.executedQty), 0),
      adl: adl.length, adlLots: adl.reduce((a, t) => a + lotsOf(s, t.qty), 0), lots: await positionLots(baseUrl, m.trader, s),
    };
  });
  const whaleTrades = await signedOk(baseUrl, c.whale, 'GET', '/fapi/v1/userTrades', [['symbol', s.symbol], ['limit', '1000']]) as { orderId: number }[];
  return {
    liquidated: per.filter((p) => p.liq > 0).length,
    liquidationOrders: per.reduce((a, p) => a + p.liq, 0),
    liquidationFilledLots: per.reduce((a, p) => a + p.liqLots, 0),
    adlFills: per.reduce((a, p) => a + p.adl, 0),
    adlLots: per.reduce((a, p) => a + p.adlLots, 0),
    whaleAdlFills: whaleTrades.filter((t) => t.orderId === 0).length,
    flat: per.filter((p) => p.lots === 0).length,
    whalePositionLots: await positionLots(baseUrl, c.whale, s),
  };
}
