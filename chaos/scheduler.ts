// Runs a fault schedule against the clock of a load run: each planned fault is injected at
// `atS` and cleared at `atS + forS` (seconds since the load start), one action at a time in
// time order, and every action is stamped on the timeline with the time it really happened
// (a restart that takes 2 s delays the next action; the timeline shows it). `finish()` stops
// injecting, clears every fault still in effect and resolves once nothing is left running.

import type { EmbeddedServer } from '../harness/embedded-server.ts';
import { deriveSeed } from '../harness/rng.ts';
import { nowMs } from '../harness/clock.ts';
import type { FaultContext, FaultEvent, PlannedFault } from './fault.ts';
import { seededRng } from './fault.ts';

export interface ScheduleOptions {
  planned: readonly PlannedFault[];
  seed: number;
  server: EmbeddedServer | null;
  serverUrl: string;
  adminToken: string;
  log: (line: string) => void;
  /** Minimum seconds between a clear completing and the next inject. */
  settleS?: number;
}

/** What happened to one planned fault (times in seconds since the load start). */
export interface FaultRecord {
  index: number;
  fault: string;
  plannedAtS: number;
  injectS: number | null;
  /** When clearing began (e.g. the restart was launched). */
  clearBeganS: number | null;
  /** When the fault was really gone (e.g. the restarted server listens); null if the clear failed. */
  clearS: number | null;
  error: string | null;
}

export interface RunningSchedule {
  events: FaultEvent[];
  records: FaultRecord[];
  /** Stop injecting, clear whatever is still in effect, wait until the loop has ended. */
  finish(): Promise<void>;
}

interface Action {
  tS: number;
  index: number;
  kind: 'inject' | 'clear';
}

/** The actions of a schedule in execution order (stable: an inject precedes its own clear). */
export function scheduleActions(planned: readonly PlannedFault[]): Action[] {
  const out: Action[] = [];
  planned.forEach((p, index) => {
    out.push({ tS: p.atS, index, kind: 'inject' }, { tS: p.atS + Math.max(0, p.forS), index, kind: 'clear' });
  });
  return out.sort((a, b) => a.tS - b.tS || a.index - b.index || (a.kind === 'inject' ? -1 : 1));
}

/** Starts executing `planned` relative to `startMs` (epoch ms on harness/clock.ts). */
export function startSchedule(o: ScheduleOptions, startMs: number): RunningSchedule {
  const events: FaultEvent[] = [];
  const abort = new AbortController();
  const nowS = (): number => Math.round(nowMs() - startMs) / 1000;
  const records: FaultRecord[] = o.planned.map((p, index) => ({ index, fault: p.fault.name, plannedAtS: p.atS, injectS: null, clearBeganS: null, clearS: null, error: null }));
  const contexts = o.planned.map((p, index): FaultContext => ({
    server: o.server, serverUrl: o.serverUrl, adminToken: o.adminToken,
    rng: seededRng(deriveSeed(o.seed, index)), nowS, signal: abort.signal, log: o.log,
    mark: (kind, detail) => { events.push({ tS: nowS(), kind, fault: p.fault.name, detail }); },
  }));
  let wake: (() => void) | null = null;
  const sleepUntil = (tS: number): Promise<void> => new Promise((res) => {
    const ms = startMs + tS * 1000 - nowMs();
    if (ms <= 0 || abort.signal.aborted) return res();
    const timer = setTimeout(() => { wake = null; res(); }, ms);
    wake = () => { clearTimeout(timer); wake = null; res(); };
  });

  const act = async (index: number, kind: 'inject' | 'clear'): Promise<void> => {
    const p = o.planned[index]!;
    const rec = records[index]!;
    const ctx = contexts[index]!;
    const tS = nowS();
    try {
      if (kind === 'inject') {
        rec.injectS = tS;
        events.push({ tS, kind: 'inject', fault: p.fault.name, detail: p.fault.describe });
        await p.fault.inject(ctx);
      } else {
        rec.clearBeganS = tS;
        await p.fault.clear(ctx);
        rec.clearS = nowS();
        events.push({ tS: rec.clearS, kind: 'clear', fault: p.fault.name, detail: `cleared (began at ${tS.toFixed(3)} s)` });
      }
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0] ?? String(e);
      rec.error ??= `${kind}: ${msg}`;
      events.push({ tS: nowS(), kind: 'note', fault: p.fault.name, detail: `${kind} failed: ${msg}` });
      o.log(`chaos: ${p.fault.name} ${kind} failed: ${msg}`);
    }
  };

  let lastClearDoneS = -Infinity;
  const loop = (async () => {
    for (const a of scheduleActions(o.planned)) {
      const rec = records[a.index]!;
      if (a.kind === 'inject') {
        await sleepUntil(Math.max(a.tS, lastClearDoneS + (o.settleS ?? 0)));
        if (abort.signal.aborted) continue; // the load ended: inject nothing more
        await act(a.index, 'inject');
      } else {
        if (rec.injectS === null) continue;
        await sleepUntil(a.tS); // returns at once after finish(): clear now
        await act(a.index, 'clear');
        lastClearDoneS = nowS();
      }
    }
  })();

  return {
    events, records,
    async finish() {
      abort.abort();
      (wake as (() => void) | null)?.();
      await loop;
      // Belt and braces: clear is idempotent, so clear everything that was injected once more.
      for (const rec of records) if (rec.injectS !== null) await o.planned[rec.index]!.fault.clear(contexts[rec.index]!).catch(() => {});
    },
  };
}
