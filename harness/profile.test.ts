// Proves the arrival-rate profiles and the arrival schedule: every profile kind compiles to the
// rates it declares; the cumulative count Λ and its closed-form inverse agree (property test
// over random piecewise-linear profiles); uniform arrivals split across W workers interleave to
// exactly the single-generator schedule; Poisson arrivals follow the profile within statistical
// bounds; k6 stages reproduce the profile.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileProfile, rateAt, cumulativeAt, inverseCumulative, offeredPerSlice, toK6Stages, phaseAt } from './profile.ts';
import type { Profile } from './profile.ts';
import { ArrivalSchedule } from './arrivals.ts';
import { parseDurationS } from './duration.ts';

function arrivals(p: Profile, mode: 'uniform' | 'poisson', w: number, W: number, seed = 1): { tS: number; seq: number }[] {
  const s = new ArrivalSchedule(compileProfile(p), mode, w, W, seed);
  const out: { tS: number; seq: number }[] = [];
  while (s.tS !== Infinity) {
    out.push({ tS: s.tS, seq: s.seq });
    s.advance();
  }
  return out;
}

describe('durations', () => {
  it('parses seconds, units and compound forms; rejects garbage with a one-line message', () => {
    expect(parseDurationS(30, 'x')).toBe(30);
    expect(parseDurationS('500ms', 'x')).toBe(0.5);
    expect(parseDurationS('2m', 'x')).toBe(120);
    expect(parseDurationS('1m30s', 'x')).toBe(90);
    expect(parseDurationS('1.5', 'x')).toBe(1.5);
    expect(() => parseDurationS('10 parsecs', 'profile.duration')).toThrow(/profile.duration: bad duration/);
    expect(() => parseDurationS(-1, 'd')).toThrow(/>= 0/);
  });
});

