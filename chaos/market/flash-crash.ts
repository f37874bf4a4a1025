// Flash crash by market sweeps: a funded account sends `sweeps` MARKET SELLs of `sweepQty`
// spread over `overMs`, eating the bids down to the market take bound (mark × (1 − bound)).
// The last price falls; the mark price — a median of two index-anchored prices and the last
// trade — should not, so a crash that is only in the book must not liquidate anybody.
// Nothing keeps running after inject; `clear` cancels anything the crasher left open (it keeps
// its short position: that is state, not a running fault).

import type { Fault, FaultContext } from '../fault.ts';
import { createTrader, publicGet, signedCall, signedOk } from '../signed-rest.ts';
import type { Trader } from '../signed-rest.ts';
import { sleepMs } from './sleep.ts';

export interface FlashCrashOptions {
  symbol: string;
  sweeps: number;
  overMs: number;
  /** Base-asset quantity per market order (decimal text). */
  sweepQty: string;
  depositUsdt?: string;
}

export interface FlashCrashResult {
  sweeps: number;
  soldQty: number;
  /** Last trade price before the first sweep (mark if there was no trade). */
  firstPrice: number;
  /** Lowest trade price during the sweeps. */
  lowPrice: number;
  dropPct: number;
}

export interface FlashCrashFault extends Fault {
  result(): FlashCrashResult;
}

interface TradeRow { id: number; price: string }

async function lastTrades(baseUrl: string, symbol: string): Promise<TradeRow[]> {
  return publicGet<TradeRow[]>(baseUrl, `/fapi/v1/trades?symbol=${symbol}&limit=1000`);
}

export function flashCrashFault(o: FlashCrashOptions): FlashCrashFault {
  let crasher: Trader | null = null;
  const r: FlashCrashResult = { sweeps: 0, soldQty: 0, firstPrice: 0, lowPrice: 0, dropPct: 0 };
  return {
    name: 'flash-crash',
    describe: `${o.sweeps} market sells of ${o.sweepQty} ${o.symbol} over ${o.overMs} ms (sweeps the bids down to the take bound)`,
    result: () => ({ ...r }),
    async inject(ctx: FaultContext) {
      crasher ??= await createTrader(ctx.serverUrl, ctx.adminToken, o.depositUsdt ?? '2000000');
      const before = await lastTrades(ctx.serverUrl, o.symbol);
      const lastId = before.length === 0 ? -1 : before[before.length - 1]!.id;
      const mark = Number((await publicGet<{ markPrice: string }>(ctx.serverUrl, `/fapi/v1/premiumIndex?symbol=${o.symbol}`)).markPrice);
      r.firstPrice = before.length === 0 ? mark : Number(before[before.length - 1]!.price);
      const t0 = Date.now();
      for (let i = 0; i < o.sweeps && !ctx.signal.aborted; i++) {
        const res = await signedCall(ctx.serverUrl, crasher, 'POST', '/fapi/v1/order', [
          ['symbol', o.symbol], ['side', 'SELL'], ['type', 'MARKET'], ['quantity', o.sweepQty], ['newOrderRespType', 'RESULT'],
        ]);
        r.sweeps++;
        if (res.status === 200) r.soldQty += Number((res.body as { executedQty: string }).executedQty);
        await sleepMs(t0 + (o.overMs * (i + 1)) / o.sweeps - Date.now(), ctx.signal);
      }
      const after = (await lastTrades(ctx.serverUrl, o.symbol)).filter((t) => t.id > lastId);
      r.lowPrice = after.length === 0 ? r.firstPrice : Math.min(...after.map((t) => Number(t.price)));
      r.dropPct = (r.lowPrice / r.firstPrice - 1) * 100;
      ctx.mark('note', `sold ${r.soldQty.toFixed(3)} in ${r.sweeps} sweeps; last price ${r.firstPrice} → low ${r.lowPrice} (${r.dropPct.toFixed(2)}%)`);
    },
    async clear(ctx: FaultContext) {
      if (crasher !== null) await signedOk(ctx.serverUrl, crasher, 'DELETE', '/fapi/v1/allOpenOrders', [['symbol', o.symbol]]).catch(() => {});
    },
  };
}
