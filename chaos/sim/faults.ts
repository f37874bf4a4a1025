// The faults the simulator draws, their weights, and how the disk ones are armed. Crashes and
// restarts happen at the step that draws them; disk errors are armed on the journal's
// FaultyFileIO and fire on its next write or fsync (so they land inside a group-commit batch,
// wherever the journal happens to be), through a plan object the simulator mutates.

import type { FaultyFileIO, InjectedErrorCode } from '../../engine/journal/faulty-io.ts';

export const FAULT_KINDS = [
  'power-loss', // machine loses power: only fsynced bytes and entries are sure, unsynced tails torn (SimDisk.crash)
  'process-crash', // SIGKILL: the page cache survives, unsynced bytes included (SimDisk.clone)
  'torn-write', // crash in the middle of the next write: a random prefix of it reaches the disk
  'write-eio', // next write fails with EIO → journal fail-stop → restart
  'write-enospc', // next write fails with ENOSPC → fail-stop → restart
  'fsync-eio', // next fsync fails with EIO → fail-stop → restart
  'restart', // graceful close + reopen: nothing submitted may be lost
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** Relative weights when a step draws a fault. */
export const FAULT_WEIGHTS: Readonly<Record<FaultKind, number>> = {
  'power-loss': 3,
  'process-crash': 3,
  'torn-write': 2,
  'write-eio': 1,
  'write-enospc': 1,
  'fsync-eio': 2,
  restart: 2,
};

const WEIGHT_TOTAL = FAULT_KINDS.reduce((sum, k) => sum + FAULT_WEIGHTS[k], 0);

/** Maps a uniform [0, 1) draw to a fault kind by weight. */
export function pickFault(u: number): FaultKind {
  let x = u * WEIGHT_TOTAL;
  for (const kind of FAULT_KINDS) {
    x -= FAULT_WEIGHTS[kind];
    if (x < 0) return kind;
  }
  return FAULT_KINDS[FAULT_KINDS.length - 1]!;
}

export function zeroFaultCounts(): Record<FaultKind, number> {
  const out = {} as Record<FaultKind, number>;
  for (const k of FAULT_KINDS) out[k] = 0;
  return out;
}

/** The mutable twin of FaultPlan: FaultyFileIO reads it on every call. */
export interface ArmablePlan {
  failWriteAtCall?: { call: number; code: InjectedErrorCode };
  failFsyncAtCall?: { call: number; code: InjectedErrorCode };
  tornWriteCrashAtCall?: number;
}

export function isArmed(kind: FaultKind): boolean {
  return kind === 'torn-write' || kind === 'write-eio' || kind === 'write-enospc' || kind === 'fsync-eio';
}

/** Arms a disk fault on the next matching call of `io` (which must read `plan`). */
export function armFault(io: FaultyFileIO, plan: ArmablePlan, kind: FaultKind): void {
  switch (kind) {
    case 'torn-write':
      plan.tornWriteCrashAtCall = io.writeCalls + 1;
      return;
    case 'write-eio':
      plan.failWriteAtCall = { call: io.writeCalls + 1, code: 'EIO' };
      return;
    case 'write-enospc':
      plan.failWriteAtCall = { call: io.writeCalls + 1, code: 'ENOSPC' };
      return;
    case 'fsync-eio':
      plan.failFsyncAtCall = { call: io.fsyncCalls + 1, code: 'EIO' };
      return;
    default:
      throw new Error(`fault ${kind} is not armed on the disk`);
  }
}

export function disarm(plan: ArmablePlan): void {
  delete plan.failWriteAtCall;
  delete plan.failFsyncAtCall;
  delete plan.tornWriteCrashAtCall;
}
