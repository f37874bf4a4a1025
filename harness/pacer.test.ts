// The pacer thread wakes a worker at each arrival and exits on its own once the schedule is
// exhausted; stop() must then return at once instead of waiting out its 2 s safety timeout
// (it did: the exit listener was added after the exit, which cost every run 2 s).

import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { createPacerShared, Pacer, PacerAck } from './pacer.ts';
import { nowMs } from './clock.ts';

describe('Pacer', () => {
  it('posts every wake of a short schedule, and stop() after its exit returns well inside the 2 s safety timeout', async () => {
    const shared = createPacerShared(1);
    const channel = new MessageChannel();
    const pacer = await Pacer.start(shared, { profile: { kind: 'constant', rate: 50, duration: '1s' }, arrivals: 'uniform', seed: 1 }, [channel.port1]);
    const ack = new PacerAck(shared, 0);
    let wakes = 0;
    channel.port2.on('message', () => {
      wakes++;
      ack.take(); // as a load worker does before pumping
    });
    pacer.begin(nowMs() + 50);
    await new Promise((r) => setTimeout(r, 1_600)); // the schedule ends at 1.05 s; the thread exits by itself
    const t0 = performance.now();
    await pacer.stop();
    const stopMs = performance.now() - t0;
    channel.port2.close();
    expect(wakes).toBeGreaterThan(40); // 50 arrivals, a few coalesced at most
    expect(stopMs).toBeLessThan(1_000);
  });
});
