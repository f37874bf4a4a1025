// On-demand profiling of a running server through the admin API (admin token only), for the
// harness's automatic CPU capture and `perpx profile heap`:
//
//   POST /admin/v1/profile/cpu           durationMs (100..30000), intervalUs (100..100000, default 1000)
//        → {"threads":[{"thread":"main","profile":{…V8 .cpuprofile…}}, {"thread":"engine",…}]}
//   POST /admin/v1/profile/heapSnapshot  label ([a-z0-9-]{1,32})
//        → {"files":[{"thread":"main","path":"…/heap-<label>-main.heapsnapshot","bytes":…,"ms":…}, …]}
//
// Both use node:inspector in this process: the main thread directly, worker threads (the
// engine thread) through the inspector's NodeWorker domain, so nothing runs on the engine
// thread's own code path. The session exists only while a request is being served: when no
// one profiles, the cost is zero. One profiling request at a time (a second one gets -1008).
// Heap snapshots go to PERPX_PROFILE_DIR only (no path comes from the request); without it
// the route answers -1130. A snapshot pauses the thread it is taken on for as long as it
// takes to write (measured on the shared 2-core box at load average ≈ 20: 52 s for the
// gateway's 47 MB snapshot, 50 s for the engine thread's 85 MB).

import { Session } from 'node:inspector/promises';
import { mkdir, stat } from 'node:fs/promises';
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import type { Ctx } from './context.ts';
import { ok } from './context.ts';
import { apiError, GW } from './errors.ts';
import { uintParam } from './handler-kit.ts';

const CPU_DURATION_MS_MIN = 100;
const CPU_DURATION_MS_MAX = 30_000;
/** A worker's reply; heap snapshots of large heaps on a busy machine take minutes. */
const WORKER_REPLY_TIMEOUT_MS = 600_000;

interface WorkerTarget {
  sessionId: string;
  /** Worker name (new Worker(..., { name })) or "worker-<id>". */
  thread: string;
}

interface WorkerMessage {
  id?: number;
  method?: string;
  result?: unknown;
  error?: { message?: string };
}

/** One inspector session over this thread and every worker thread; closed by close(). */
class InspectorTargets {
  private readonly session = new Session();
  readonly workers: WorkerTarget[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void; timer: NodeJS.Timeout }>();

  async open(): Promise<void> {
    this.session.connect();
    this.session.on('NodeWorker.attachedToWorker', (m) => {
      const p = m.params as { sessionId: string; workerInfo: { workerId: string; title: string; url: string } };
      // Titles look like "[worker 1] engine" (the Worker's name); unnamed workers are
      // "[worker 1] WorkerThread" and are named after their script here ("engine-thread").
      const titled = /\]\s*(\S.*)$/.exec(p.workerInfo.title)?.[1];
      const name = (titled !== undefined && titled !== 'WorkerThread' ? titled : undefined) ?? /([^/]+?)(\.[a-z]+)?$/.exec(p.workerInfo.url)?.[1] ?? `worker-${p.workerInfo.workerId}`;
      this.workers.push({ sessionId: p.sessionId, thread: name });
    });
    this.session.on('NodeWorker.receivedMessageFromWorker', (m) => {
      const p = m.params as { sessionId: string; message: string };
      const msg = JSON.parse(p.message) as WorkerMessage;
      if (msg.id === undefined) return;
      const w = this.pending.get(msg.id);
      if (w === undefined) return;
      this.pending.delete(msg.id);
      clearTimeout(w.timer);
      if (msg.error !== undefined) w.rej(new Error(msg.error.message ?? 'inspector error'));
      else w.res(msg.result);
    });
    await this.session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    // attachedToWorker for existing workers arrives right after enable.
    await new Promise((r) => setImmediate(r));
  }

  main<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return this.session.post(method, params) as Promise<T>;
  }

  worker<T>(w: WorkerTarget, method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((res, rej) => {
      const timer = setTimeout(() => { this.pending.delete(id); rej(new Error(`${w.thread}: ${method} timed out`)); }, WORKER_REPLY_TIMEOUT_MS);
      this.pending.set(id, { res: res as (v: unknown) => void, rej, timer });
      this.session.post('NodeWorker.sendMessageToWorker', { sessionId: w.sessionId, message: JSON.stringify({ id, method, params }) }).catch(rej);
    });
  }

  async close(): Promise<void> {
    for (const w of this.pending.values()) clearTimeout(w.timer);
    this.pending.clear();
    try { await this.session.post('NodeWorker.disable'); } catch { /* already gone */ }
    this.session.disconnect();
  }
}

let busy = false;

