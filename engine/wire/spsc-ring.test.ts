// The ring must deliver every message once, in order, byte-exact, across wrap-around and
// whatever interleaving of writes, publishes and drains happens; and refuse (not corrupt)
// when full. Single-threaded interleavings are explored with fast-check; one test runs a
// real producer thread.

import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createRing, RingConsumer, RingProducer } from './spsc-ring.ts';

describe('SPSC ring', () => {
  it('delivers random messages in order across wrap-around and full rings', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.record({ k: fc.constant('write' as const), len: fc.integer({ min: 0, max: 100 }) }), fc.constant({ k: 'publish' as const }), fc.constant({ k: 'drain' as const })), { maxLength: 400 }),
      fc.constantFrom(64, 128, 256),
      (ops, cap) => {
        const r = createRing(cap);
        const p = new RingProducer(r);
        const c = new RingConsumer(r);
        const sent: number[][] = [];
        const committed: number[][] = [];
        const got: number[][] = [];
        let seq = 0;
        for (const op of ops) {
          if (op.k === 'write') {
            if (4 + ((op.len + 3) & ~3) + 4 > cap) continue;
            const off = p.reserve(op.len);
            if (off < 0) continue; // full: refused
            const msg = Array.from({ length: op.len }, (_, i) => (seq * 31 + i) & 255);
            seq++;
            p.bytes.set(msg, off);
            p.commit(off, op.len);
            committed.push(msg);
          } else if (op.k === 'publish') {
            p.publish();
            sent.push(...committed.splice(0));
          } else {
            c.drain((off, len) => got.push(Array.from(c.bytes.subarray(off, off + len))));
          }
        }
        p.publish();
        sent.push(...committed.splice(0));
        c.drain((off, len) => got.push(Array.from(c.bytes.subarray(off, off + len))));
        expect(got).toEqual(sent);
        expect(p.usedBytes()).toBe(0);
      }), { numRuns: 300 });
  });

  it('hands 200,000 messages from a producer thread to this thread intact', async () => {
    const r = createRing(4096);
    const src = `
      const { workerData } = require('node:worker_threads');
      const { sab, capacityBytes, n } = workerData;
      const ctl = new Int32Array(sab, 0, 16);
      const view = new DataView(sab, 64, capacityBytes);
      // Minimal producer mirroring RingProducer (plain JS: eval workers do not strip types).
      let head = 0; const mask = capacityBytes - 1;
      for (let i = 0; i < n; i++) {
        for (;;) {
          const tail = Atomics.load(ctl, 1) >>> 0;
          let off = head & mask; const contiguous = capacityBytes - off; const need = 8;
          const wrap = contiguous < need ? contiguous : 0;
          if (((head - tail) >>> 0) + wrap + need > capacityBytes) { Atomics.store(ctl, 0, head | 0); continue; }
          if (wrap) { view.setUint32(off, 0xffffffff, true); head = (head + contiguous) >>> 0; off = 0; }
          view.setUint32(off, 4, true); view.setUint32(off + 4, i, true); head = (head + 8) >>> 0; break;
        }
        if ((i & 63) === 63) { Atomics.store(ctl, 0, head | 0); Atomics.notify(ctl, 0); }
      }
      Atomics.store(ctl, 0, head | 0); Atomics.notify(ctl, 0);
    `;
    const n = 200_000;
    const w = new Worker(src, { eval: true, workerData: { sab: r.sab, capacityBytes: r.capacityBytes, n } });
    const c = new RingConsumer(r);
    let expected = 0;
    let bad = 0;
    while (expected < n) {
      const got = c.drain((off, len) => {
        if (len !== 4 || c.view.getUint32(off, true) !== expected) bad++;
        expected++;
      });
      if (got === 0) await c.waitForDataAsync(20);
    }
    await w.terminate();
    expect(bad).toBe(0);
    expect(expected).toBe(n);
  });
});
