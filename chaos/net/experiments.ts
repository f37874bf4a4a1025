// The network experiments: the load goes through the fault proxy (started in setup, aimed at
// the embedded server's port, which survives restarts), and each experiment adds one kind of
// toxic for a few seconds. Each also checks that its toxic really did something (the proxy's
// counters), so a run where the fault silently missed fails instead of passing vacuously.

import type { Experiment, ExperimentPlan, PlanInput, SetupContext } from '../experiment.ts';
import type { Fault } from '../fault.ts';
import type { CheckerResult } from '../../harness/result.ts';
import { spacedSchedule } from '../process/experiments.ts';
import { FaultProxy } from './proxy.ts';
import type { FaultProxyStats } from './proxy.ts';
import {
  netBandwidthFault, netBlackholeFault, netLatencyFault, netLimitDataFault, netResetFault, netSlicerFault, netSlowCloseFault,
} from './faults.ts';
import type { ProxyRef } from './faults.ts';

interface NetExperimentSpec {
  name: string;
  fault: string;
  proves: string;
  make: (ref: ProxyRef) => Fault;
  /** The proxy counters show the toxic acted (a detail line for the report). */
  effective: (s: FaultProxyStats) => boolean;
  /** Seconds each fault is held (quick, full). */
  holdS?: [number, number];
  p99Ms?: number;
  /** Extra server config (e.g. gateway limits that make connections churn). */
  serverConfig?: Record<string, unknown>;
}

function statsLine(s: FaultProxyStats): string {
  return `${s.connectionsAccepted} connections through the proxy (${s.connectionsRefused} refused), ${s.upstreamBytes} B up / ${s.downstreamBytes} B down, `
    + `${s.droppedBytes} B dropped, ${s.resets} resets, ${s.limitCloses} limit-data closes, ${s.timeoutCloses} blackhole closes, ${s.upstreamConnectErrors} upstream connect errors, `
    + `${s.delayedChunks} delayed chunks, ${s.pacedPieces} paced pieces, ${s.slicedPieces} sliced pieces, ${s.slowCloses} slow closes`;
}

function netExperiment(spec: NetExperimentSpec): Experiment {
  const [holdQuickS, holdFullS] = spec.holdS ?? [5, 8];
  return {
    name: spec.name,
    fault: spec.fault,
    proves: spec.proves,
    load: {
      // Quick: 4 s of steady state, the toxic for its hold, then ≥ 4 s to see recovery.
      quick: { kind: 'constant', rate: 150, duration: `${8 + holdQuickS}s` },
      full: { kind: 'constant', rate: 300, duration: '60s' },
    },
    steadyState: { p99Ms: spec.p99Ms ?? 250, maxFailRatio: 0.001, recoverWithinS: 10 },
    ...(spec.serverConfig === undefined ? {} : { server: { config: spec.serverConfig } }),
    plan(input: PlanInput): ExperimentPlan {
      const ref: ProxyRef = { proxy: null };
      const faults = input.quick
        ? [{ atS: 4, forS: holdQuickS, fault: spec.make(ref) }]
        : spacedSchedule(input.seed, 3, 5, input.durationS - 8, holdFullS, holdFullS + 2, () => spec.make(ref));
      return {
        faults,
        async setup(ctx: SetupContext) {
          ref.proxy = await FaultProxy.start({ targetPort: ctx.server.port, seed: input.seed });
          ctx.log(`chaos: fault proxy ${ref.proxy.url} → 127.0.0.1:${ctx.server.port}`);
        },
        loadUrl: (serverUrl) => ref.proxy?.url ?? serverUrl,
        async verify(): Promise<CheckerResult[]> {
          const s = ref.proxy?.stats;
          if (s === undefined) return [{ name: 'fault-effective', ok: false, detail: 'no proxy' }];
          return [{ name: 'fault-effective', ok: spec.effective(s), detail: statsLine(s) }];
        },
        async teardown() {
          const p = ref.proxy;
          ref.proxy = null;
          await p?.close();
        },
      };
    },
  };
}

export const netLatency = netExperiment({
  name: 'net-latency',
  fault: 'Proxy adds 200 ± 50 ms to every response chunk (downstream) for 5 s (quick) / 3 × 8-10 s',
  proves: 'Network latency shows up in client latency and in nothing else: no request fails, nothing acknowledged is lost, and p99 is back under the SLO as soon as the toxic is removed.',
  make: (ref) => netLatencyFault(ref, 200, 50),
  effective: (s) => s.delayedChunks > 0,
});

export const netBandwidth = netExperiment({
  name: 'net-bandwidth',
  fault: 'Proxy limits every connection to 4,000 B/s in each direction',
  proves: 'A thin pipe queues requests and responses on each connection (latency grows with bytes in flight) but the server neither fails requests nor loses acknowledged orders, and recovers once the pipe widens.',
  make: (ref) => netBandwidthFault(ref, 4_000),
  effective: (s) => s.pacedPieces > 0,
});

export const netSlowClose = netExperiment({
  name: 'net-slow-close',
  fault: 'Proxy delays every FIN by 3 s in both directions (connections linger half-closed); the server closes each connection after 20 requests, so connections churn',
  proves: 'Lingering half-closed connections do not leak server resources or disturb the requests of other connections: no failures, nothing lost.',
  make: (ref) => netSlowCloseFault(ref, 3_000),
  effective: (s) => s.slowCloses > 0,
  serverConfig: { gateway: { limits: { requestsPerSocketMax: 20 } } },
});

export const netBlackhole = netExperiment({
  name: 'net-blackhole',
  fault: 'Proxy blackholes the responses of 30% of connections (bytes dropped, connection held 2 s, then closed)',
  proves: 'Requests whose answers vanish are indeterminate, not lost: the history checker finds no phantom or duplicated order among them, everything acknowledged is on the server, and service recovers when the blackhole lifts.',
  make: (ref) => netBlackholeFault(ref, 0.3, 2_000),
  effective: (s) => s.droppedBytes > 0,
  p99Ms: 250,
});

export const netReset = netExperiment({
  name: 'net-reset',
  fault: 'Proxy resets (TCP RST) 30% of connections when the server answers: the order is executed, the client gets ECONNRESET',
  proves: 'An executed order whose acknowledgement is lost to a reset is an indeterminate outcome the checker reconciles (found on the server, never duplicated); acknowledged orders are never lost.',
  make: (ref) => netResetFault(ref, 0.3),
  effective: (s) => s.resets > 0,
});

export const netSlicer = netExperiment({
  name: 'net-slicer',
  fault: 'Proxy slices every request and response into 8-24 B pieces, 1 ms apart',
  proves: 'The HTTP parser and the gateway handle requests that arrive a few bytes at a time (no 400s, no stuck requests, nothing lost); only latency grows.',
  make: (ref) => netSlicerFault(ref, 16, 1),
  effective: (s) => s.slicedPieces > 0,
});

export const netLimitData = netExperiment({
  name: 'net-limit-data',
  fault: 'Proxy cuts 50% of connections after 500 more response bytes (often mid-response)',
  proves: 'Truncated responses are indeterminate outcomes: clients reconnect, the checker finds no phantom or lost order, and nothing acknowledged is lost.',
  make: (ref) => netLimitDataFault(ref, 0.5, 500),
  effective: (s) => s.limitCloses > 0,
});

export const NET_EXPERIMENTS: readonly Experiment[] = [netLatency, netBandwidth, netSlowClose, netBlackhole, netReset, netSlicer, netLimitData];
