// The pacer thread (see pacer.ts): a synchronous loop over every worker's arrival schedule —
// sleep in Atomics.wait until the earliest next arrival, post that worker a wake unless it has
// one pending, move its schedule past everything due now.

import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { nowMs } from './clock.ts';
import { compileProfile } from './profile.ts';
import { ArrivalSchedule } from './arrivals.ts';
import { CTL_CHANGE, CTL_STOP, CTL_STARTED, CTL_POSTED0 } from './pacer.ts';
import type { PacerShared, PacerPlan } from './pacer.ts';

const { shared, plan, ports } = workerData as { shared: PacerShared; plan: PacerPlan; ports: MessagePort[] };
const ctl = new Int32Array(shared.ctl);
const W = shared.workerCount;
// The stop flag is re-checked at least this often.
const maxSleepMs = 250;

function waitForStart(): boolean {
  for (;;) {
    const change = Atomics.load(ctl, CTL_CHANGE);
    if (Atomics.load(ctl, CTL_STOP) !== 0) return false;
    if (Atomics.load(ctl, CTL_STARTED) !== 0) return true;
    Atomics.wait(ctl, CTL_CHANGE, change, maxSleepMs);
  }
}

function run(): void {
  if (!waitForStart()) return;
  const startMs = new Float64Array(shared.startMs)[0]!;
  const profile = compileProfile(plan.profile);
  const schedules = Array.from({ length: W }, (_, w) => new ArrivalSchedule(profile, plan.arrivals, w, W, plan.seed));
  const posted = new Int32Array(W);
  for (;;) {
    let w = -1;
    let dueMs = Infinity;
    for (let i = 0; i < W; i++) {
      const t = startMs + schedules[i]!.tS * 1000;
      if (t < dueMs) {
        dueMs = t;
        w = i;
      }
    }
    if (w < 0) return; // every schedule is exhausted
    for (;;) {
      const change = Atomics.load(ctl, CTL_CHANGE);
      if (Atomics.load(ctl, CTL_STOP) !== 0) return;
      const waitMs = dueMs - nowMs();
      if (waitMs <= 0) break;
      Atomics.wait(ctl, CTL_CHANGE, change, Math.min(waitMs, maxSleepMs));
    }
    if (Atomics.load(ctl, CTL_POSTED0 + W + w) === posted[w]) {
      posted[w]!++;
      Atomics.store(ctl, CTL_POSTED0 + w, posted[w]!);
      ports[w]!.postMessage(dueMs);
    }
    const now = nowMs();
    const s = schedules[w]!;
    while (startMs + s.tS * 1000 <= now) s.advance();
  }
}

run();
for (const p of ports) p.close();
