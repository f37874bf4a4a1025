// Market faults against a real `perpx serve`: an index shock liquidates a leveraged crowd in a
// cascade, a gap with no bids auto-deleverages the whale, a book-only flash crash liquidates
// nobody (mark is anchored to the index), and a stale oracle freezes the index while the book
// moves. Every case ends with exact conservation and balanced open interest.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crowdOutcome, prepareCrowd } from '../market/crowd.ts';
import { flashCrashFault } from '../market/flash-crash.ts';
import { fundExhaustionFault } from '../market/fund-exhaustion.ts';
import { indexShockFault, setIndex } from '../market/index-shock.ts';
import { staleOracleFault, startIndexWalk } from '../market/stale-oracle.ts';
import { seededRng } from '../fault.ts';
import { adminTotals, ledgerProblem, premiumIndex, signedOk } from '../signed-rest.ts';
import { startTestServer, testContext } from './fault-support.ts';
import type { TestServer } from './fault-support.ts';

let ts: TestServer;

describe('market faults (e2e)', () => {
  beforeAll(async () => { ts = await startTestServer(); }, 60_000);
  afterAll(async () => { await ts?.close(); });

  it('index shock −30% in 10 steps liquidates every long, over several steps, conservation exact', async () => {
    const url = ts.server.url;
    const token = ts.server.adminToken;
    await setIndex({ serverUrl: url, adminToken: token }, 'BTCUSDT', '50000');
    const crowd = await prepareCrowd({
      baseUrl: url, adminToken: token, symbol: 'BTCUSDT', longs: 8, depositUsdt: 2000, leverageMin: 5, leverageMax: 20,
      ladderLots: 1500, ladderLevels: 10, rng: seededRng(11),
    });
    expect(crowd.longs.every((m) => m.lots > 0)).toBe(true);
    const before = await adminTotals(url, token);
    const flatAtStep: number[] = [];
    const fault = indexShockFault({
      symbol: 'BTCUSDT', movePct: -30, steps: 10, overMs: 1000,
      onStep: async () => {
        const out = await crowdOutcome(url, crowd);
        flatAtStep.push(out.flat);
      },
    });
    const ctx = testContext(ts.server);
    await fault.inject(ctx);
    const out = await crowdOutcome(url, crowd);
    const after = await adminTotals(url, token);
    await fault.clear(ctx);
    const restored = await premiumIndex(url, 'BTCUSDT');
    const totalLots = crowd.longs.reduce((a, m) => a + m.lots, 0);
    console.log(`index shock: path ${fault.path.join(' → ')}; flat longs after each step ${flatAtStep.join(',')}; `
      + `liquidated ${out.liquidated}/${crowd.longs.length}, filled in book ${out.liquidationFilledLots} lots, ADL ${out.adlFills} fills / ${out.adlLots} lots `
      + `(crowd ${totalLots} lots); insurance fund ${before.insuranceFund} → ${after.insuranceFund}; fees ${before.fees} → ${after.fees}`);
    expect(out.liquidated).toBe(crowd.longs.length);
    expect(out.flat).toBe(crowd.longs.length);
    // A cascade, not one event: liquidations happened at ≥ 2 different steps.
    expect(new Set(flatAtStep.filter((n) => n > 0 && n < crowd.longs.length)).size).toBeGreaterThanOrEqual(1);
    expect(flatAtStep[0]!).toBeLessThan(crowd.longs.length);
    // Every lot was closed either in the book or by ADL.
    expect(out.liquidationFilledLots + out.adlLots).toBe(totalLots);
    expect(ledgerProblem(after)).toBe('');
    expect(Number(after.insuranceFund)).toBeGreaterThan(Number(before.insuranceFund));
    expect(Number(restored.indexPrice)).toBe(50000);
  }, 90_000);

  it('a −20% gap with no bids: the fund cannot absorb, the rest is auto-deleveraged against the whale', async () => {
    const url = ts.server.url;
    const token = ts.server.adminToken;
    await setIndex({ serverUrl: url, adminToken: token }, 'BTCUSDT', '50000');
    const crowd = await prepareCrowd({
      baseUrl: url, adminToken: token, symbol: 'BTCUSDT', longs: 4, depositUsdt: 2000, leverageMin: 15, leverageMax: 20, rng: seededRng(12),
    });
    const whaleBefore = await crowdOutcome(url, crowd);
    const before = await adminTotals(url, token);
    const fault = indexShockFault({ symbol: 'BTCUSDT', movePct: -20, steps: 1, overMs: 0, name: 'index-gap' });
    const ctx = testContext(ts.server);
    await fault.inject(ctx);
    const out = await crowdOutcome(url, crowd);
    const after = await adminTotals(url, token);
    await fault.clear(ctx);
    const totalLots = crowd.longs.reduce((a, m) => a + m.lots, 0);
    console.log(`index gap: liquidated ${out.liquidated}/${crowd.longs.length}; ADL ${out.adlFills} fills / ${out.adlLots} lots of ${totalLots}; `
      + `whale ADL fills ${out.whaleAdlFills}, whale position ${whaleBefore.whalePositionLots} → ${out.whalePositionLots} lots; insurance fund ${before.insuranceFund} → ${after.insuranceFund}`);
    expect(out.liquidated).toBe(crowd.longs.length);
    expect(out.adlFills).toBeGreaterThan(0);
    expect(out.whaleAdlFills).toBeGreaterThan(0);
    // Every lot was closed in the book or by ADL; ADL may also hit earlier tests' shorts
    // (ranked by PnL × leverage), so the whale gives back at most the ADL'd lots.
    expect(out.liquidationFilledLots + out.adlLots).toBe(totalLots);
    expect(out.whalePositionLots - whaleBefore.whalePositionLots).toBeGreaterThan(0);
    expect(out.whalePositionLots - whaleBefore.whalePositionLots).toBeLessThanOrEqual(out.adlLots);
    expect(ledgerProblem(after)).toBe('');
  }, 90_000);

  it('insurance fund exhaustion: one bid priced to use 98 % of the fund, the gap drains the fund, the rest is ADL', async () => {
    const url = ts.server.url;
    const token = ts.server.adminToken;
    await setIndex({ serverUrl: url, adminToken: token }, 'BTCUSDT', '50000');
    const fault = fundExhaustionFault({ symbol: 'BTCUSDT', longs: 3, depositUsdt: 5000, leverage: 30, gapPct: -20 });
    const ctx = testContext(ts.server, 21);
    await fault.inject(ctx);
    await fault.clear(ctx);
    const r = fault.result();
    const out = r.outcome!;
    console.log(`fund exhaustion: first long bankrupt at ${r.bankruptcyPrice}, bid ${r.bidQty} at ${r.bidPrice}; insurance fund ${r.fundBefore} → ${r.fundAfter}; `
      + `${out.liquidated}/3 liquidated, ${out.liquidationFilledLots} lots in the book, ${out.adlLots} by ADL (${out.adlFills} fills) of ${r.crowdLots}`);
    expect(r.fundBefore).toBeGreaterThan(0); // from the index-shock test's liquidation fees
    expect(r.fundAfter).toBeLessThan(r.fundBefore * 0.1);
    expect(r.fundAfter).toBeGreaterThanOrEqual(0);
    expect(out.liquidated).toBe(3);
    expect(out.adlFills).toBeGreaterThan(0);
    expect(out.liquidationFilledLots + out.adlLots).toBe(r.crowdLots);
    expect(ledgerProblem(await adminTotals(url, token))).toBe('');
  }, 90_000);

  it('flash crash by market sweeps: last price falls, mark stays with the index, nobody is liquidated', async () => {
    const url = ts.server.url;
    const token = ts.server.adminToken;
    await setIndex({ serverUrl: url, adminToken: token }, 'BTCUSDT', '50000');
    const crowd = await prepareCrowd({
      baseUrl: url, adminToken: token, symbol: 'BTCUSDT', longs: 4, depositUsdt: 2000, leverageMin: 20, leverageMax: 20,
      ladderLots: 400, ladderLevels: 8, ladderSpanPct: 4.5, rng: seededRng(13),
    });
    const fault = flashCrashFault({ symbol: 'BTCUSDT', sweeps: 4, overMs: 800, sweepQty: '0.2' });
    const ctx = testContext(ts.server);
    await fault.inject(ctx);
    const pi = await premiumIndex(url, 'BTCUSDT');
    const out = await crowdOutcome(url, crowd);
    const totals = await adminTotals(url, token);
    await fault.clear(ctx);
    const r = fault.result();
    console.log(`flash crash: ${r.sweeps} sweeps sold ${r.soldQty} BTC, last price ${r.firstPrice} → ${r.lowPrice} (${r.dropPct.toFixed(2)}%); `
      + `mark ${pi.markPrice}, index ${pi.indexPrice}; liquidated ${out.liquidated}/${crowd.longs.length}`);
    expect(r.dropPct).toBeLessThan(-3);
    expect(Math.abs(Number(pi.markPrice) / Number(pi.indexPrice) - 1)).toBeLessThan(0.01);
    expect(out.liquidated).toBe(0);
    expect(ledgerProblem(totals)).toBe('');
  }, 90_000);

  it('stale oracle: the index stops while the book moves; it updates again after clear', async () => {
    const url = ts.server.url;
    const token = ts.server.adminToken;
    await setIndex({ serverUrl: url, adminToken: token }, 'BTCUSDT', '50000');
    const walk = startIndexWalk({ baseUrl: url, adminToken: token, symbol: 'BTCUSDT', stepMs: 100, stepPct: 0.02, maxDriftPct: 0.5, rng: seededRng(14) });
    try {
      const ctx = testContext(ts.server);
      await new Promise((r) => setTimeout(r, 600));
      const fault = staleOracleFault(walk, { symbol: 'BTCUSDT', bookMovePct: 1.5, stepMs: 200 });
      const updatesBefore = walk.updates;
      await fault.inject(ctx);
      const i0 = (await premiumIndex(url, 'BTCUSDT')).indexPrice;
      await new Promise((r) => setTimeout(r, 2000));
      const mid = await premiumIndex(url, 'BTCUSDT');
      const frozenUpdates = walk.updates;
      await fault.clear(ctx);
      await new Promise((r) => setTimeout(r, 600));
      const after = await premiumIndex(url, 'BTCUSDT');
      const m = fault.result();
      console.log(`stale oracle: walk updates before ${updatesBefore}, index frozen at ${i0} (${mid.indexPrice} after 2 s); high trade ${m.highTrade} vs frozen index ${m.frozenIndex} `
        + `(${m.bookMovePct.toFixed(2)}%), mark ${mid.markPrice}; after clear ${walk.updates - frozenUpdates} index updates, index ${after.indexPrice}`);
      expect(updatesBefore).toBeGreaterThan(0);
      expect(mid.indexPrice).toBe(i0);
      expect(m.bookMovePct).toBeGreaterThan(1);
      expect(walk.updates - frozenUpdates).toBeGreaterThan(0);
      expect(ledgerProblem(await adminTotals(url, token))).toBe('');
    } finally {
      await walk.stop();
    }
    expect(walk.running).toBe(false);
  }, 90_000);
});
