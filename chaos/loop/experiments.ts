// The blocked-event-loop experiment (server started with --chaos).

import type { Experiment, PlanInput } from '../experiment.ts';
import { spacedSchedule } from '../process/experiments.ts';
import { gatewayLoopBlockFault } from './faults.ts';

export const gatewayLoopBlock: Experiment = {
  name: 'gateway-loop-block',
  fault: 'Busy-loop the gateway thread for 1.5 s (quick, once) / 2 s (3 times): no request is read, answered or timed out meanwhile',
  proves: 'A stalled gateway thread costs latency equal to the stall for every request in flight (visible as a p99 spike the length of the block), but the engine thread and journal keep their guarantees: nothing acknowledged is lost, queued requests are answered afterwards, and p99 returns under the SLO.',
  load: {
    quick: { kind: 'constant', rate: 150, duration: '16s' },
    full: { kind: 'constant', rate: 300, duration: '60s' },
  },
  steadyState: { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 10 },
  server: { extraArgs: ['--chaos'] },
  plan(input: PlanInput) {
    const faults = input.quick
      ? [{ atS: 5, forS: 1.5, fault: gatewayLoopBlockFault(1_500) }]
      : spacedSchedule(input.seed, 3, 5, input.durationS - 8, 2, 2, () => gatewayLoopBlockFault(2_000));
    return { faults };
  },
};
