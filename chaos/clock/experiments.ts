// Clock experiments: clients whose clocks are skewed past recvWindow, and a server time jump
// across a funding boundary, both under the default order flow.

import type { Experiment } from '../experiment.ts';
import { check } from '../experiment.ts';
import type { CheckerResult } from '../../harness/result.ts';
import { adminTotals, ledgerProblem } from '../signed-rest.ts';
import { clientSkewFault } from './client-skew.ts';
import { fundingJumpFault } from './funding-jump.ts';

const STEADY = { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 10 };

export const clockSkew: Experiment = {
  name: 'clock-skew',
  fault: 'A client 1 s past recvWindow 5 s (alternately ahead and behind) sends 50 signed orders/s for 5 s (quick) / 3 × 8 s, alongside the normal flow',
  proves: 'Every request signed with a skewed clock is refused 400 -1021 before it reaches the engine (none of its client ids exists afterwards), and the well-clocked flow next to it keeps its SLO.',
  load: {
    quick: { kind: 'constant', rate: 100, duration: '15s' },
    full: { kind: 'constant', rate: 200, duration: '50s' },
  },
  steadyState: STEADY,
  plan(input) {
    const make = () => clientSkewFault({ symbol: 'BTCUSDT', skewPastWindowMs: 1000, recvWindowMs: 5000, ratePerS: 50, maxRequests: 2000 });
    const faults = input.quick ? [{ atS: 5, forS: 5, fault: make() }] : [5, 20, 35].map((atS) => ({ atS, forS: 8, fault: make() }));
    return {
      faults,
      async verify(ctx) {
        const out: CheckerResult[] = [];
        for (const [i, f] of faults.entries()) {
          const fault = f.fault as ReturnType<typeof make>;
          const r = fault.result();
          const found = await fault.verify(ctx);
          out.push(check(`skew window ${i + 1}: every request -1021, nothing created`, r.sent > 0 && r.rejected1021 === r.sent && found.length === 0,
            `${r.sent} sent, ${r.rejected1021} × 400/-1021, ${r.other} other (${r.accepted} accepted, ${r.timeouts} timeouts); ${found.length} of their client ids exist`));
        }
        return out;
      },
    };
  },
};

export const fundingJump: Experiment = {
  name: 'funding-jump',
  fault: 'POST /admin/v1/time jumps the engine clock 1 s past the next 8 h funding time, under load with open positions',
  proves: 'Funding is settled exactly once for the boundary crossed (one settlement row per symbol, still one at the end of the run), payments are exact (conservation holds to the unit) and order flow continues without a stall.',
  load: {
    quick: { kind: 'constant', rate: 100, duration: '12s' },
    full: { kind: 'constant', rate: 200, duration: '40s' },
  },
  steadyState: STEADY,
  plan(input) {
    const fault = fundingJumpFault({ symbol: 'BTCUSDT', pastBoundaryMs: 1000 });
    return {
      faults: [{ atS: input.quick ? 4 : 15, forS: 1, fault }],
      async verify(ctx) {
        const r = fault.result();
        const again = await fault.recount(ctx);
        const t = await adminTotals(ctx.serverUrl, ctx.adminToken);
        const problem = ledgerProblem(t);
        return [
          check('funding settled exactly once at the boundary', r.settlements.BTCUSDT === 1 && again.BTCUSDT === 1,
            `${new Date(r.boundaryMs).toISOString()}: ${JSON.stringify(r.settlements)} right after the jump, ${JSON.stringify(again)} at the end; rate ${r.rows.map((x) => `${x.symbol} ${x.fundingRate} @ ${x.markPrice}`).join(', ')}`),
          check('ledger after funding (conservation, open interest)', problem === '', problem === '' ? `conserved; insurance fund ${t.insuranceFund}` : problem),
        ];
      },
    };
  },
};

export const CLOCK_EXPERIMENTS: readonly Experiment[] = [clockSkew, fundingJump];
