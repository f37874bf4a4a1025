// Index price shock: the oracle moves `movePct` (e.g. −30) in `steps` equal steps spread over
// `overMs` (steps = 1: a gap). Every step is one POST /admin/v1/indexPrice, which the engine
// answers only after re-marking and running liquidation (and ADL) for everyone it crosses,
// so a step's liquidations are done when its request returns. `clear` walks the index back to
// where it was in `restoreSteps` steps (idempotent: a second clear does nothing).

import { adminPost } from '../../harness/embedded-server.ts';
import type { Fault, FaultContext } from '../fault.ts';
import { premiumIndex } from '../signed-rest.ts';
import { sleepMs } from './sleep.ts';
import { priceText, symbolSteps, ticksOf } from './symbol.ts';

export interface IndexShockOptions {
  symbol: string;
  /** Percent move of the index, e.g. −30. */
  movePct: number;
  steps: number;
  overMs: number;
  restoreSteps?: number;
  /** Name in tables (default "index-shock"). */
  name?: string;
  /** Called after each step has been applied (tests use it to watch the cascade). */
  onStep?: (step: number, priceText: string) => Promise<void>;
}

export interface IndexShockFault extends Fault {
  /** The index before the shock and after each step (price text), for reports. */
  readonly path: string[];
}

export async function setIndex(ctx: { serverUrl: string; adminToken: string }, symbol: string, price: string): Promise<{ markPrice: string }> {
  const r = await adminPost(ctx.serverUrl, ctx.adminToken, 'indexPrice', { symbol, price });
  return { markPrice: String(r.markPrice) };
}

export function indexShockFault(o: IndexShockOptions): IndexShockFault {
  if (!(o.steps >= 1 && Number.isInteger(o.steps))) throw new Error('index shock: steps must be a positive integer');
  if (!(o.movePct > -100 && o.movePct !== 0)) throw new Error('index shock: movePct must be in (−100, 0) or positive');
  let baseTicks = 0;
  let lastTicks = 0;
  let restoreSymbol: Awaited<ReturnType<typeof symbolSteps>> | null = null;
  const path: string[] = [];
  return {
    name: o.name ?? 'index-shock',
    describe: `index ${o.symbol} ${o.movePct > 0 ? '+' : ''}${o.movePct}% in ${o.steps} step(s) over ${o.overMs} ms, restored at clear`,
    path,
    async inject(ctx: FaultContext) {
      const s = await symbolSteps(ctx.serverUrl, o.symbol);
      restoreSymbol = s;
      baseTicks = ticksOf(s, (await premiumIndex(ctx.serverUrl, o.symbol)).indexPrice);
      lastTicks = baseTicks;
      path.length = 0;
      path.push(priceText(s, baseTicks));
      const t0 = Date.now();
      let mark = '';
      for (let i = 1; i <= o.steps && !ctx.signal.aborted; i++) {
        const ticks = Math.max(1, Math.round(baseTicks * (1 + (o.movePct / 100) * (i / o.steps))));
        const text = priceText(s, ticks);
        mark = (await setIndex(ctx, o.symbol, text)).markPrice;
        lastTicks = ticks;
        path.push(text);
        if (o.onStep !== undefined) await o.onStep(i, text);
        const due = t0 + (o.overMs * i) / o.steps;
        if (i < o.steps) await sleepMs(due - Date.now(), ctx.signal);
      }
      ctx.mark('note', `index ${path[0]} → ${path.at(-1)} in ${path.length - 1} step(s), ${Date.now() - t0} ms; mark ${mark}`);
    },
    async clear(ctx: FaultContext) {
      const s = restoreSymbol;
      if (s === null || lastTicks === baseTicks) return;
      const steps = Math.max(1, o.restoreSteps ?? 1);
      const from = lastTicks;
      for (let i = 1; i <= steps; i++) {
        const ticks = Math.round(from + ((baseTicks - from) * i) / steps);
        await setIndex(ctx, o.symbol, priceText(s, ticks));
        lastTicks = ticks;
      }
      ctx.mark('note', `index restored to ${priceText(s, baseTicks)}`);
    },
  };
}