async function withTargets<T>(fn: (t: InspectorTargets) => Promise<T>): Promise<T> {
  if (busy) throw apiError(GW.OVERLOADED, 'A profile is already being taken.');
  busy = true;
  const t = new InspectorTargets();
  try {
    await t.open();
    return await fn(t);
  } finally {
    await t.close();
    busy = false;
  }
}

/** CPU profiles of every thread over the same window. */
export async function captureCpuProfiles(durationMs: number, intervalUs: number): Promise<{ thread: string; profile: unknown }[]> {
  return withTargets(async (t) => {
    await t.main('Profiler.enable');
    await t.main('Profiler.setSamplingInterval', { interval: intervalUs });
    for (const w of t.workers) {
      await t.worker(w, 'Profiler.enable');
      await t.worker(w, 'Profiler.setSamplingInterval', { interval: intervalUs });
    }
    await Promise.all([t.main('Profiler.start'), ...t.workers.map((w) => t.worker(w, 'Profiler.start'))]);
    await new Promise((r) => setTimeout(r, durationMs));
    const [main, ...rest] = await Promise.all([
      t.main<{ profile: unknown }>('Profiler.stop'),
      ...t.workers.map((w) => t.worker<{ profile: unknown }>(w, 'Profiler.stop')),
    ]);
    await t.main('Profiler.disable');
    for (const w of t.workers) await t.worker(w, 'Profiler.disable');
    return [{ thread: 'main', profile: main!.profile }, ...rest.map((r, i) => ({ thread: t.workers[i]!.thread, profile: r.profile }))];
  });
}

/**
 * A heap snapshot of every thread, one file each under dir. v8.writeHeapSnapshot() writes the
 * file from C++ on the thread itself (≈ 10× faster here than streaming the inspector's
 * HeapProfiler chunks); in a worker it is run through Runtime.evaluate.
 */
export async function captureHeapSnapshots(dir: string, label: string): Promise<{ thread: string; path: string; bytes: number; ms: number }[]> {
  await mkdir(dir, { recursive: true });
  return withTargets(async (t) => {
    const out: { thread: string; path: string; bytes: number; ms: number }[] = [];
    const fileFor = (thread: string): string => join(dir, `heap-${label}-${thread.replace(/[^A-Za-z0-9-]/g, '_')}.heapsnapshot`);
    let t0 = performance.now();
    const mainPath = writeHeapSnapshot(fileFor('main'));
    out.push({ thread: 'main', path: mainPath, bytes: (await stat(mainPath)).size, ms: performance.now() - t0 });
    for (const w of t.workers) {
      const path = fileFor(w.thread);
      t0 = performance.now();
      const r = await t.worker<{ result?: { value?: unknown }; exceptionDetails?: { text?: string; exception?: { description?: string } } }>(w, 'Runtime.evaluate', {
        expression: `process.getBuiltinModule('node:v8').writeHeapSnapshot(${JSON.stringify(path)})`, returnByValue: true,
      });
      if (r.exceptionDetails !== undefined) throw new Error(`${w.thread}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text ?? 'writeHeapSnapshot failed'}`);
      out.push({ thread: w.thread, path, bytes: (await stat(path)).size, ms: performance.now() - t0 });
    }
    return out;
  });
}

export async function adminCpuProfile(ctx: Ctx): Promise<void> {
  const durationMs = uintParam(ctx.params, 'durationMs', 2_000);
  const intervalUs = uintParam(ctx.params, 'intervalUs', 1_000);
  if (durationMs < CPU_DURATION_MS_MIN || durationMs > CPU_DURATION_MS_MAX) throw apiError(GW.INVALID_PARAMETER, `Parameter 'durationMs' must be ${CPU_DURATION_MS_MIN}..${CPU_DURATION_MS_MAX}.`);
  if (intervalUs < 100 || intervalUs > 100_000) throw apiError(GW.INVALID_PARAMETER, "Parameter 'intervalUs' must be 100..100000.");
  ok(ctx, JSON.stringify({ threads: await captureCpuProfiles(durationMs, intervalUs) }));
}

export async function adminHeapSnapshot(ctx: Ctx): Promise<void> {
  const dir = process.env.PERPX_PROFILE_DIR;
  if (dir === undefined || dir === '') throw apiError(GW.INVALID_PARAMETER, 'Heap snapshots are off: start the server with PERPX_PROFILE_DIR set.');
  const label = ctx.params.get('label') ?? 'snapshot';
  if (!/^[a-z0-9-]{1,32}$/.test(label)) throw apiError(GW.INVALID_PARAMETER, "Parameter 'label' must match [a-z0-9-]{1,32}.");
  ok(ctx, JSON.stringify({ files: await captureHeapSnapshots(dir, label) }));
}
