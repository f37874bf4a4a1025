// Load-pathology experiments: WebSocket reconnect storm, cancel storm, retry storm with
// duplicated client order ids, and a thundering herd of new connections at the spike's start.

import type { Experiment } from '../experiment.ts';
import { check } from '../experiment.ts';
import { metricValue } from '../signed-rest.ts';
import { sleepMs } from '../market/sleep.ts';
import { cancelStormFault } from './cancel-storm.ts';
import { retryStormFault } from './retry-storm.ts';
import { thunderingHerdFault } from './thundering-herd.ts';
import { wsReconnectStormFault } from './ws-storm.ts';

const STEADY = { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 10 };
const LOAD = {
  quick: { kind: 'constant' as const, rate: 100, duration: '15s' },
  full: { kind: 'constant' as const, rate: 200, duration: '50s' },
};

export const wsReconnectStorm: Experiment = {
  name: 'ws-reconnect-storm',
  fault: '100 (quick) / 300 WebSockets on market and user streams connect at once, drop without a close and reconnect 0.5 s after each wave is up, for 10 s / 2 × 15 s',
  proves: 'The gateway absorbs reconnect storms on the same port as the order flow: every upgrade is accepted (or refused 503 at the connection limit), none is left open afterwards, and REST latency recovers once the storm stops.',
  load: { quick: { kind: 'constant', rate: 100, duration: '18s' }, full: LOAD.full },
  steadyState: STEADY,
  plan(input) {
    const make = () => wsReconnectStormFault({ clients: input.quick ? 100 : 300, userShare: 0.3, userAccounts: 8, holdMs: 500, cycles: 40 });
    const faults = input.quick ? [{ atS: 4, forS: 10, fault: make() }] : [{ atS: 8, forS: 15, fault: make() }, { atS: 30, forS: 15, fault: make() }];
    return {
      faults,
      async verify(ctx) {
        let open = await metricValue(ctx.serverUrl, 'perpx_ws_connections');
        for (let i = 0; i < 50 && open > 0; i++) {
          await sleepMs(100);
          open = await metricValue(ctx.serverUrl, 'perpx_ws_connections');
        }
        return [
          ...faults.map((f, i) => {
            const r = (f.fault as ReturnType<typeof make>).result();
            return check(`storm ${i + 1}: every upgrade answered, reconnected at least once`, r.cycles >= 2 && r.opened + r.refused === r.attempts,
              `${r.cycles} cycles, ${r.opened}/${r.attempts} opened, ${r.refused} refused, ${r.errors} errors (${r.firstError}), ${r.timeouts} timeouts; connect p50 ${r.connectMsP50.toFixed(1)} ms, p99 ${r.connectMsP99.toFixed(1)} ms`);
          }),
          check('no WebSocket left open on the server', open === 0, `perpx_ws_connections ${open} after the storms`),
        ];
      },
    };
  },
};

export const cancelStorm: Experiment = {
  name: 'cancel-storm',
  fault: '150 resting orders each cancelled twice at once (by id and by client id) plus 600 cancels of unknown ids, 64 in flight (once quick / 3 times)',
  proves: 'Cancels are exactly-once under a storm: each order is cancelled once and its racing twin gets -2011, unknown ids get -2011, nothing is left open and nothing else fails.',
  load: LOAD,
  steadyState: STEADY,
  plan(input) {
    const make = () => cancelStormFault({ symbol: 'BTCUSDT', orders: 150, unknown: 600, concurrency: 64 });
    const faults = input.quick ? [{ atS: 5, forS: 3, fault: make() }] : [8, 22, 36].map((atS) => ({ atS, forS: 4, fault: make() }));
    return {
      faults,
      async verify() {
        return faults.map((f, i) => {
          const r = (f.fault as ReturnType<typeof make>).result();
          return check(`cancel storm ${i + 1}: exactly once`, r.placed > 0 && r.unexpected === 0 && r.cancelled + r.twinRejected + r.shed === 2 * r.placed && (r.openAfter === 0 || r.shed > 0),
            `${r.cancels} cancels in ${r.elapsedMs.toFixed(0)} ms: ${r.cancelled}/${r.placed} cancelled, ${r.twinRejected} twins -2011, ${r.unknownRejected} unknown -2011, ${r.shed} shed, ${r.unexpected} unexpected ${r.firstUnexpected}; ${r.openAfter} open after`);
        });
      },
    };
  },
};

export const retryStorm: Experiment = {
  name: 'retry-storm',
  fault: '150 orders sent with a 2 ms client timeout, each retried 4× at once with the same newClientOrderId plus one byte-identical resend (once quick / 3 times)',
  proves: 'Retries after a timeout never duplicate an order: exactly one open order per client id, retries answered -4116 (duplicate client id) and identical resends -1022 (replay guard).',
  load: LOAD,
  steadyState: STEADY,
  plan(input) {
    const make = () => retryStormFault({ symbol: 'BTCUSDT', orders: 150, retries: 4, timeoutMs: 2, concurrency: 32 });
    const faults = input.quick ? [{ atS: 5, forS: 3, fault: make() }] : [8, 22, 36].map((atS) => ({ atS, forS: 4, fault: make() }));
    return {
      faults,
      async verify() {
        return faults.map((f, i) => {
          const r = (f.fault as ReturnType<typeof make>).result();
          return check(`retry storm ${i + 1}: one order per client id`, r.clientIds > 0 && r.idsWrong === 0 && r.unexpected === 0 && r.accepted <= r.clientIds,
            `${r.attempts} attempts for ${r.clientIds} ids: ${r.accepted} accepted, ${r.duplicateRejected} × -4116, ${r.replayRejected} × -1022, ${r.shed} shed, ${r.timeouts} timeouts (${r.firstTimedOut} first attempts), ${r.unexpected} unexpected ${r.firstUnexpected}; ${r.idsWrong} ids with ≠ 1 open order`);
        });
      },
    };
  },
};

export const thunderingHerd: Experiment = {
  name: 'thundering-herd',
  fault: 'At the spike start, 300 (quick) / 600 brand-new connections open at the same instant (half signed orders), 3 waves 1 s apart',
  proves: 'A herd of new connections at the worst moment is answered — served or shed with 503 -1008, never reset or left hanging — and the spike flow recovers its SLO after it.',
  load: {
    quick: { kind: 'spike', base: 80, peak: 400, duration: '18s', spikeAt: '6s', spikeDuration: '6s', rampTime: '1s' },
    full: { kind: 'spike', base: 150, peak: 1000, duration: '60s', spikeAt: '20s', spikeDuration: '20s', rampTime: '2s' },
  },
  steadyState: STEADY,
  plan(input) {
    const fault = thunderingHerdFault({ connections: input.quick ? 300 : 600, orderShare: 0.5, waves: 3, everyMs: 1000 });
    return {
      faults: [{ atS: input.quick ? 6 : 20, forS: 4, fault }],
      async verify() {
        const r = fault.result();
        return [check('every herd request answered (2xx or 503 -1008)', r.requests > 0 && r.ok + r.shed === r.requests,
          `${r.waves} waves, ${r.ok}/${r.requests} ok, ${r.shed} shed, ${r.otherStatus} other, ${r.socketErrors} socket errors, ${r.timeouts} timeouts ${r.firstError}; worst wave ${r.waveMsMax.toFixed(0)} ms, p50 ${r.latencyMsP50.toFixed(1)} ms, p99 ${r.latencyMsP99.toFixed(1)} ms`)];
      },
    };
  },
};

export const LOAD_EXPERIMENTS: readonly Experiment[] = [wsReconnectStorm, cancelStorm, retryStorm, thunderingHerd];
