// Memory pressure: a child process allocates `bytes` in 64 MiB buffers and writes every
// page (so the memory is resident, not just reserved), then holds it until `clear` kills it
// or its own `maxDurationS` deadline passes. inject resolves once the memory is touched; the
// child's resident size is read from /proc. The allocation is capped at half of the memory
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
  /** How long to wait for the allocation (ms). */
  allocTimeoutMs?: number;
}

export interface MemoryPressureState {
  requestedBytes: number;
  allocatedBytes: number;
  /** Resident set of the child once ready (bytes). */
  residentBytes: number;
  pid: number;
  allocMs: number;
}

export interface MemoryPressureFault extends Fault {
  state(): MemoryPressureState;
}

const HOG = `
const want = Number(process.argv[1]); const end = Date.now() + Number(process.argv[2]) * 1000;
const chunk = 64 * 1024 * 1024; const held = []; let got = 0;
while (got < want) { const n = Math.min(chunk, want - got); const b = Buffer.allocUnsafe(n); for (let i = 0; i < n; i += 4096) b[i] = 1; held.push(b); got += n; }
process.stdout.write('ready ' + got + '\\n');
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
      const deadline = Date.now() + (o.allocTimeoutMs ?? 60_000);
      while (!/ready \d+/.test(c.output()) && Date.now() < deadline && c.child.exitCode === null && !ctx.signal.aborted) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const m = /ready (\d+)/.exec(c.output());
      if (m === null) {
        await c.kill();
        child = null;
        throw new Error(`memory pressure: the child did not allocate ${bytes} bytes: ${c.output().slice(-300)}`);
      }
      s.allocatedBytes = Number(m[1]);
      s.allocMs = Date.now() - t0;
      s.residentBytes = residentBytes(c.pid);
      ctx.mark('note', `${(s.allocatedBytes / 2 ** 20).toFixed(0)} MiB allocated and touched in ${s.allocMs} ms (child RSS ${(s.residentBytes / 2 ** 20).toFixed(0)} MiB)`);
    },
    async clear() {
      if (child !== null) await child.kill();
      child = null;
    },
  };
}
