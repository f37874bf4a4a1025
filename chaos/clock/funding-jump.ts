// Server time jump across a funding boundary: POST /admin/v1/time to `pastBoundaryMs` after
// the symbol's next funding time. The engine must settle funding exactly once for that
// boundary (one row in /fapi/v1/fundingRate per symbol) and keep conservation exact.
// Time never goes backwards, so `clear` cannot undo the jump: the engine stays ahead of the
// wall clock and its own 100 ms clock ticks wait until the wall catches up (they only move
// time forward). Bounded: the jump is at most one funding interval.

import { adminPost } from '../../harness/embedded-server.ts';
import type { Fault, FaultContext } from '../fault.ts';
import { adminTotals, premiumIndex, publicGet } from '../signed-rest.ts';

export interface FundingRow {
  symbol: string;
  fundingRate: string;
  fundingTime: number;
  markPrice: string;
}

export interface FundingJumpResult {
  fromMs: number;
  toMs: number;
  boundaryMs: number;
  /** New settlement rows per symbol for this boundary. */
  settlements: Record<string, number>;
  rows: FundingRow[];
}

export interface FundingJumpFault extends Fault {
  result(): FundingJumpResult;
  /** Count the settlements at the boundary again (after more time passed: must still be one). */
  recount(ctx: Pick<FaultContext, 'serverUrl'>): Promise<Record<string, number>>;
}

export function fundingRows(baseUrl: string): Promise<FundingRow[]> {
  return publicGet<FundingRow[]>(baseUrl, '/fapi/v1/fundingRate?limit=1000');
}

function countAt(rows: readonly FundingRow[], boundaryMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) if (r.fundingTime === boundaryMs) out[r.symbol] = (out[r.symbol] ?? 0) + 1;
  return out;
}

export function fundingJumpFault(o: { symbol: string; pastBoundaryMs: number }): FundingJumpFault {
  const r: FundingJumpResult = { fromMs: 0, toMs: 0, boundaryMs: 0, settlements: {}, rows: [] };
  return {
    name: 'funding-jump',
    describe: `server time jumps ${o.pastBoundaryMs} ms past the next ${o.symbol} funding time (one settlement expected)`,
    result: () => ({ ...r }),
    async inject(ctx: FaultContext) {
      let before = await adminTotals(ctx.serverUrl, ctx.adminToken);
      if (before.timeMs === 0) {
        // A server whose wall-clock ticks are off (host.clockTickMs unset on the worker host)
        // never started its clock: start it at the wall time so there is a next funding time.
        await adminPost(ctx.serverUrl, ctx.adminToken, 'time', { timeMs: String(Date.now()) });
        before = await adminTotals(ctx.serverUrl, ctx.adminToken);
        ctx.mark('note', 'engine clock was not running (time 0): started at the wall time first');
      }
      const pi = await premiumIndex(ctx.serverUrl, o.symbol);
      r.fromMs = before.timeMs;
      r.boundaryMs = pi.nextFundingTime;
      r.toMs = pi.nextFundingTime + o.pastBoundaryMs;
      await adminPost(ctx.serverUrl, ctx.adminToken, 'time', { timeMs: String(r.toMs) });
      const rows = await fundingRows(ctx.serverUrl);
      r.rows = rows.filter((x) => x.fundingTime === r.boundaryMs);
      r.settlements = countAt(rows, r.boundaryMs);
      ctx.mark('note', `engine time ${new Date(r.fromMs).toISOString()} → ${new Date(r.toMs).toISOString()} across ${new Date(r.boundaryMs).toISOString()}: `
        + Object.entries(r.settlements).map(([s, n]) => `${s} ${n} settlement(s)`).join(', '));
    },
    async clear() {
      // Nothing to undo or stop: engine time only moves forward.
    },
    async recount(ctx) {
      return countAt(await fundingRows(ctx.serverUrl), r.boundaryMs);
    },
  };
}
