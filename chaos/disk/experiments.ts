// The disk experiments (server started with --chaos): a slow fsync, and write/fsync failures
// that fail-stop the journal followed by a restart. What they prove is in each `proves`.

import type { Experiment, PlanInput } from '../experiment.ts';
import { spacedSchedule } from '../process/experiments.ts';
import { diskEioWriteFault, diskEnospcFsyncFault, diskFsyncSlowFault, diskTornWriteFault } from './faults.ts';

const CHAOS_SERVER = { extraArgs: ['--chaos'] };

export const diskFsyncSlow: Experiment = {
  name: 'disk-fsync-slow',
  fault: 'Every journal fsync takes 100-150 ms longer for 5 s (quick) / 3 × 8-10 s',
  proves: 'Acknowledgements wait for the fsync that covers them (latency rises by the fsync time, group commit batches grow), yet nothing acknowledged is lost and p99 returns under the SLO once the disk is fast again.',
  load: {
    quick: { kind: 'constant', rate: 150, duration: '13s' },
    full: { kind: 'constant', rate: 300, duration: '60s' },
  },
  steadyState: { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 10 },
  server: CHAOS_SERVER,
  plan(input: PlanInput) {
    const faults = input.quick
      ? [{ atS: 4, forS: 5, fault: diskFsyncSlowFault() }]
      : spacedSchedule(input.seed, 3, 5, input.durationS - 8, 8, 10, () => diskFsyncSlowFault());
    return { faults };
  },
};

function failStopExperiment(name: string, fault: string, make: () => ReturnType<typeof diskEioWriteFault>): Experiment {
  return {
    name,
    fault,
    proves: 'The journal fail-stops on the first failed write/fsync: from then on every order is answered 503/-1001 (never a false acknowledgement), acknowledged orders are never lost, and after the fault is cleared a restart recovers the journal to the state a fresh replay gives (equal state hash).',
    load: {
      // Quick: the fault at 5 s, cleared and restarted at 9 s, then 10 s to see recovery.
      quick: { kind: 'constant', rate: 150, duration: '19s' },
      full: { kind: 'constant', rate: 300, duration: '75s' },
    },
    steadyState: { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 20 },
    server: CHAOS_SERVER,
    plan(input: PlanInput) {
      const faults = input.quick
        ? [{ atS: 5, forS: 4, fault: make() }]
        : spacedSchedule(input.seed, 3, 5, input.durationS - 12, 3, 5, make);
      return { faults };
    },
  };
}

export const diskEioWrite = failStopExperiment('disk-eio-write', 'The next journal write fails with EIO; the fault holds 3-5 s, then it is cleared and the server restarted (once quick / 3 times)', diskEioWriteFault);
export const diskEnospcFsync = failStopExperiment('disk-enospc-fsync', 'The next journal fsync fails with ENOSPC; the fault holds 3-5 s, then it is cleared and the server restarted (once quick / 3 times)', diskEnospcFsyncFault);

export const diskTornWrite: Experiment = {
  name: 'disk-torn-write',
  fault: 'The server dies (SIGKILL from inside) in the middle of a journal write that persisted only a random prefix of its batch; restarted 2-3 s later (once quick / 3 times)',
  proves: 'A record torn by a crash is never acknowledged and is cut off at recovery (the journal names the file and offset); every acknowledged order survives and the recovered state equals a fresh replay (equal state hash).',
  load: {
    quick: { kind: 'constant', rate: 150, duration: '19s' },
    full: { kind: 'constant', rate: 300, duration: '75s' },
  },
  steadyState: { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 20 },
  server: CHAOS_SERVER,
  plan(input: PlanInput) {
    const faults = input.quick
      ? [{ atS: 5, forS: 2, fault: diskTornWriteFault() }]
      : spacedSchedule(input.seed, 3, 5, input.durationS - 12, 2, 3, diskTornWriteFault);
    return { faults };
  },
};

export const DISK_EXPERIMENTS: readonly Experiment[] = [diskFsyncSlow, diskEioWrite, diskEnospcFsync, diskTornWrite];
