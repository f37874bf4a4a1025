// Market experiments: an index shock that liquidates a leveraged crowd in a cascade, a gap
// that exhausts what the insurance fund can absorb and auto-deleverages, a flash crash that
// is only in the book, and a stale oracle. Each sets its crowd up before the load starts
// (plan.setup) and checks its own invariants after (plan.verify); the runner adds the history
// checker, conservation and the replay-hash check.

import type { Experiment, ExperimentPlan, PlanInput, SetupContext } from '../experiment.ts';
import { check } from '../experiment.ts';
import { deriveSeed } from '../../harness/rng.ts';
import type { CheckerResult } from '../../harness/result.ts';
import { seededRng } from '../fault.ts';
import { adminTotals, ledgerProblem, metricValue } from '../signed-rest.ts';
import { crowdOutcome, prepareCrowd } from './crowd.ts';
import type { Crowd, CrowdOptions } from './crowd.ts';
import { flashCrashFault } from './flash-crash.ts';
import { fundExhaustionFault } from './fund-exhaustion.ts';
import { indexShockFault } from './index-shock.ts';
import { staleOracleFault, startIndexWalk } from './stale-oracle.ts';
import type { IndexWalk } from './stale-oracle.ts';

const SYMBOL = 'BTCUSDT';
const STEADY = { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 15 };
const LOAD = {
  quick: { kind: 'constant' as const, rate: 100, duration: '18s' },
  full: { kind: 'constant' as const, rate: 200, duration: '60s' },
};

async function ledgerCheck(ctx: SetupContext): Promise<CheckerResult> {
  const t = await adminTotals(ctx.serverUrl, ctx.adminToken);
  const problem = ledgerProblem(t);
  return check('ledger (conservation, open interest, insurance fund ≥ 0)', problem === '', problem === '' ? `conserved; insurance fund ${t.insuranceFund}, fees ${t.fees}` : problem);
}

type CrowdSpec = Omit<CrowdOptions, 'baseUrl' | 'adminToken' | 'symbol' | 'rng'>;

/** A plan whose setup builds a crowd (seeded) and remembers the fund and liquidation counter. */
function crowdPlan(input: PlanInput, spec: CrowdSpec, faults: ExperimentPlan['faults'],
  verifyCrowd: (ctx: SetupContext, crowd: Crowd, before: { fund: number; liquidations: number }) => Promise<CheckerResult[]>): ExperimentPlan {
  let crowd: Crowd | null = null;
  const before = { fund: 0, liquidations: 0 };
  return {
    faults,
    async setup(ctx) {
      crowd = await prepareCrowd({ ...spec, baseUrl: ctx.serverUrl, adminToken: ctx.adminToken, symbol: SYMBOL, rng: seededRng(deriveSeed(input.seed, 101)) });
      before.fund = Number((await adminTotals(ctx.serverUrl, ctx.adminToken)).insuranceFund);
      before.liquidations = await metricValue(ctx.serverUrl, 'perpx_liquidations_total');
      ctx.log(`crowd: ${crowd.longs.length} longs holding ${crowd.longs.reduce((a, m) => a + m.lots, 0)} lots (leverage ${crowd.longs.map((m) => m.leverage).join(',')}), ladder ${crowd.ladder === null ? 'none' : 'yes'}`);
    },
    async verify(ctx) {
      if (crowd === null) return [check('crowd', false, 'the crowd was never set up')];
      return [...await verifyCrowd(ctx, crowd, before), await ledgerCheck(ctx)];
    },
  };
}

