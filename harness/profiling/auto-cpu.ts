// Automatic CPU profile of the worst latency window during `perpx run`.
//
// Design: from half a second before the spike onset (the first stage whose rate rises above
// 1.5× the starting rate), the campaign asks the server for back-to-back CPU profiles of
// every thread (POST /admin/v1/profile/cpu, node:inspector in the server, 2 s each, at most
// 4 windows = the ramp and the first seconds of the peak, where the stall is). After the run
// it keeps the window whose seconds had the worst corrected p99 (max of the per-second p99
// over the window), writes its profiles to <run>/profiles/auto-cpu-<thread>.cpuprofile, adds
// a "CPU" block to the report's Profiling section and a diagnosis finding that names the top
// self-time functions of each thread and links the block. Profiling costs the server
// sampling overhead only during those ≤ 8 s; outside them no inspector session exists.
// A server without the route (or --target at an older perpx) only loses this section.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compileProfile } from '../profile.ts';
import type { Scenario } from '../scenario.ts';
import type { RunResult } from '../result.ts';
import { displayThread, monotonicUsAt, summarizeProfile } from './cpuprofile.ts';
import type { CpuProfile } from './cpuprofile.ts';
import type { CpuProfiling } from './types.ts';
import { cpuAnchorId } from './types.ts';

export const AUTO_CPU_WINDOW_MS = 2_000;
export const AUTO_CPU_WINDOWS_MAX = 4;
/**
 * 5 ms sampling, not the inspector's 1 ms: the windows fall in the spike the run is measuring.
 * Measured back to back on the 2-core box (npm start, load average 1.6-3.6): with 1 ms sampling
 * corrected p99 365 ms (generator invalid), without the capture 108 ms (pass). Coarser samples
 * also make each profile — serialized on the gateway thread when a window ends — smaller.
 */
export const AUTO_CPU_INTERVAL_US = 5_000;
const LEAD_S = 0.5;

interface Capture {
  threads: { thread: string; profile: CpuProfile }[];
}

/** Seconds into the run where the load first rises above 1.5× its starting rate (null: never). */
export function spikeOnsetS(scenario: Scenario): number | null {
  const p = compileProfile(scenario.profile);
  const first = p.stages[0];
  if (first === undefined) return null;
  const base = Math.max(first.fromRps, 1e-9);
  for (const s of p.stages) if (s.toRps > 1.5 * base) return s.startS;
  return null;
}

/** Worst (max) per-second corrected p99 over the seconds overlapping [fromS, toS). */
export function windowP99Ms(r: RunResult, fromS: number, toS: number): number | null {
  let worst: number | null = null;
  const p99 = r.series.corrected.p99Ms;
  for (let i = Math.max(0, Math.floor(fromS)); i < Math.min(p99.length, Math.ceil(toS)); i++) {
    const v = p99[i];
    if (v !== null && v !== undefined && (worst === null || v > worst)) worst = v;
  }
  return worst;
}

export interface AutoCpuCapture {
  onStart(startMs: number): void;
  /** Stop capturing, pick the worst window, write its files, add profiling + a finding to result. */
  finish(result: RunResult): Promise<void>;
}

