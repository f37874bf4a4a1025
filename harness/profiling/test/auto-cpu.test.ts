// perpx run's automatic CPU profile: short profiles from the spike onset, the worst-p99
// window kept, its files written and linked from a diagnosis finding.

import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCampaign, spikeScenario } from '../../campaign.ts';
import { spikeOnsetS, windowP99Ms, AUTO_CPU_WINDOWS_MAX } from '../auto-cpu.ts';
import { syntheticResult } from '../../../reports/synthetic.ts';
import { cpuAnchorId } from '../types.ts';

const runsDir = mkdtempSync(join(tmpdir(), 'perpx-auto-cpu-'));
afterAll(() => rmSync(runsDir, { recursive: true, force: true }));

describe('automatic CPU profile of the worst latency window', () => {
  it('finds the spike onset and a window p99', () => {
    expect(spikeOnsetS(spikeScenario([], false))).toBe(35);
    expect(spikeOnsetS(spikeScenario([], true))).toBe(4);
    const r = syntheticResult();
    const p99 = r.series.corrected.p99Ms;
    expect(windowP99Ms(r, 2, 4)).toBe(Math.max(p99[2]!, p99[3]!));
    expect(windowP99Ms(r, 1000, 1002)).toBeNull();
  });

  it('perpx run --quick keeps one window, writes its profiles and links them from the diagnosis', async () => {
    const out = await runCampaign({ quick: true, runsDir, id: 'auto', log: () => {} });
    const block = out.result.profiling?.cpu?.find((c) => c.label.includes('automatic'));
    expect(block, JSON.stringify(out.result.notes)).toBeDefined();
    expect(block!.candidates!.length).toBeGreaterThanOrEqual(1);
    expect(block!.candidates!.length).toBeLessThanOrEqual(AUTO_CPU_WINDOWS_MAX);
    const worst = Math.max(...block!.candidates!.map((c) => c.p99Ms ?? -1));
    expect(block!.p99Ms).toBe(worst);
    expect(block!.threads.map((t) => t.thread).sort()).toEqual(['engine', 'gateway-0']);
    for (const t of block!.threads) expect(existsSync(join(out.dir, t.file))).toBe(true);
    const finding = out.analysis.findings.find((f) => f.title.startsWith('CPU profile of the worst latency window'));
    expect(finding?.link?.href).toBe(`#${cpuAnchorId(block!.label)}`);
    const html = readFileSync(out.files.html, 'utf8');
    expect(html).toContain(`id="${cpuAnchorId(block!.label)}"`);
    expect(html).toContain(`href="#${cpuAnchorId(block!.label)}"`);
  }, 300_000);
});
