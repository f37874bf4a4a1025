// CPU hog on the engine's core: `hogs` child processes spin at 100 % of a core. With
// `taskset` installed, the engine thread of the embedded server ("WorkerThread") is pinned to
// one core and the hogs to that same core, so the engine has to share it (the fault Chaos
// Mesh's StressChaos approximates with cgroups); `clear` kills the hogs and restores the
// engine thread's original affinity. Without taskset (or against an external server, whose
// threads we cannot see) the hogs run unpinned and the fault says so in its timeline.
// Each hog exits by itself after `maxDurationS` even if nobody clears it.

import type { Fault, FaultContext } from '../fault.ts';
import { affinityOf, cpuSecondsOf, engineThreadId, setAffinity, startChild, taskset } from './child.ts';
import type { FaultChild } from './child.ts';

export interface CpuHogOptions {
  hogs?: number;
  /** Self-destruct bound for each hog (s). */
  maxDurationS?: number;
  /** Core to pin to (default: the highest-numbered core). */
  core?: number;
}

export interface CpuHogState {
  pinned: boolean;
  core: number;
  /** Why the hogs are not pinned (empty when pinned). */
  unpinnedReason: string;
  hogPids: number[];
  /** CPU seconds the hogs used (measured at clear). */
  hogCpuS: number;
  engineTid: number | null;
  engineAffinityBefore: string;
  engineAffinityDuring: string;
}

export interface CpuHogFault extends Fault {
  state(): CpuHogState;
}

const SPIN = 'const end = Date.now() + Number(process.argv[1]) * 1000; let x = 0; while (Date.now() < end) { for (let i = 0; i < 1e6; i++) x += i; } process.exit(x > 0 ? 0 : 0);';

export function cpuHogFault(o: CpuHogOptions = {}): CpuHogFault {
  const hogs = Math.max(1, o.hogs ?? 1);
  let children: FaultChild[] = [];
  const s: CpuHogState = { pinned: false, core: -1, unpinnedReason: '', hogPids: [], hogCpuS: 0, engineTid: null, engineAffinityBefore: '', engineAffinityDuring: '' };
  let enginePid = -1;
  return {
    name: 'cpu-hog',
    describe: `${hogs} spinning process(es) on the engine thread's core (taskset; unpinned if unavailable)`,
    state: () => ({ ...s, hogPids: [...s.hogPids] }),
    async inject(ctx: FaultContext) {
      const cores = (await import('node:os')).availableParallelism();
      s.core = o.core ?? cores - 1;
      const ts = taskset();
      s.pinned = false;
      s.unpinnedReason = ts === null ? 'taskset not installed' : ctx.server === null ? 'external server: its threads are not visible' : '';
      if (s.unpinnedReason === '' && ctx.server !== null) {
        enginePid = ctx.server.pid;
        s.engineTid = engineThreadId(enginePid);
        if (s.engineTid === null) s.unpinnedReason = 'no engine thread (WorkerThread) found: --in-process server?';
        else {
          s.engineAffinityBefore = affinityOf(enginePid, s.engineTid);
          setAffinity(s.engineTid, String(s.core));
          s.engineAffinityDuring = affinityOf(enginePid, s.engineTid);
          s.pinned = true;
        }
      }
      const maxS = String(o.maxDurationS ?? 150);
      children = Array.from({ length: hogs }, () => (s.pinned && ts !== null
        ? startChild(ts, ['-c', String(s.core), process.execPath, '-e', SPIN, maxS])
        : startChild(process.execPath, ['-e', SPIN, maxS])));
      s.hogPids = children.map((c) => c.pid);
      ctx.mark('note', s.pinned
        ? `${hogs} hog(s) pinned with the engine thread ${s.engineTid} on core ${s.core} (engine affinity ${s.engineAffinityBefore} → ${s.engineAffinityDuring})`
        : `${hogs} hog(s) NOT pinned: ${s.unpinnedReason}`);
    },
    async clear(ctx: FaultContext) {
      if (children.length === 0 && !s.pinned) return; // idempotent: already cleared
      s.hogCpuS += children.reduce((a, c) => a + cpuSecondsOf(c.pid), 0);
      await Promise.all(children.map((c) => c.kill()));
      children = [];
      if (s.pinned && s.engineTid !== null) {
        try {
          setAffinity(s.engineTid, s.engineAffinityBefore);
        } catch (e) {
          // The server may have been restarted meanwhile: its old thread is gone, nothing to restore.
          ctx.mark('note', `engine affinity not restored: ${(e as Error).message}`);
        }
        s.pinned = false;
      }
      if (s.hogPids.length > 0) ctx.mark('note', `hogs killed after ${s.hogCpuS.toFixed(2)} CPU s`);
    },
  };
}