export function startAutoCpuCapture(o: { url: string; adminToken: string; scenario: Scenario; dir: string; log: (l: string) => void }): AutoCpuCapture {
  const onset = spikeOnsetS(o.scenario);
  const captures: Capture[] = [];
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let failure: string | null = null;

  const loop = async (): Promise<void> => {
    for (let i = 0; i < AUTO_CPU_WINDOWS_MAX && !stopped; i++) {
      try {
        const res = await fetch(`${o.url}/admin/v1/profile/cpu`, {
          method: 'POST', headers: { 'x-perpx-admin': o.adminToken, 'content-type': 'application/x-www-form-urlencoded' },
          body: `durationMs=${AUTO_CPU_WINDOW_MS}&intervalUs=${AUTO_CPU_INTERVAL_US}`,
        });
        const body = await res.json() as { threads?: Capture['threads']; msg?: string };
        if (!res.ok || body.threads === undefined) {
          failure = `the server answered ${res.status} ${body.msg ?? ''}`.trim();
          return;
        }
        captures.push({ threads: body.threads });
      } catch (e) {
        failure = (e as Error).message;
        return;
      }
    }
  };

  return {
    onStart(startMs) {
      if (onset === null) return;
      const delayMs = Math.max(0, startMs + (onset - LEAD_S) * 1000 - Date.now());
      timer = setTimeout(() => { running = loop(); }, delayMs);
      timer.unref(); // a run that fails before finish() must not be held open by it
    },
    async finish(result) {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
      if (captures.length === 0) {
        result.notes = [...(result.notes ?? []), onset === null
          ? 'automatic CPU profile: no spike in this profile, none taken'
          : `automatic CPU profile: none taken${failure === null ? '' : ` (${failure})`}`];
        return;
      }
      const runStartUs = monotonicUsAt(result.startMs);
      const toS = (us: number): number => (us - runStartUs) / 1e6;
      const windows = captures.map((c) => {
        const p = c.threads[0]!.profile;
        const fromS = toS(p.startTime);
        const endS = toS(p.endTime);
        return { c, fromS, toS: endS, p99Ms: windowP99Ms(result, fromS, endS) };
      });
      let best = windows[0]!;
      for (const w of windows) if ((w.p99Ms ?? -1) > (best.p99Ms ?? -1)) best = w;
      const profDir = join(o.dir, 'profiles');
      await mkdir(profDir, { recursive: true });
      const block: CpuProfiling = {
        label: 'worst latency window (automatic)', source: `admin /profile/cpu (node:inspector, ${AUTO_CPU_INTERVAL_US / 1000} ms sampling), ${AUTO_CPU_WINDOW_MS / 1000} s windows from the spike onset`,
        fromS: best.fromS, toS: best.toS, threads: [],
        ...(best.p99Ms === null ? {} : { p99Ms: best.p99Ms }),
        candidates: windows.map((w) => ({ fromS: w.fromS, toS: w.toS, p99Ms: w.p99Ms })),
      };
      for (const t of best.c.threads) {
        const thread = displayThread(t.thread);
        const file = `profiles/auto-cpu-${thread.replace(/[^A-Za-z0-9-]/g, '_')}.cpuprofile`;
        await writeFile(join(o.dir, file), JSON.stringify(t.profile));
        const s = summarizeProfile(t.profile, { topN: 15 });
        block.threads.push({ thread, file, samples: s.samples, windowMs: s.windowMs, busyMs: s.busyMs, idleMs: s.idleMs, gcMs: s.gcMs, top: s.top, flame: s.flame });
      }
      result.profiling = { ...(result.profiling ?? {}), cpu: [...(result.profiling?.cpu ?? []), block] };
      const perThread = block.threads.map((t) => `${t.thread} busy ${t.windowMs > 0 ? Math.round((t.busyMs / t.windowMs) * 100) : 0}% (GC ${t.gcMs.toFixed(0)} ms): ` +
        t.top.slice(0, 3).map((f) => `${f.name} ${(f.selfShare * 100).toFixed(1)}%`).join(', '));
      result.findings = [...(result.findings ?? []), {
        severity: 'info',
        title: `CPU profile of the worst latency window t=${best.fromS.toFixed(1)}–${best.toS.toFixed(1)} s (corrected p99 ${best.p99Ms === null ? 'n/a' : `${best.p99Ms.toFixed(1)} ms`}) — top self time per thread`,
        detail: `${perThread.join('; ')}. Files: ${block.threads.map((t) => t.file).join(', ')}`,
        link: { href: `#${cpuAnchorId(block.label)}`, text: 'flame graphs and tables' },
      }];
    },
  };
}
