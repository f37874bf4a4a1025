// Proves the shared clock agrees across worker threads (intended send times are computed on the
// coordinator, sends are timed in workers): a worker's reading lies between two coordinator
// readings taken around it.

import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { nowMs } from './clock.ts';

describe('clock', () => {
  it('a worker thread reads the same clock as the coordinator', async () => {
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const { performance } = require('node:perf_hooks');
       parentPort.on('message', () => parentPort.postMessage(performance.timeOrigin + performance.now()));`,
      { eval: true },
    );
    await once(w, 'online');
    for (let i = 0; i < 20; i++) {
      const before = nowMs();
      w.postMessage(0);
      const [inWorker] = (await once(w, 'message')) as [number];
      const after = nowMs();
      expect(inWorker).toBeGreaterThanOrEqual(before - 0.05);
      expect(inWorker).toBeLessThanOrEqual(after + 0.05);
    }
    await w.terminate();
  });
});
