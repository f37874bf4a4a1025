// Shared by the process-fault e2e tests: run an experiment in a temp runs dir while recording
// every server pid it started, and tell whether anything is left running afterwards.

import { execFileSync } from 'node:child_process';
import { findExperiment } from '../experiments.ts';
import { runExperiment } from '../runner.ts';
import type { ExperimentOutcome } from '../runner.ts';
import type { EmbeddedServer } from '../../harness/embedded-server.ts';

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line mentions this run directory (the server's --data argument). */
export function processesMentioning(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', dir], { encoding: 'utf8' }).split('\n').filter((l) => l.trim().length > 0 && !l.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

export async function runTracked(name: string, runsDir: string, servers: EmbeddedServer[], options: Record<string, number> = {}, quick = true): Promise<{ out: ExperimentOutcome; pids: number[] }> {
  const pids: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const out = await runExperiment(findExperiment(name)!, {
      seed: 3, quick, options, runsDir, log: () => {},
      onServer: (s) => {
        servers.push(s);
        // Every restart is a new child: record each pid the experiment ever ran.
        const seen = () => { if (s.pid > 0 && !pids.includes(s.pid)) pids.push(s.pid); };
        seen();
        timer = setInterval(seen, 20);
      },
    });
    return { out, pids };
  } finally {
    clearInterval(timer);
  }
}

export function describeOutcome(o: ExperimentOutcome): string {
  return `${o.experiment}: ${o.faultsInjected} faults, lost ${o.lostAckedOrders}, invariants ${o.invariants.map((c) => `${c.name}=${c.ok ? 'ok' : `FAIL(${c.detail})`}`).join(', ')}; run dir ${o.dir}`;
}
