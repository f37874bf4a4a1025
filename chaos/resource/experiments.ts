// Resource experiments: a CPU hog sharing the engine thread's core, and memory pressure.

import type { Experiment } from '../experiment.ts';
import { check } from '../experiment.ts';
import { processAlive } from './child.ts';
import { cpuHogFault } from './cpu-hog.ts';
import { memoryPressureFault } from './memory-pressure.ts';

export const cpuHog: Experiment = {
  name: 'cpu-hog',
  fault: '2 spinning processes pinned (taskset) to the core the engine thread is pinned to, for 6 s (quick) / 2 × 15 s',
  proves: 'Losing most of the engine core slows acknowledgements but loses and corrupts nothing; the hogs are gone, the engine thread gets its affinity back and p99 returns under the SLO after the clear.',
  load: {
    quick: { kind: 'constant', rate: 100, duration: '16s' },
    full: { kind: 'constant', rate: 200, duration: '60s' },
  },
  steadyState: { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 10 },
  plan(input) {
    const make = () => cpuHogFault({ hogs: 2, maxDurationS: 120 });
    const faults = input.quick ? [{ atS: 5, forS: 6, fault: make() }] : [{ atS: 10, forS: 15, fault: make() }, { atS: 35, forS: 15, fault: make() }];
    return {
      faults,
      async verify() {
        return faults.map((f, i) => {
          const s = (f.fault as ReturnType<typeof make>).state();
          const left = s.hogPids.filter(processAlive);
          return check(`cpu hog ${i + 1}: pinned, used CPU, gone after clear`, s.hogPids.length > 0 && left.length === 0 && s.hogCpuS > 0,
            `${s.engineAffinityDuring === '' ? `unpinned (${s.unpinnedReason})` : `engine thread ${s.engineTid} ${s.engineAffinityBefore} → core ${s.core} → restored`}; hogs used ${s.hogCpuS.toFixed(2)} CPU s; ${left.length} still running`);
        });
      },
    };
  },
};

export const memoryPressure: Experiment = {
  name: 'memory-pressure',
  fault: 'A child allocates and touches 512 MiB (quick) / 2 GiB (capped at half the free memory) and holds it for 8 s / 20 s',
  proves: 'Memory pressure next to the server (page cache squeezed, allocator slower) costs latency at most, never correctness; the memory is released when the child is killed.',
  load: {
    quick: { kind: 'constant', rate: 100, duration: '16s' },
    full: { kind: 'constant', rate: 200, duration: '45s' },
  },
  steadyState: { p99Ms: 250, maxFailRatio: 0.001, recoverWithinS: 10 },
  plan(input) {
    const fault = memoryPressureFault({ bytes: (input.quick ? 0.5 : 2) * 2 ** 30, maxDurationS: 120 });
    return {
      faults: [{ atS: 5, forS: input.quick ? 8 : 20, fault }],
      async verify() {
        const s = fault.state();
        return [check('memory held while injected (resident), released after', s.allocatedBytes > 0 && s.residentBytes >= s.allocatedBytes * 0.9 && !processAlive(s.pid),
          `${(s.allocatedBytes / 2 ** 20).toFixed(0)} MiB of ${(s.requestedBytes / 2 ** 20).toFixed(0)} MiB touched${s.allocMs > 0 ? ` in ${s.allocMs} ms` : ' (allocation unfinished at clear)'}, peak child RSS ${(s.residentBytes / 2 ** 20).toFixed(0)} MiB; child ${processAlive(s.pid) ? 'STILL RUNNING' : 'gone'}`)];
      },
    };
  },
};

export const RESOURCE_EXPERIMENTS: readonly Experiment[] = [cpuHog, memoryPressure];
