// report.html in a real browser (headless Debian Chromium through playwright-core) with no
// network: the synthetic run's report must render its charts with no request leaving file://,
// no failed request and no console error. A copy of the report with one external image is the
// control: the same check must catch it. (dashboards/test/live-page.test.ts does the same for
// the report of a real quick campaign.)

import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, renderReportOffline } from '../../dashboards/test/browser.ts';
import { writeReport } from '../report.ts';
import { syntheticResult } from '../synthetic.ts';

const tmp = mkdtempSync(join(tmpdir(), 'perpx-report-render-'));
let browser: Browser | null = null;

afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('report.html renders offline in Chromium', () => {
  it('without the Debian chromium binary the browser tests fail and say what to install', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow('/nonexistent/chromium is missing: the browser tests need Debian\'s chromium (apt-get install -y chromium; .ci/run installs it)');
  });

  it('draws every chart with no network, no failed request and no console error; an external reference is caught', async () => {
    browser = await launchChromium();
    const written = await writeReport(syntheticResult({ withServer: true }), tmp);
    const r = await renderReportOffline(browser, written.html);
    expect(r.problems).toEqual({ consoleErrors: [], pageErrors: [], failedRequests: [], foreignRequests: [] });
    expect(r.title).toContain('synthetic-steps');
    expect(r.charts.length).toBeGreaterThanOrEqual(6);
    for (const ch of r.charts) {
      expect(ch.widthPx, ch.title).toBeGreaterThan(100);
      expect(ch.heightPx, ch.title).toBeGreaterThan(50);
    }
    // The synthetic run has 32 one-second slices: rate and latency lines carry one point each.
    expect(r.charts.filter((ch) => ch.maxLinePoints >= 30).length).toBeGreaterThanOrEqual(2);
    // Stage chart present (the synthetic run has server stages).
    expect(r.charts.some((ch) => /stage/i.test(ch.title) && ch.maxLinePoints >= 10)).toBe(true);

    // Control: the same check sees a report that reaches for the network.
    const leaky = join(tmp, 'leaky.html');
    writeFileSync(leaky, readFileSync(written.html, 'utf8').replace('</body>', '<img src="https://example.invalid/pixel.png" alt=""></body>'));
    const bad = await renderReportOffline(browser, leaky);
    expect(bad.problems.foreignRequests).toEqual(['https://example.invalid/pixel.png']);
    expect(bad.problems.failedRequests.length).toBe(1);
  });
});
