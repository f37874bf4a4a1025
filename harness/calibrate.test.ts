// Measurement truth, short version of `perpx calibrate` (12 s). The built-in target imposes
// 20 ms + Exp(10 ms) per request with a capacity of 64 and freezes for 500 ms at t = 4 s; it
// records what it did per request. The generator (2 workers × 16 in flight, 500 req/s uniform)
// must report p50/p90/p99/p99.9 within 5% of that truth for both the corrected latency and the
// service time, send within 1% of the offered rate, and show the stall in the corrected
// latency but not in the service time (which is what a coordinated-omission-prone tool sees).
//
// Why these tolerances hold at 12 s: the truth and the report measure the same ~6,000
// requests, so there is no sampling error between them — only loopback transit and parsing
// (≈0.1–0.5 ms, 1–2% of a 27 ms median). The designed distribution's own p99.9 is not gated: at
// 6,000 samples its sampling error alone is ±4%.

import { describe, expect, it } from 'vitest';
import { runCalibration, formatCalibration } from './calibrate.ts';
import { finishTimeMs, designedQuantileMs } from './calibration-model.ts';

describe('calibration model', () => {
  it('freezes service during the stall', () => {
    expect(finishTimeMs(0, 10, 100, 50)).toBe(10); // before the stall
    expect(finishTimeMs(95, 10, 100, 50)).toBe(155); // in service when it starts: 50 ms later
    expect(finishTimeMs(120, 10, 100, 50)).toBe(160); // arrives during it: starts at its end
    expect(finishTimeMs(150, 10, 100, 50)).toBe(160); // after it
    expect(finishTimeMs(95, 10, 100, 0)).toBe(105); // no stall
    expect(designedQuantileMs(20, 10, 50)).toBeCloseTo(20 + 10 * Math.LN2);
  });
});

describe('perpx calibrate (short)', () => {
  it('reports percentiles within 5% and the rate within 1% of the truth, with the stall visible only when corrected', async () => {
    // The tolerances are a claim about a generator that kept its schedule. When the suite's other
    // files starve it (2 cores; seen in CI: lag p99 20 ms, service p99 +24%), the generator marks
    // its own run invalid — the designed answer — and a run that is both invalid and outside the
    // tolerances is repeated, up to three runs in all. A valid run outside the tolerances fails
    // at once; so does the third run if it is still outside them.
    const attemptsMax = 3;
    const within = (r: Awaited<ReturnType<typeof runCalibration>>): boolean =>
      [...r.checks.corrected, ...r.checks.service].every((c) => c.relError <= 0.05) && r.rate.relError <= 0.01;
    let report = await runCalibration({ durationS: 12, rateRps: 500, workers: 2, maxInFlightPerWorker: 16, stallAtS: 4, stallMs: 500, historyDir: null });
    for (let attempt = 2; !report.generator.valid && !within(report) && attempt <= attemptsMax; attempt++) {
      console.warn(`calibration run ${attempt - 1}: generator invalid (${report.generator.invalidReasons.join('; ')}) and outside the tolerances; running again`);
      report = await runCalibration({ durationS: 12, rateRps: 500, workers: 2, maxInFlightPerWorker: 16, stallAtS: 4, stallMs: 500, historyDir: null });
    }
    const text = formatCalibration(report);
    console.log(text);
    if (!report.generator.valid) console.warn(`generator marked invalid on this run: ${report.generator.invalidReasons.join('; ')}`);
    for (const c of [...report.checks.corrected, ...report.checks.service]) {
      expect(c.relError, `p${c.percentile}: ${c.reportedMs} vs ${c.truthMs}`).toBeLessThanOrEqual(0.05);
    }
    expect(report.rate.relError).toBeLessThanOrEqual(0.01);
    expect(report.requests.missing).toBe(0);
    expect(report.stall.visibleInCorrected).toBe(true);
    expect(report.stall.hiddenInService).toBe(true);
    expect(report.stall.correctedMaxMs).toBeGreaterThan(450);
    expect(report.stall.serviceP99Ms).toBeLessThan(125);
    expect(report.generator.capBlockedSends).toBeGreaterThan(100);
  }, 300_000);
});
