// The default campaign's market move: index moves that trigger liquidations while the order
// spike is on. Before the load, a crowd of highly leveraged longs (40–100×, seeded) opens
// positions against a whale (chaos/market/crowd.ts); during the spike the index steps down
// −3% over 3 s (chaos/market/index-shock.ts: each step is one admin indexPrice command, which
// the engine answers after re-marking and liquidating), and it is restored when the spike ends.
// −3% stays inside the symbol's 5% PERCENT_PRICE band, so the flow's orders stay valid while the
// crowd's liquidation prices (≈ 0.7–2.4% below entry) are all crossed: a cascade under load.
//
// After the run the outcome is read back through the public API (liquidation orders, ADL fills)
// and becomes a checker line: the wave must have liquidated someone, or the campaign did not
// exercise what it claims to. Money conservation and open interest across the liquidations are
// checked by the history checker as for every run.

import { prepareCrowd, crowdOutcome } from '../chaos/market/crowd.ts';
import type { Crowd } from '../chaos/market/crowd.ts';
import { indexShockFault } from '../chaos/market/index-shock.ts';
import type { Fault, FaultContext } from '../chaos/fault.ts';
import { seededRng } from '../chaos/fault.ts';
import type { CheckerResult } from './result.ts';

export interface LiquidationWaveOptions {
  url: string;
  adminToken: string;
  symbol: string;
  /** When the index starts moving and when it is restored, seconds after the load starts. */
  atS: number;
  untilS: number;
  movePct?: number;
  longs?: number;
  seed?: number;
  log: (line: string) => void;
}

export interface LiquidationWave {
  /** The load started at epoch ms `startMs`: arm the timers. */
  onStart(startMs: number): void;
  /** Restore the index if the run ended early, read the outcome; returns the checker line. */
  finish(): Promise<CheckerResult>;
}

export const WAVE_DEFAULTS = { movePct: -3, longs: 8, depositUsdt: 2_000, leverageMin: 40, leverageMax: 100, steps: 6, overMs: 3_000 } as const;

export async function prepareLiquidationWave(o: LiquidationWaveOptions): Promise<LiquidationWave> {
  const rng = seededRng(o.seed ?? 11);
  const crowd: Crowd = await prepareCrowd({
    baseUrl: o.url, adminToken: o.adminToken, symbol: o.symbol, longs: o.longs ?? WAVE_DEFAULTS.longs, depositUsdt: WAVE_DEFAULTS.depositUsdt,
    leverageMin: WAVE_DEFAULTS.leverageMin, leverageMax: WAVE_DEFAULTS.leverageMax, ladderLots: 2_000, ladderLevels: 10, ladderSpanPct: 4, rng,
  });
  const movePct = o.movePct ?? WAVE_DEFAULTS.movePct;
  o.log(`perpx run: liquidation wave armed — ${crowd.longs.length} longs at ${crowd.longs.map((m) => `${m.leverage}x`).join(', ')}; index ${movePct}% at t=${o.atS}s, restored at t=${o.untilS}s`);
  const fault: Fault = indexShockFault({ symbol: o.symbol, movePct, steps: WAVE_DEFAULTS.steps, overMs: WAVE_DEFAULTS.overMs, restoreSteps: 3, name: 'liquidation-wave' });
  const abort = new AbortController();
  let startMs = 0;
  const notes: string[] = [];
  const ctx: FaultContext = {
    server: null, serverUrl: o.url, adminToken: o.adminToken, rng, signal: abort.signal, log: o.log,
    nowS: () => (startMs === 0 ? 0 : (Date.now() - startMs) / 1000),
    mark: (_kind, detail) => notes.push(detail),
  };
  const timers: NodeJS.Timeout[] = [];
  let injected: Promise<void> | null = null;
  let cleared: Promise<void> | null = null;
  const failures: string[] = [];
  const clear = (): Promise<void> => {
    cleared ??= (injected ?? Promise.resolve()).then(() => fault.clear(ctx)).catch((e: Error) => { failures.push(`restore: ${e.message}`); });
    return cleared;
  };
  return {
    onStart(ms) {
      startMs = ms;
      timers.push(setTimeout(() => {
        injected = fault.inject(ctx).catch((e: Error) => { failures.push(`index move: ${e.message}`); });
      }, Math.max(0, o.atS * 1000)));
      timers.push(setTimeout(() => { void clear(); }, Math.max(0, o.untilS * 1000)));
    },
    async finish() {
      for (const t of timers) clearTimeout(t);
      abort.abort();
      if (injected !== null) await clear();
      const out = await crowdOutcome(o.url, crowd);
      const ok = injected !== null && failures.length === 0 && out.liquidated > 0;
      return {
        name: 'liquidation wave',
        ok,
        detail: `${injected === null ? 'the index never moved (run ended first); ' : ''}${out.liquidated}/${crowd.longs.length} leveraged longs liquidated ` +
          `(${out.liquidationOrders} liquidation orders, ${out.liquidationFilledLots} lots filled in the book, ${out.adlFills} ADL fills); ${notes.join('; ')}` +
          `${failures.length === 0 ? '' : `; FAILED: ${failures.join('; ')}`}`,
      };
    },
  };
}
