// Stale oracle. `startIndexWalk` is the healthy oracle: a seeded random walk of the index
// (± stepPct per step, held within ± maxDriftPct of where it started) posted every stepMs.
// `staleOracleFault` pauses it — no index update for as long as the fault lasts — while a
// pair of mover accounts trades the book away from the frozen index (bookMovePct over
// rampMs). The mark price is median(index-based, index + 30 s basis average, last trade),
// so it may follow the book only as far as the basis average lets it. `clear` stops the
// movers, cancels their orders and resumes the walk.

import { adminPost } from '../../harness/embedded-server.ts';
import type { Fault, FaultContext } from '../fault.ts';
import { createTrader, premiumIndex, publicGet, signedCall } from '../signed-rest.ts';
import type { Trader } from '../signed-rest.ts';
import { priceText, symbolSteps, ticksOf } from './symbol.ts';
import type { SymbolSteps } from './symbol.ts';

export interface IndexWalkOptions {
  baseUrl: string;
  adminToken: string;
  symbol: string;
  stepMs: number;
  /** Size of one step in percent of the starting index. */
  stepPct: number;
  maxDriftPct: number;
  rng: () => number;
}

export interface IndexWalk {
  pause(): void;
  resume(): void;
  /** Stop for good (waits for a step in flight). */
  stop(): Promise<void>;
  readonly updates: number;
  readonly running: boolean;
  readonly paused: boolean;
}

export function startIndexWalk(o: IndexWalkOptions): IndexWalk {
  let running = true;
  let paused = false;
  let updates = 0;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let s: SymbolSteps | null = null;
  let baseTicks = 0;
  let ticks = 0;
  const step = async (): Promise<void> => {
    if (s === null) {
      s = await symbolSteps(o.baseUrl, o.symbol);
      baseTicks = ticksOf(s, (await premiumIndex(o.baseUrl, o.symbol)).indexPrice);
      ticks = baseTicks;
    }
    const size = Math.max(1, Math.round((baseTicks * o.stepPct) / 100));
    const limit = Math.round((baseTicks * o.maxDriftPct) / 100);
    ticks += o.rng() < 0.5 ? -size : size;
    ticks = Math.max(baseTicks - limit, Math.min(baseTicks + limit, ticks));
    await adminPost(o.baseUrl, o.adminToken, 'indexPrice', { symbol: o.symbol, price: priceText(s, ticks) });
    updates++;
  };
  const loop = (): void => {
    if (!running) return;
    timer = setTimeout(() => {
      if (!running) return;
      inFlight = paused ? Promise.resolve() : step().catch(() => {}); // a failed post is retried next step
      void inFlight.then(loop);
    }, o.stepMs);
  };
  loop();
  return {
    pause() { paused = true; },
    resume() { paused = false; },
    async stop() {
      running = false;
      if (timer !== undefined) clearTimeout(timer);
      await inFlight;
    },
    get updates() { return updates; },
    get running() { return running; },
    get paused() { return paused; },
  };
}

export interface StaleOracleOptions {
  symbol: string;
  /** How far the movers trade the book away from the frozen index (percent, within the 5 % band). */
  bookMovePct: number;
  /** Reach bookMovePct after this long, then hold (default 2000 ms). */
  rampMs?: number;
  stepMs: number;
  /** Extra base quantity each mover buy takes (default '0.1'). */
  sweepQty?: string;
}

export interface StaleOracleResult {
  /** The index when updates stopped, and just before they resumed (equal if the oracle was really stale). */
  frozenIndex: number;
  indexAtClear: number;
  /** Mark price just before the index resumed. */
  markAtClear: number;
  /** The walk's update count when it was resumed (later counts show it really resumed). */
  walkUpdatesAtClear: number;
  /** Highest trade price seen while the index was frozen. */
  highTrade: number;
  bookMovePct: number;
  moverTrades: number;
}

export interface StaleOracleFault extends Fault {
  result(): StaleOracleResult;
}

