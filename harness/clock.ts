// One clock for every thread of a run. `performance.timeOrigin + performance.now()` is an
// epoch-based monotonic reading (sub-microsecond resolution) that agrees across worker threads
// of one process (checked in clock.test.ts), so an intended send time computed by the
// coordinator can be compared with a send time measured inside a worker.

import { performance } from 'node:perf_hooks';

/** Milliseconds since the Unix epoch, monotonic within the process, ~0.25 µs resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
