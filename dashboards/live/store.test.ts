import { describe, it, expect } from 'vitest';
import { LiveStore } from './store.ts';
import type { Progress, SliceProgress } from '../../harness/load.ts';
import { EMPTY_SUMMARY } from '../../harness/histogram.ts';

const progress = (second: number, slices: SliceProgress[] = []): Progress => ({
  second, phase: 'steady', offeredRps: 100 + second, sentRps: 99, completedRps: 98, inFlight: 3, backlog: 0, p99Ms: null, errors: 0, lagMaxMs: 0.5, slices,
});
const slice = (second: number, p99Ms: number, errorsByCode: Record<string, number> = {}): SliceProgress => ({
  second, corrected: { ...EMPTY_SUMMARY, count: 10, p50Ms: 1, p99Ms, p999Ms: p99Ms * 2 }, service: { ...EMPTY_SUMMARY }, errorsByCode,
});

describe('LiveStore', () => {
  it('keeps only the last windowS seconds of every series and of the events', () => {
    const store = new LiveStore({ windowS: 30 });
    for (let s = 1; s <= 200; s++) {
      store.addProgress(progress(s, [slice(s - 1, s)]));
      store.pushEvent({ tS: s, kind: 'note', fault: 'f' });
    }
    const snap = store.snapshot();
    for (const [name, pts] of Object.entries(snap.series)) {
      expect(pts.length, name).toBeLessThanOrEqual(31);
      expect(pts[0]![0], name).toBeGreaterThanOrEqual(200 - 30);
    }
    expect(snap.series['rate/offered']!.at(-1)).toEqual([200, 300]);
    expect(snap.series['lat/corrected/p99']!.at(-1)).toEqual([200, 200]);
    expect(snap.events.length).toBeLessThanOrEqual(31);
  });

  it('inserts late seconds in time order, skips empty latency seconds, and sums errors by code', () => {
    const store = new LiveStore();
    store.addProgress(progress(3, [slice(2, 5, { '400:-2011': 2 }), slice(0, 7, { timeout: 1 })]));
    store.addProgress(progress(4, [slice(1, 6, { '400:-2011': 3 }), { ...slice(3, 9), corrected: { ...EMPTY_SUMMARY } }]));
    const snap = store.snapshot();
    expect(snap.series['lat/corrected/p99']).toEqual([[1, 7], [2, 6], [3, 5]]);
    expect(snap.series['lat/service/p99']).toBeUndefined();
    expect(snap.status.errorsTotal).toEqual({ '400:-2011': 5, timeout: 1 });
    expect(snap.series['err/400:-2011']).toEqual([[2, 3], [3, 2]]);
  });

  it('flush returns only what arrived since the previous flush', () => {
    const store = new LiveStore();
    store.addProgress(progress(1));
    store.addLog('hello');
    const first = store.flush();
    expect(first.series['rate/sent']).toEqual([[1, 99]]);
    expect(first.log).toEqual(['hello']);
    store.addProgress(progress(2));
    store.pushEvent({ tS: 1.5, kind: 'inject', fault: 'sigkill', detail: 'pid 1' });
    const second = store.flush();
    expect(second.series['rate/sent']).toEqual([[2, 99]]);
    expect(second.events).toEqual([{ tS: 1.5, kind: 'inject', fault: 'sigkill', detail: 'pid 1' }]);
    expect(second.log).toEqual([]);
    expect(store.flush().series).toEqual({});
  });

  it('takes the scrape points stamped at tS only, and refuses malformed events', () => {
    const store = new LiveStore();
    const series = {
      stages: { host_round_trip: { p99Ms: { tS: [2], values: [9] } }, engine_apply: { p50Ms: { tS: [1, 2], values: [0.1, 0.2] }, p99Ms: { tS: [1, 2], values: [1, 2] } }, journal_wait: { p99Ms: { tS: [1], values: [4] } } },
      elu: { main: { tS: [2], values: [0.4] } },
    };
    store.addServerScrape(series, 2);
    const snap = store.snapshot();
    expect(snap.series['stage/engine_apply/p99']).toEqual([[2, 2]]);
    expect(snap.series['stage/engine_apply/p50']).toEqual([[2, 0.2]]);
    expect(snap.series['stage/journal_wait/p99']).toBeUndefined();
    expect(snap.series['stage/host_round_trip/p99']).toBeUndefined();
    expect(snap.series['elu/main']).toEqual([[2, 0.4]]);
    expect(() => store.pushEvent({ tS: NaN, kind: 'inject', fault: 'x' })).toThrow(/finite tS/);
  });

  it('caps the number of series', () => {
    const store = new LiveStore({ maxSeries: 3 });
    for (let i = 0; i < 10; i++) store.add(`err/${i}`, 1, 1);
    expect(Object.keys(store.snapshot().series)).toHaveLength(3);
    expect(store.droppedPoints).toBe(7);
  });
});