export function staleOracleFault(walk: IndexWalk, o: StaleOracleOptions): StaleOracleFault {
  let seller: Trader | null = null;
  let buyer: Trader | null = null;
  let moving = false;
  let injected = false;
  let mover: Promise<void> = Promise.resolve();
  const r: StaleOracleResult = { frozenIndex: 0, indexAtClear: 0, markAtClear: 0, walkUpdatesAtClear: 0, highTrade: 0, bookMovePct: 0, moverTrades: 0 };
  return {
    name: 'stale-oracle',
    describe: `index updates stop; the book is traded ${o.bookMovePct}% away from the frozen index`,
    result: () => ({ ...r }),
    async inject(ctx: FaultContext) {
      walk.pause();
      injected = true;
      const s = await symbolSteps(ctx.serverUrl, o.symbol);
      seller ??= await createTrader(ctx.serverUrl, ctx.adminToken, '1000000');
      buyer ??= await createTrader(ctx.serverUrl, ctx.adminToken, '1000000');
      const startTicks = ticksOf(s, (await premiumIndex(ctx.serverUrl, o.symbol)).indexPrice);
      r.frozenIndex = startTicks * s.tick;
      r.highTrade = r.frozenIndex;
      moving = true;
      const t0 = Date.now();
      const rampMs = o.rampMs ?? 2000;
      const sell = seller;
      const buy = buyer;
      // Just over the 100 USDT minimum notional of the default symbols; the buyer takes that
      // plus `sweepQty`, so it also lifts any cheaper asks other traders keep near the index.
      const lots = Math.ceil(150 / (startTicks * s.tick * s.step));
      const qty = (lots * s.step).toFixed(s.qtyDecimals);
      const buyQty = (lots * s.step + Number(o.sweepQty ?? '0.1')).toFixed(s.qtyDecimals);
      mover = (async () => {
        while (moving && !ctx.signal.aborted) {
          const f = Math.min(1, (Date.now() - t0) / rampMs);
          const p = priceText(s, Math.round(startTicks * (1 + (o.bookMovePct / 100) * f)));
          await signedCall(ctx.serverUrl, sell, 'POST', '/fapi/v1/order', [['symbol', o.symbol], ['side', 'SELL'], ['type', 'LIMIT'], ['timeInForce', 'GTC'], ['price', p], ['quantity', qty]]);
          const b = await signedCall(ctx.serverUrl, buy, 'POST', '/fapi/v1/order', [['symbol', o.symbol], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'IOC'], ['price', p], ['quantity', buyQty], ['newOrderRespType', 'RESULT']]);
          const body = b.body as { executedQty?: string } | null;
          if (b.status === 200 && Number(body?.executedQty ?? 0) > 0) {
            r.moverTrades++;
            const recent = await publicGet<{ price: string }[]>(ctx.serverUrl, `/fapi/v1/trades?symbol=${o.symbol}&limit=20`);
            for (const t of recent) r.highTrade = Math.max(r.highTrade, Number(t.price));
            r.bookMovePct = (r.highTrade / r.frozenIndex - 1) * 100;
          }
          await new Promise((res) => setTimeout(res, o.stepMs));
        }
      })();
      ctx.mark('note', `index walk paused after ${walk.updates} updates; movers trading the book away from ${r.frozenIndex}`);
    },
    async clear(ctx: FaultContext) {
      if (!injected) return; // idempotent: already cleared (or never injected)
      injected = false;
      moving = false;
      await mover;
      for (const t of [seller, buyer]) if (t !== null) await signedCall(ctx.serverUrl, t, 'DELETE', '/fapi/v1/allOpenOrders', [['symbol', o.symbol]]);
      if (walk.paused) {
        const pi = await premiumIndex(ctx.serverUrl, o.symbol);
        r.indexAtClear = Number(pi.indexPrice);
        r.markAtClear = Number(pi.markPrice);
      }
      r.walkUpdatesAtClear = walk.updates;
      walk.resume();
      if (r.moverTrades > 0) ctx.mark('note', `book traded up to ${r.highTrade} vs frozen index ${r.frozenIndex} (${r.bookMovePct.toFixed(2)}%) in ${r.moverTrades} trades; index ${r.indexAtClear}, mark ${r.markAtClear} at clear; index walk resumed`);
    },
  };
}
