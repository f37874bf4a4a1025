// Insurance-fund exhaustion: a gap that the fund can absorb only in part. At inject, a
// crowd of highly leveraged longs (30× by default) opens positions, and one bid level is
// placed just far enough under the first long's bankruptcy price that filling its whole
// position there costs 98 % of the current insurance fund (a liquidation order may fill below
// bankruptcy only as far as the fund can cover the deficit). Then the index gaps: the first
// long's liquidation fills at that level and the fund covers the deficit (the fund runs down),
// the next longs' liquidation orders may go only as far as the little that is left, find no
// bids there, and are auto-deleveraged. `clear` restores the index.
//
// Needs a fund > 0 first (liquidation fees): run it after an index shock (see experiments.ts).

import { adminTotals, createTrader, signedOk } from '../signed-rest.ts';
import type { Fault, FaultContext } from '../fault.ts';
import { crowdOutcome, prepareCrowd } from './crowd.ts';
import type { Crowd, CrowdOutcome } from './crowd.ts';
import { indexShockFault } from './index-shock.ts';
import { lotsOf, priceText, qtyText, symbolSteps } from './symbol.ts';

export interface FundExhaustionOptions {
  symbol: string;
  longs: number;
  depositUsdt: number;
  leverage: number;
  gapPct: number;
  /** Share of the fund the bid level is priced to consume (default 0.98). */
  fundShare?: number;
}

export interface FundExhaustionResult {
  fundBefore: number;
  fundAfter: number;
  bankruptcyPrice: string;
  bidPrice: string;
  bidQty: string;
  outcome: CrowdOutcome | null;
  crowdLots: number;
}

export interface FundExhaustionFault extends Fault {
  result(): FundExhaustionResult;
  /** Read the crowd's outcome again (verify, after the run). */
  outcome(baseUrl: string): Promise<CrowdOutcome | null>;
}

/** USDT decimal text → integer units (6 decimals), exactly. */
function units(text: string): number {
  const [i, f = ''] = text.split('.');
  return Number(i) * 1_000_000 + Number((f + '000000').slice(0, 6)) * (text.startsWith('-') ? -1 : 1);
}

export function fundExhaustionFault(o: FundExhaustionOptions): FundExhaustionFault {
  const gap = indexShockFault({ symbol: o.symbol, movePct: o.gapPct, steps: 1, overMs: 0, restoreSteps: 5, name: 'index-gap' });
  let crowd: Crowd | null = null;
  const r: FundExhaustionResult = { fundBefore: 0, fundAfter: 0, bankruptcyPrice: '', bidPrice: '', bidQty: '', outcome: null, crowdLots: 0 };
  return {
    name: 'fund-exhaustion',
    describe: `${o.longs} longs at ${o.leverage}× + one bid priced to use 98 % of the insurance fund, then the index gaps ${o.gapPct}%`,
    result: () => ({ ...r }),
    async outcome(baseUrl) {
      return crowd === null ? null : crowdOutcome(baseUrl, crowd);
    },
    async inject(ctx: FaultContext) {
      const s = await symbolSteps(ctx.serverUrl, o.symbol);
      crowd = await prepareCrowd({
        baseUrl: ctx.serverUrl, adminToken: ctx.adminToken, symbol: o.symbol, longs: o.longs, depositUsdt: o.depositUsdt,
        leverageMin: o.leverage, leverageMax: o.leverage, rng: ctx.rng,
      });
      r.crowdLots = crowd.longs.reduce((a, m) => a + m.lots, 0);
      const first = crowd.longs.find((m) => m.lots > 0);
      if (first === undefined) throw new Error('fund exhaustion: no crowd long got a position');
      const fundUnits = units((await adminTotals(ctx.serverUrl, ctx.adminToken)).insuranceFund);
      // Bankruptcy of a lone long position: ceil((cost − wallet) / (lots × unitsPerTickLot)).
      const pos = (await signedOk(ctx.serverUrl, first.trader, 'GET', '/fapi/v3/positionRisk', [['symbol', o.symbol]]) as { positionAmt: string; entryPrice: string }[])[0]!;
      const wallet = units((await signedOk(ctx.serverUrl, first.trader, 'GET', '/fapi/v2/balance', []) as { balance: string }[])[0]!.balance);
      const lots = lotsOf(s, pos.positionAmt);
      const unitsPerTickLot = Math.round(s.tick * s.step * 1_000_000);
      const costUnits = Math.round(Number(pos.entryPrice) / s.tick) * lots * unitsPerTickLot;
      const bankruptcyTicks = Math.ceil((costUnits - wallet) / (lots * unitsPerTickLot));
      const belowTicks = Math.floor(((o.fundShare ?? 0.98) * fundUnits) / (lots * unitsPerTickLot));
      r.bankruptcyPrice = priceText(s, bankruptcyTicks);
      r.bidPrice = priceText(s, bankruptcyTicks - belowTicks);
      r.bidQty = qtyText(s, lots);
      r.fundBefore = fundUnits / 1_000_000;
      if (belowTicks > 0) {
        const bidder = await createTrader(ctx.serverUrl, ctx.adminToken, '5000000');
        await signedOk(ctx.serverUrl, bidder, 'POST', '/fapi/v1/order', [
          ['symbol', o.symbol], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'GTC'], ['price', r.bidPrice], ['quantity', r.bidQty], ['newClientOrderId', 'chaos-fund-bid'],
        ]);
      }
      ctx.mark('note', `crowd of ${crowd.longs.length} at ${o.leverage}× (${r.crowdLots} lots); first long bankrupt at ${r.bankruptcyPrice}; bid ${r.bidQty} at ${r.bidPrice} prices in ${(o.fundShare ?? 0.98) * 100}% of the fund ${r.fundBefore}`);
      await gap.inject(ctx);
      r.fundAfter = Number((await adminTotals(ctx.serverUrl, ctx.adminToken)).insuranceFund);
      r.outcome = await crowdOutcome(ctx.serverUrl, crowd);
      ctx.mark('note', `insurance fund ${r.fundBefore} → ${r.fundAfter}; ${r.outcome.liquidated}/${crowd.longs.length} liquidated, ${r.outcome.liquidationFilledLots} lots in the book, ${r.outcome.adlLots} by ADL`);
    },
    async clear(ctx: FaultContext) {
      await gap.clear(ctx);
    },
  };
}