export const indexShock: Experiment = {
  name: 'index-shock',
  fault: 'Index −30 % in 10 steps over 1 s under load, restored 5–15 s later; a crowd of 6 (quick) / 10 leveraged longs (5–20×) sits on the other side of a short whale',
  proves: 'A price crash liquidates every account it crosses, step by step (a cascade, not a scan), closing each position in the book or by ADL with conservation exact and the insurance fund never negative, while the order flow keeps its latency SLO before and after.',
  load: LOAD,
  steadyState: STEADY,
  plan(input) {
    const longs = input.quick ? 6 : 10;
    const at = input.quick ? 5 : 20;
    return crowdPlan(input, { longs, depositUsdt: 2000, leverageMin: 5, leverageMax: 20, ladderLots: 1500, ladderLevels: 10 },
      [{ atS: at, forS: input.quick ? 5 : 15, fault: indexShockFault({ symbol: SYMBOL, movePct: -30, steps: 10, overMs: 1000, restoreSteps: 5 }) }],
      async (ctx, crowd, before) => {
        const out = await crowdOutcome(ctx.serverUrl, crowd);
        const liq = await metricValue(ctx.serverUrl, 'perpx_liquidations_total') - before.liquidations;
        const lots = crowd.longs.reduce((a, m) => a + m.lots, 0);
        const fund = Number((await adminTotals(ctx.serverUrl, ctx.adminToken)).insuranceFund);
        return [
          check('every crowd long liquidated and flat', out.liquidated === crowd.longs.length && out.flat === crowd.longs.length,
            `${out.liquidated}/${crowd.longs.length} liquidated, ${out.flat} flat; server liquidation counter +${liq}`),
          check('every crowd lot closed in the book or by ADL', out.liquidationFilledLots + out.adlLots === lots,
            `${out.liquidationFilledLots} lots filled in the book + ${out.adlLots} by ADL (${out.adlFills} fills) of ${lots}`),
          check('insurance fund took the liquidation fees', fund >= before.fund, `insurance fund ${before.fund} → ${fund} USDT`),
        ];
      });
  },
};

export const insuranceAdl: Experiment = {
  name: 'insurance-adl',
  fault: 'Two phases: an index shock (−30 % in 10 steps) liquidates a crowd and fills the insurance fund with fees; then 3 longs at 30× open, one bid is priced to use 98 % of the fund, and the index gaps −20 %',
  proves: 'The insurance fund absorbs losses only up to what it holds: the gap draws it down (never below 0), and what neither the book nor the fund can take is auto-deleveraged against opposite positions at the bankruptcy price; every long closes and conservation stays exact.',
  load: { quick: { kind: 'constant', rate: 100, duration: '24s' }, full: { kind: 'constant', rate: 200, duration: '60s' } },
  steadyState: STEADY,
  plan(input) {
    const exhaust = fundExhaustionFault({ symbol: SYMBOL, longs: 3, depositUsdt: 5000, leverage: 30, gapPct: -20 });
    const faults = [
      { atS: input.quick ? 4 : 12, forS: input.quick ? 4 : 8, fault: indexShockFault({ symbol: SYMBOL, movePct: -30, steps: 10, overMs: 1000, restoreSteps: 5 }) },
      { atS: input.quick ? 11 : 32, forS: input.quick ? 5 : 10, fault: exhaust },
    ];
    return crowdPlan(input, { longs: 6, depositUsdt: 2000, leverageMin: 5, leverageMax: 20, ladderLots: 1500, ladderLevels: 10 }, faults,
      async (ctx) => {
        const r = exhaust.result();
        const out = await exhaust.outcome(ctx.serverUrl);
        if (out === null) return [check('fund exhaustion phase ran', false, 'the second phase never injected')];
        return [
          check('phase 1 filled the insurance fund', r.fundBefore > 0, `insurance fund ${r.fundBefore} USDT before the gap`),
          check('the gap drew the fund down, never below 0', r.fundAfter < r.fundBefore && r.fundAfter >= 0,
            `insurance fund ${r.fundBefore} → ${r.fundAfter} USDT (${((1 - r.fundAfter / r.fundBefore) * 100).toFixed(1)} % used); first long bankrupt at ${r.bankruptcyPrice}, bid ${r.bidQty} at ${r.bidPrice}`),
          check('every long closed, ADL took what the book and the fund could not', out.liquidated === 3 && out.flat === 3 && out.adlFills > 0 && out.liquidationFilledLots + out.adlLots === r.crowdLots,
            `${out.liquidated}/3 liquidated, ${out.liquidationFilledLots} lots in the book, ${out.adlLots} lots by ADL (${out.adlFills} fills) of ${r.crowdLots}`),
        ];
      });
  },
};

