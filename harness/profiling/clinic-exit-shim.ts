// Preloaded (--import) into a `perpx serve` that runs under clinic doctor or heapprofiler.
//
// 1. perpx serve ends itself with process.exit(0) after a graceful SIGINT stop; clinic's
//    injected collectors flush on 'beforeExit' (doctor: its process-stat stream, else the file
//    is cut mid-record) or write their file and call process.exit themselves (heapprofiler).
//    So the first process.exit emits 'beforeExit' and waits; the collector's own exit call
//    (or the grace timer) ends the process.
// 2. clinic doctor's sampler is preloaded through NODE_OPTIONS, so it also starts in the
//    engine worker thread, where process.pid — its file name — is the same: two threads then
//    write one process-stat file and interleave records ("Decoded message is not valid" /
//    "offset out of range" in visualize). With PERPX_CLINIC_WORKER_NAMES=1 every Worker gets
//    its own NODE_CLINIC_DOCTOR_NAME, so the main thread's file stays whole (the workers'
//    files are written next to it and not used).

import { createRequire, syncBuiltinESMExports } from 'node:module';

const graceMs = Number(process.env.PERPX_CLINIC_EXIT_GRACE_MS ?? '20000');
const realExit = process.exit.bind(process);
let first = true;

process.exit = ((code?: number | string | null) => {
  if (!first) return realExit(code ?? undefined);
  first = false;
  if (code !== undefined && code !== null) process.exitCode = code;
  setTimeout(() => realExit(code ?? undefined), graceMs);
  process.emit('beforeExit', Number(process.exitCode ?? 0));
  return undefined as never;
}) as typeof process.exit;

if (process.env.PERPX_CLINIC_WORKER_NAMES === '1') {
  const wt = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  if (wt.isMainThread) {
    const Base = wt.Worker;
    let n = 0;
    wt.Worker = class extends Base {
      constructor(file: string | URL, options: import('node:worker_threads').WorkerOptions = {}) {
        n++;
        super(file, { ...options, env: { ...process.env, ...(options.env as Record<string, string> | undefined), NODE_CLINIC_DOCTOR_NAME: `worker-${n}` } });
      }
    } as typeof Base;
    syncBuiltinESMExports();
  }
}
