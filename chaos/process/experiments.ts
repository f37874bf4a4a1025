// The process-fault experiments: crash-restart (SIGKILL + recovery from the journal, many
// times under spike load), pause (SIGSTOP/SIGCONT) and graceful-restart (SIGTERM + start).

import type { Experiment, PlanInput } from '../experiment.ts';
import type { PlannedFault, Fault } from '../fault.ts';
import { seededRng } from '../fault.ts';
import type { Profile } from '../../harness/profile.ts';
import { sigkillFault, pauseFault, gracefulRestartFault } from './faults.ts';

/**
 * `count` faults spread evenly over [fromS, toS): one per slot, injected at a seeded point in
 * the first 40% of its slot and held for a seeded time in [holdMinS, holdMaxS], so the server
 * has the rest of the slot to come back before the next one. Same seed → same schedule.
 */
export function spacedSchedule(seed: number, count: number, fromS: number, toS: number, holdMinS: number, holdMaxS: number, make: () => Fault): PlannedFault[] {
  if (!(count >= 1) || !(toS > fromS)) return [];
  const rng = seededRng(seed);
  const slotS = (toS - fromS) / count;
  const out: PlannedFault[] = [];
  for (let i = 0; i < count; i++) {
    const atS = fromS + i * slotS + rng() * slotS * 0.4;
    const forS = holdMinS + rng() * (holdMaxS - holdMinS);
    out.push({ atS: round3(atS), forS: round3(forS), fault: make() });
  }
  return out;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Seconds per kill: at least 5, and on a slow machine 2 × the measured first server start plus
 * 4 s of service, so a restart still fits its slot and the server serves before the next kill:
 * a slow box gets a longer run, not fewer kills. Measured on the shared 2-core box at load
 * average ~21: first start 7.3 s, restarts under the spike load 11.1-18.4 s (1.5× + 2 s slots
 * let only 16 of 20 kills land before the load ended).
 */
function killSlotS(serverStartS: number | undefined): number {
  return Math.max(5, Math.ceil((serverStartS ?? 0) * 2 + 4));
}

interface CrashInput { quick: boolean; options: Readonly<Record<string, number>>; serverStartS?: number }

function killCount(input: CrashInput): number {
  const deep = process.env.PERPX_DEEP === '1' ? 100 : undefined;
  return input.options.kills ?? deep ?? (input.quick ? 4 : 20);
}

/** Spike load long enough for `kills` kill slots plus a calm head and tail. */
function crashProfile(input: CrashInput): Profile {
  if (input.quick) {
    const durationS = Math.max(20, Math.ceil(killCount(input) * killSlotS(input.serverStartS) + 8));
    return { kind: 'spike', base: 50, peak: 300, duration: `${durationS}s`, spikeAt: `${Math.round(durationS * 0.3)}s`, spikeDuration: `${Math.round(durationS * 0.3)}s`, rampTime: '1s' };
  }
  const durationS = Math.max(60, Math.ceil(killCount(input) * killSlotS(input.serverStartS) + 8));
  const spikeAt = Math.round(durationS * 0.35);
  const spikeFor = Math.round(durationS * 0.3);
  return { kind: 'spike', base: 100, peak: 1000, duration: `${durationS}s`, spikeAt: `${spikeAt}s`, spikeDuration: `${spikeFor}s`, rampTime: '2s' };
}

export const crashRestart: Experiment = {
  name: 'crash-restart',
  fault: 'SIGKILL the server N times under spike load (20 by default, 4 with --quick, --kills N), each followed by a restart on the same journal',
  proves: 'Every acknowledged order survives a crash at any moment (0 lost), money and open interest stay conserved, and the state recovered from the journal is byte-for-byte the state a fresh replay gives (equal state hash).',
  load: { quick: crashProfile({ quick: true, options: {} }), full: crashProfile({ quick: false, options: {} }) },
  loadFor: crashProfile,
  steadyState: { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 10 },
  optionsHelp: { kills: 'number of SIGKILLs (default 20; 4 with --quick; 100 with PERPX_DEEP=1)' },
  plan(input: PlanInput) {
    const kills = killCount(input);
    const fromS = 5; // seconds of steady state before the first kill
    const toS = input.durationS - 3;
    return { faults: spacedSchedule(input.seed, kills, fromS, toS, 0.1, 0.8, sigkillFault), settleS: 1.5 };
  },
};

export const pause: Experiment = {
  name: 'pause',
  fault: 'SIGSTOP the server for 2-4 s (3 times; once with --quick), then SIGCONT',
  proves: 'A frozen process (GC storm, VM steal, debugger) delays requests but loses nothing: requests queued on open sockets are answered after SIGCONT, nothing acknowledged is lost, and p99 returns under the SLO.',
  load: {
    quick: { kind: 'constant', rate: 150, duration: '14s' },
    full: { kind: 'spike', base: 150, peak: 800, duration: '60s', spikeAt: '25s', spikeDuration: '15s', rampTime: '2s' },
  },
  steadyState: { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 10 },
  plan(input) {
    return { faults: spacedSchedule(input.seed, input.quick ? 1 : 3, 3, input.durationS - 5, 2, 4, pauseFault), settleS: 1 };
  },
};

export const gracefulRestart: Experiment = {
  name: 'graceful-restart',
  fault: 'SIGTERM the server (graceful stop: queued commands finish, final fsync and snapshot) and start it again (3 times; once with --quick)',
  proves: 'A deploy-style restart loses nothing acknowledged, the snapshot + journal tail restore the same state hash, and service resumes within the recovery deadline.',
  load: {
    quick: { kind: 'constant', rate: 150, duration: '14s' },
    full: { kind: 'constant', rate: 400, duration: '60s' },
  },
  steadyState: { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 10 },
  plan(input) {
    return { faults: spacedSchedule(input.seed, input.quick ? 1 : 3, 3, input.durationS - 5, 0.2, 0.5, () => gracefulRestartFault()), settleS: 1.5 };
  },
};