export const flashCrash: Experiment = {
  name: 'flash-crash',
  fault: 'Market sells sweep a bid ladder down to the 5 % take bound (5 sweeps of 2 BTC in 1 s) while 6 longs at 20× would be liquidated at −5.2 %',
  proves: 'A crash that is only in the book (last price −5 %) moves the mark price only through its index-anchored median, so nobody is liquidated by it; the book refills and latency recovers.',
  load: LOAD,
  steadyState: STEADY,
  plan(input) {
    const make = () => flashCrashFault({ symbol: SYMBOL, sweeps: 5, overMs: 1000, sweepQty: '2' });
    const faults = [{ atS: input.quick ? 5 : 20, forS: input.quick ? 3 : 5, fault: make() }];
    // A bid ladder down to −4.5 % is the depth the sweeps crash through (the load's own bids sit within a few ticks of the mid).
    return crowdPlan(input, { longs: 6, depositUsdt: 2000, leverageMin: 20, leverageMax: 20, ladderLots: 1500, ladderLevels: 10, ladderSpanPct: 4.5 }, faults, async (ctx, crowd) => {
      const out = await crowdOutcome(ctx.serverUrl, crowd);
      const drops = faults.map((f) => (f.fault as ReturnType<typeof flashCrashFault>).result());
      return [
        check('the sweeps crashed the last price', drops.every((d) => d.dropPct < -1), drops.map((d) => `last ${d.firstPrice} → ${d.lowPrice} (${d.dropPct.toFixed(2)}%)`).join('; ')),
        check('nobody liquidated by a book-only crash', out.liquidated === 0, `${out.liquidated}/${crowd.longs.length} crowd longs liquidated`),
      ];
    });
  },
};

export const staleOracle: Experiment = {
  name: 'stale-oracle',
  fault: 'The index walk (every 250 ms) stops for 6 s (quick) / 20 s while two accounts trade the book 2 % above the frozen index',
  proves: 'A stale oracle is visible (index constant) but not dangerous: the mark stays anchored to the last index (moving only by the 30 s basis average), no liquidations are triggered, the index resumes at clear and conservation holds.',
  load: LOAD,
  steadyState: STEADY,
  plan(input) {
    let walk: IndexWalk | null = null;
    const w = (): IndexWalk => {
      if (walk === null) throw new Error('stale-oracle: the index walk was not started (setup did not run)');
      return walk;
    };
    // The fault is built now (plan is pure) but the walk only exists after setup: resolve it late.
    const lateWalk: IndexWalk = {
      pause: () => w().pause(), resume: () => w().resume(), stop: () => w().stop(),
      get updates() { return w().updates; }, get running() { return w().running; }, get paused() { return w().paused; },
    };
    const fault = staleOracleFault(lateWalk, { symbol: SYMBOL, bookMovePct: 2, stepMs: 100, rampMs: 3000 });
    let liqBefore = 0;
    return {
      faults: [{ atS: input.quick ? 5 : 15, forS: input.quick ? 6 : 20, fault }],
      async setup(ctx) {
        walk = startIndexWalk({ baseUrl: ctx.serverUrl, adminToken: ctx.adminToken, symbol: SYMBOL, stepMs: 250, stepPct: 0.01, maxDriftPct: 0.3, rng: seededRng(deriveSeed(input.seed, 102)) });
        liqBefore = await metricValue(ctx.serverUrl, 'perpx_liquidations_total');
      },
      async teardown() {
        if (walk !== null) await walk.stop();
      },
      async verify(ctx) {
        const r = fault.result();
        const liq = await metricValue(ctx.serverUrl, 'perpx_liquidations_total') - liqBefore;
        return [
          check('index frozen for the whole fault', r.frozenIndex > 0 && r.indexAtClear === r.frozenIndex, `index ${r.frozenIndex} at inject, ${r.indexAtClear} at clear`),
          check('the book moved away from the index', r.bookMovePct > 0.5, `trades up to ${r.highTrade} vs index ${r.frozenIndex} (${r.bookMovePct.toFixed(2)} %), mark ${r.markAtClear} at clear, ${r.moverTrades} mover trades`),
          check('the oracle resumed after clear', lateWalk.updates > r.walkUpdatesAtClear, `${r.walkUpdatesAtClear} index updates until the clear, ${lateWalk.updates} by the end`),
          check('no liquidation from a stale oracle', liq === 0, `server liquidation counter +${liq}`),
          await ledgerCheck(ctx),
        ];
      },
    };
  },
};

export const MARKET_EXPERIMENTS: readonly Experiment[] = [indexShock, insuranceAdl, flashCrash, staleOracle];
