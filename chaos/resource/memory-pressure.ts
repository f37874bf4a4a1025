// Memory pressure: a child process allocates `bytes` in 64 MiB buffers and writes every
// page (so the memory is resident, not just reserved), then holds it until `clear` kills it
// or its own `maxDurationS` deadline passes. inject resolves once the memory is touched, or
// after `allocWaitMs` with the allocation still going (page faults are slow on a busy VM:
// 256 MiB took 3 s here at load average 30); the child's progress and resident size are
// read again at clear. The allocation is capped at half of the memory
// the OS reports free, so the fault squeezes the page cache and the server without tipping
// a shared machine into the OOM killer.

import { freemem } from 'node:os';
import type { Fault, FaultContext } from '../fault.ts';
import { startChild } from './child.ts';
import type { FaultChild } from './child.ts';
import { readFileSync } from 'node:fs';

export interface MemoryPressureOptions {
  bytes: number;
  maxDurationS?: number;
  /** How long inject waits for the allocation to finish before resolving anyway (ms, default 5000). */
  allocWaitMs?: number;
}

export interface MemoryPressureState {
  requestedBytes: number;
  allocatedBytes: number;
  /** Largest resident set of the child seen (at inject and at clear, bytes). */
  residentBytes: number;
  pid: number;
  /** Time to allocate everything (ms); 0 if it had not finished by the clear. */
  allocMs: number;
}

export interface MemoryPressureFault extends Fault {
  state(): MemoryPressureState;
}

const HOG = `
const t0 = Date.now(); const want = Number(process.argv[1]); const end = Date.now() + Number(process.argv[2]) * 1000;
const chunk = 64 * 1024 * 1024; const held = []; let got = 0;
while (got < want) { const n = Math.min(chunk, want - got); const b = Buffer.allocUnsafe(n); for (let i = 0; i < n; i += 4096) b[i] = 1; held.push(b); got += n; process.stdout.write('got ' + got + '\\n'); }
process.stdout.write('ready ' + got + ' ' + (Date.now() - t0) + '\\n');
const t = setInterval(() => { if (Date.now() > end) { clearInterval(t); process.exit(0); } }, 200);
`;

function residentBytes(pid: number): number {
  try {
    const m = /VmRSS:\s*(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

export function memoryPressureFault(o: MemoryPressureOptions): MemoryPressureFault {
  let child: FaultChild | null = null;
  const s: MemoryPressureState = { requestedBytes: o.bytes, allocatedBytes: 0, residentBytes: 0, pid: -1, allocMs: 0 };
  /** Read the child's progress lines and resident size into the state. */
  const progress = (c: FaultChild): void => {
    const got = [...c.output().matchAll(/(?:got|ready) (\d+)/g)];
    if (got.length > 0) s.allocatedBytes = Number(got[got.length - 1]![1]);
    const ready = /ready \d+ (\d+)/.exec(c.output());
    if (ready !== null) s.allocMs = Number(ready[1]);
    s.residentBytes = Math.max(s.residentBytes, residentBytes(c.pid));
  };
  return {
    name: 'memory-pressure',
    describe: `a child process allocates and touches ${(o.bytes / 2 ** 30).toFixed(2)} GiB (capped at half the free memory) for the fault's duration`,
    state: () => ({ ...s }),
    async inject(ctx: FaultContext) {
      const bytes = Math.min(o.bytes, Math.floor(freemem() / 2));
      const t0 = Date.now();
      const c = startChild(process.execPath, ['-e', HOG, String(bytes), String(o.maxDurationS ?? 150)]);
      child = c;
      s.pid = c.pid;
      const deadline = Date.now() + (o.allocWaitMs ?? 5_000);
      while (!/ready \d+/.test(c.output()) && Date.now() < deadline && c.child.exitCode === null && !ctx.signal.aborted) {
        await new Promise((r) => setTimeout(r, 20));
      }
      if (c.child.exitCode !== null || c.child.signalCode !== null) throw new Error(`memory pressure: the child exited (${c.child.exitCode ?? c.child.signalCode}): ${c.output().slice(-300)}`);
      progress(c);
      ctx.mark('note', s.allocMs > 0
        ? `${(s.allocatedBytes / 2 ** 20).toFixed(0)} MiB allocated and touched in ${s.allocMs} ms (child RSS ${(s.residentBytes / 2 ** 20).toFixed(0)} MiB)`
        : `still allocating after ${Date.now() - t0} ms: ${(s.allocatedBytes / 2 ** 20).toFixed(0)} MiB touched so far (child RSS ${(s.residentBytes / 2 ** 20).toFixed(0)} MiB)`);
    },
    async clear(ctx: FaultContext) {
      if (child === null) return;
      progress(child);
      await child.kill();
      child = null;
      ctx.mark('note', `child killed holding ${(s.allocatedBytes / 2 ** 20).toFixed(0)} MiB (peak RSS ${(s.residentBytes / 2 ** 20).toFixed(0)} MiB)${s.allocMs > 0 ? `, allocated in ${s.allocMs} ms` : ', allocation unfinished'}`);
    },
  };
}
