// Proves `perpx load max` against the calibration target with a known capacity: 4 requests in
// service at once, 50 ms each, so a closed model cannot exceed 80 req/s and connections beyond
// 4 only queue (p99 grows by ~50 ms per extra 4 connections). The capacity search must pick the
// step at the knee when a p99 limit is given, its throughput must not exceed the truth, every
// response must be in the per-second slices, and the report must carry the capacity table.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCalibrationTarget } from './calibrate.ts';
import type { TargetHandle } from './calibrate.ts';
import { runLoadMax } from './load-max.ts';
import { normalizeScenario } from './scenario.ts';
import { buildReport } from '../reports/report.ts';

const CAPACITY = 4;
const FIXED_MS = 50;
const TRUTH_RPS = (CAPACITY * 1000) / FIXED_MS;

let target: TargetHandle;
let dir: string;
beforeAll(async () => {
  target = await startCalibrationTarget({ fixedMs: FIXED_MS, expMeanMs: 0, capacity: CAPACITY, seed: 1, stallAtS: 0, stallMs: 0, maxRecords: 1 });
  target.start(Date.now());
  dir = mkdtempSync(join(tmpdir(), 'perpx-loadmax-'));
});
afterAll(async () => {
  await target.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('perpx load max (closed model)', () => {
  it('finds the knee of a target with known capacity and reports it', async () => {
    const scenario = normalizeScenario({
      name: 'known-capacity', profile: { kind: 'constant', rate: 1, duration: 1 }, request: { factory: 'static', path: '/', op: 'get' },
      thresholds: ['error_rate < 1%'],
    });
    const r = await runLoadMax({ scenario, target: target.url, connections: [2, 4, 16], stepDurationS: 2, maxP99Ms: 2.5 * FIXED_MS });
    const [c2, c4, c16] = r.capacity.steps;
    // Throughput never beats the target's truth (a little slack for the step edges).
    for (const s of r.capacity.steps) expect(s.throughputRps).toBeLessThanOrEqual(TRUTH_RPS * 1.05);
    // Beyond the target's capacity connections only queue: p99 at 16 is ~4 service times.
    expect(c16!.p99Ms).toBeGreaterThan(2.5 * FIXED_MS);
    expect(c16!.within).toBe(false);
    expect(c2!.p50Ms).toBeGreaterThanOrEqual(FIXED_MS);
    expect(c4!.within).toBe(true);
    expect(r.capacity.capacityConnections).toBe(4);
    expect(r.capacity.capacityRps).toBe(c4!.throughputRps);
    // Every response is in exactly one per-second slice and in the totals.
    const sliced = r.series.completed.reduce((a, b) => a + b, 0);
    expect(sliced).toBe(r.totals.completed);
    expect(r.latency.service.count).toBe(r.totals.completed);
    expect(r.totals.ok).toBe(r.totals.completed);
    expect(r.thresholds[0]).toMatchObject({ pass: true });
    const { html, markdown, analysis } = buildReport(r);
    expect(html).toContain('Capacity (closed (autocannon 9))');
    expect(markdown).toMatch(/\| 4 \| [\d,]+ req\/s \|.*yes — capacity \|/);
    expect(analysis.findings.some((f) => /^capacity ≈ [\d,]+ req\/s at 4 connections/.test(f.title))).toBe(true);
    expect(markdown).toContain('coordinated omission');
  });

  it('says so when no step meets the criterion', async () => {
    const scenario = normalizeScenario({ name: 'tight', profile: { kind: 'constant', rate: 1, duration: 1 }, request: { factory: 'static', path: '/' } });
    const r = await runLoadMax({ scenario, target: target.url, connections: [8], stepDurationS: 1, maxP99Ms: 1 });
    expect(r.capacity.capacityRps).toBeNull();
    expect(r.findings![0]).toMatchObject({ severity: 'critical' });
  });
});
