// Child processes for resource faults: started with a self-destruct deadline (they exit on
// their own even if this process dies without clearing), killed with SIGKILL at clear, and
// awaited, so a cleared fault leaves no process behind.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface FaultChild {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the child has exited. */
  readonly exited: Promise<void>;
  /** stdout so far (bounded). */
  output(): string;
  /** SIGKILL and wait; idempotent. */
  kill(): Promise<void>;
}

export function startChild(cmd: string, args: readonly string[]): FaultChild {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => { if (out.length < 65_536) out += d.toString(); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.on('exit', () => resolve());
    child.on('error', () => resolve());
  });
  return {
    pid: child.pid ?? -1,
    child,
    exited,
    output: () => out,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** True if a process with this pid exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

let tasksetPath: string | null | undefined;

/** Path of `taskset` (util-linux) if installed, else null. */
export function taskset(): string | null {
  if (tasksetPath !== undefined) return tasksetPath;
  const r = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' });
  tasksetPath = r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
  return tasksetPath;
}

/** Cpus_allowed_list of a thread (e.g. "0-1"). */
export function affinityOf(pid: number, tid: number): string {
  const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
  if (m === null) throw new Error(`no Cpus_allowed_list for thread ${tid}`);
  return m[1]!;
}

export function setAffinity(tid: number, cpuList: string): void {
  const ts = taskset();
  if (ts === null) throw new Error('taskset is not installed');
  const r = spawnSync(ts, ['-p', '-c', cpuList, String(tid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -p -c ${cpuList} ${tid}: ${r.stderr.trim()}`);
}

/** CPU time (user + system, seconds) a process has used, from /proc (0 if gone). */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** The engine thread of a `perpx serve` process: its worker thread, named "WorkerThread". */
export function engineThreadId(pid: number): number | null {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'WorkerThread') return Number(tid);
    } catch { /* thread ended */ }
  }
  return null;
}
