// perpx profile cpu --quick end to end: the spike campaign against a server under
// node --cpu-prof; every thread's .cpuprofile has samples and the report lists its top
// functions and draws its flame graph.

import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProfile } from '../profile-run.ts';
import type { CpuProfile } from '../cpuprofile.ts';
import { escapeXml } from '../../../reports/svg.ts';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

const runsDir = mkdtempSync(join(tmpdir(), 'perpx-profile-cpu-'));
afterAll(() => rmSync(runsDir, { recursive: true, force: true }));

describe('perpx profile cpu --quick', () => {
  it('writes a .cpuprofile with samples per thread (gateway and engine) and a report section with their top functions', async () => {
    const r = await runProfile({ kind: 'cpu', quick: true, runsDir, id: 'cpu', log: () => {} });
    expect(r.ok).toBe(true);
    const spike = r.profiling.cpu![0]!;
    expect(spike.label).toBe('spike');
    expect(spike.threads.map((t) => t.thread).sort()).toEqual(['engine', 'gateway-0']);
    const html = readFileSync(r.reportHtml, 'utf8');
    for (const t of spike.threads) {
      const p = JSON.parse(readFileSync(join(r.dir, t.file), 'utf8')) as CpuProfile;
      expect(p.samples.length, t.file).toBeGreaterThan(100);
      expect(t.samples, `${t.thread} samples in the spike window`).toBeGreaterThan(0);
      expect(t.top.length).toBeGreaterThan(3);
      for (const f of t.top.slice(0, 3)) expect(html).toContain(`<td>${escapeXml(f.name)}</td>`);
    }
    // The engine thread ran the engine.
    expect(JSON.stringify(spike.threads.find((t) => t.thread === 'engine')!.flame)).toContain('engine.ts');
    expect(html.match(/<svg class="chart flame"/g)?.length).toBe(2);
    expect(html).toContain('CPU: spike');

    // speedscope's bundled page renders the engine profile offline (no network request).
    const engine = spike.threads.find((t) => t.thread === 'engine')!;
    expect(engine.speedscope).toBeDefined();
    if (!existsSync(CHROMIUM)) return;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      const remote: string[] = [];
      page.on('request', (req) => { if (!/^(file|data|blob):/.test(req.url())) remote.push(req.url()); });
      await page.goto(`file://${join(r.dir, engine.speedscope!)}`);
      await expect.poll(() => page.title(), { timeout: 30_000 }).toContain('cpu-engine.cpuprofile');
      expect(remote).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 300_000);
});