describe('profiles', () => {
  it('constant, ramp, spike, step, sine and soak compile to the declared rates', () => {
    const c = compileProfile({ kind: 'constant', rate: 100, duration: '10s' });
    expect(c.durationS).toBe(10);
    expect(c.totalArrivals).toBe(1000);
    expect(rateAt(c, 5)).toBe(100);

    const r = compileProfile({ kind: 'ramp', from: 0, to: 200, duration: 10 });
    expect(rateAt(r, 5)).toBeCloseTo(100);
    expect(r.totalArrivals).toBeCloseTo(1000);

    const sp = compileProfile({ kind: 'spike', base: 100, peak: 1000, duration: 30, spikeAt: 10, spikeDuration: 5, rampTime: 1 });
    expect(rateAt(sp, 5)).toBe(100);
    expect(rateAt(sp, 10.5)).toBeCloseTo(550);
    expect(rateAt(sp, 13)).toBe(1000);
    expect(rateAt(sp, 20)).toBe(100);
    expect(phaseAt(sp, 13)).toBe('spike');
    expect(sp.peakRps).toBe(1000);

    const st = compileProfile({ kind: 'step', from: 100, step: 50, steps: 4, stepDuration: '5s' });
    expect([2, 7, 12, 17].map((t) => rateAt(st, t))).toEqual([100, 150, 200, 250]);
    expect(st.durationS).toBe(20);

    const si = compileProfile({ kind: 'sine', mean: 500, amplitude: 400, period: 8, duration: 16 });
    expect(rateAt(si, 2)).toBeCloseTo(900, 0);
    expect(rateAt(si, 6)).toBeCloseTo(100, 0);
    expect(si.totalArrivals).toBeCloseTo(500 * 16, 0);

    const so = compileProfile({ kind: 'soak', rate: 300, duration: '1m', rampUp: '10s' });
    expect(rateAt(so, 5)).toBeCloseTo(150);
    expect(rateAt(so, 30)).toBe(300);
  });

  it('rejects bad profiles with a message naming the field', () => {
    expect(() => compileProfile({ kind: 'constant', rate: -1, duration: 1 })).toThrow(/constant.rate/);
    expect(() => compileProfile({ kind: 'nope' } as unknown as Profile)).toThrow(/profile.kind must be one of/);
    expect(() => compileProfile({ kind: 'sine', mean: 10, amplitude: 20, period: 1, duration: 1 })).toThrow(/amplitude/);
    expect(() => compileProfile({ kind: 'spike', base: 1, peak: 2, duration: 5, spikeAt: 4, spikeDuration: 3 })).toThrow(/exceeds duration/);
    expect(() => compileProfile({ kind: 'constant', rate: 10, duration: 0 })).toThrow(/duration must be > 0/);
  });

  it('Λ⁻¹(Λ(t)) = t on random piecewise-linear profiles (property)', () => {
    const stage = fc.record({ target: fc.integer({ min: 0, max: 5000 }), duration: fc.double({ min: 0.01, max: 20, noNaN: true }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.array(stage, { minLength: 1, maxLength: 8 }), fc.double({ min: 0, max: 1, noNaN: true }), (startRate, stages, frac) => {
        const p = compileProfile({ kind: 'stages', startRate, stages });
        const t = frac * p.durationS;
        const m = cumulativeAt(p, t);
        if (rateAt(p, t) === 0 || m === 0) return; // Λ is flat there: the inverse is any point of the plateau
        const [back] = inverseCumulative(p, m, 0);
        expect(Math.abs(back - t)).toBeLessThan(1e-6 * Math.max(1, p.durationS));
      }),
      { numRuns: 300 },
    );
  });

  it('exports k6 stages (a jump becomes a 0 s stage) that reproduce the profile', () => {
    const st = compileProfile({ kind: 'step', from: 100, step: 100, steps: 3, stepDuration: 5 });
    const k6 = toK6Stages(st);
    expect(k6.startRate).toBe(100);
    expect(k6.stages).toEqual([
      { target: 100, duration: '5s' }, { target: 200, duration: '0s' }, { target: 200, duration: '5s' },
      { target: 300, duration: '0s' }, { target: 300, duration: '5s' },
    ]);
    const back = compileProfile({ kind: 'stages', startRate: k6.startRate, stages: k6.stages });
    for (const t of [1, 4.9, 5.1, 9, 12]) expect(rateAt(back, t)).toBe(rateAt(st, t));
  });

  it('offered per slice sums to the total', () => {
    const p = compileProfile({ kind: 'spike', base: 10, peak: 100, duration: 7.5, spikeAt: 2, spikeDuration: 2, rampTime: 0.5 });
    const per = offeredPerSlice(p);
    expect(per).toHaveLength(8);
    expect(per.reduce((a, b) => a + b, 0)).toBeCloseTo(p.totalArrivals, 9);
  });
});

describe('arrival schedule', () => {
  it('uniform: exactly rate × duration arrivals at (k + ½)/rate', () => {
    const a = arrivals({ kind: 'constant', rate: 100, duration: 3 }, 'uniform', 0, 1);
    expect(a).toHaveLength(300);
    expect(a[0]!.tS).toBeCloseTo(0.005);
    expect(a[299]!.tS).toBeCloseTo(2.995);
    a.forEach((x, i) => expect(x.seq).toBe(i));
  });

  it('uniform split across W workers interleaves to exactly the single-worker schedule (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 400 }), (W, from, to) => {
        const p: Profile = { kind: 'ramp', from, to, duration: 2 };
        const single = arrivals(p, 'uniform', 0, 1);
        const merged = Array.from({ length: W }, (_, w) => arrivals(p, 'uniform', w, W)).flat().sort((x, y) => x.seq - y.seq);
        expect(merged.map((x) => x.seq)).toEqual(single.map((x) => x.seq));
        merged.forEach((x, i) => expect(x.tS).toBeCloseTo(single[i]!.tS, 9));
      }),
      { numRuns: 60 },
    );
  });

  it('poisson: counts per second follow the profile within 5 σ, times never go backwards, seeds replay', () => {
    const p: Profile = { kind: 'step', from: 500, step: 1500, steps: 2, stepDuration: 4 };
    const W = 3;
    const all = Array.from({ length: W }, (_, w) => arrivals(p, 'poisson', w, W, 42)).flat();
    const perSecond = new Array<number>(8).fill(0);
    for (const x of all) perSecond[Math.floor(x.tS)]!++;
    perSecond.forEach((n, s) => {
      const expected = s < 4 ? 500 : 2000;
      expect(Math.abs(n - expected)).toBeLessThan(5 * Math.sqrt(expected));
    });
    for (let w = 0; w < W; w++) {
      const mine = arrivals(p, 'poisson', w, W, 42);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.tS).toBeGreaterThanOrEqual(mine[i - 1]!.tS);
      expect(arrivals(p, 'poisson', w, W, 42)).toEqual(mine);
    }
    expect(new Set(all.map((x) => x.seq)).size).toBe(all.length);
  });
});
