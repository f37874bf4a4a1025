// End to end: a real quick campaign (`runCampaign({ quick: true, live })`: embedded perpx
// serve, 12 s spike, checker, report) feeds the live run page, which headless Debian Chromium
// (playwright-core) shows. Asserts that the charts draw points, that the figures move while the
// run goes on, that fault markers pushed through `pushEvent` appear, that the page makes no
// request but to its own server, and that the server stops with the run. Then opens that run's
// report.html with no network at all and checks that it renders.
//
// Screenshots go to the test's temporary directory; with PERPX_UPDATE_SCREENSHOTS=1 they go to
// docs/live-run.png and docs/report.png (the ones the README shows).

import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, renderReportOffline, watchPage } from './browser.ts';
import { startLiveServer } from '../live/server.ts';
import type { LiveServer } from '../live/server.ts';
import { runCampaign } from '../../harness/campaign.ts';
import type { CampaignResult } from '../../harness/campaign.ts';

// Functions passed to page.evaluate run in the browser. The project compiles without the DOM
// lib (it is Node code), so this file declares the DOM global it uses there, loosely.
declare const document: any;

const REPO = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'perpx-live-page-'));
const shotDir = process.env.PERPX_UPDATE_SCREENSHOTS === '1' ? join(REPO, 'docs') : tmp;
mkdirSync(shotDir, { recursive: true });

let browser: Browser | null = null;
let live: LiveServer | null = null;
const abort = new AbortController();
let campaign: Promise<CampaignResult> | null = null;
let finished: CampaignResult | null = null;

afterAll(async () => {
  abort.abort();
  await campaign?.catch(() => undefined);
  await live?.close();
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface PageRead {
  second: number;
  tiles: Record<string, string>;
  /** data-key → number of points drawn (lines) or bars drawn (stacked bars). */
  points: Record<string, number>;
  bands: number;
}

function readPage(page: Page): Promise<PageRead> {
  return page.evaluate(() => {
    const tiles: Record<string, string> = {};
    for (const e of document.querySelectorAll('[data-tile]')) tiles[e.dataset.tile!] = e.textContent ?? '';
    const points: Record<string, number> = {};
    for (const e of document.querySelectorAll('svg.chart [data-key]')) points[e.dataset.key!] = Number(e.dataset.points);
    return { second: parseInt(tiles.second ?? '0', 10), tiles, points, bands: document.querySelectorAll('svg#c-rate rect.band').length };
  });
}

const waitForSecond = (page: Page, s: number): Promise<unknown> =>
  page.waitForFunction((n) => parseInt(document.querySelector('[data-tile=second]')?.textContent ?? '0', 10) >= n, s, { timeout: 150_000, polling: 200 });

describe('live run page (perpx run --live) in headless Chromium', () => {
  it('draws the run as it goes: charts with points, moving figures, fault markers, no foreign requests', async () => {
    const t0 = Date.now();
    browser = await launchChromium();
    live = await startLiveServer();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = await watchPage(page, live.url, false);
    await page.goto(live.url);
    await page.waitForFunction(() => document.getElementById('conn')?.textContent?.startsWith('live') === true, null, { timeout: 20_000 });
    expect(live.clientCount()).toBe(1);
    expect(await page.textContent('#state')).toBe('waiting');

    const logs: string[] = [];
    campaign = runCampaign({ quick: true, runsDir: join(tmp, 'runs'), live, signal: abort.signal, log: (l) => logs.push(l) });
    campaign.catch(() => undefined);

    // First read in the base phase (100/s), second read inside the 10x spike (seconds 4-8).
    await waitForSecond(page, 2);
    const a = await readPage(page);
    live.pushEvent({ tS: a.second + 1, kind: 'inject', fault: 'marker-test', detail: 'pushed by live-page.test.ts; nothing was injected' });
    await waitForSecond(page, a.second + 5);
    live.pushEvent({ tS: a.second + 4, kind: 'clear', fault: 'marker-test', detail: 'pushed by live-page.test.ts' });
    const b = await readPage(page);
    expect(b.second).toBeGreaterThan(a.second);
    expect(a.points['rate/sent']).toBeGreaterThanOrEqual(1);
    expect(b.points['rate/sent']).toBeGreaterThan(a.points['rate/sent']!);
    expect(b.points['rate/offered']).toBeGreaterThan(a.points['rate/offered']!);
    // The schedule itself moves: 100/s at the start, 1,000/s in the spike.
    expect(b.tiles.offered).not.toBe(a.tiles.offered);
    expect(b.tiles.second).not.toBe(a.tiles.second);

    // Latency seconds arrive once all their requests completed; stages with the 1 Hz scrape.
    await page.waitForFunction(() => {
      const n = (sel: string) => Math.max(0, ...[...document.querySelectorAll(sel)].map((e) => Number(e.dataset.points)));
      return n('#c-lat [data-key="lat/corrected/p99"]') >= 2 && n('#c-lat [data-key="lat/service/p99"]') >= 2 && n('#c-stage path.line') >= 2 && n('#c-elu path.line') >= 2;
    }, null, { timeout: 60_000, polling: 250 });
    await page.waitForFunction(() => document.querySelectorAll('svg#c-rate rect.band').length === 1 && document.getElementById('events')!.textContent!.includes('marker-test'), null, { timeout: 10_000 });

    finished = await campaign;
    await page.waitForFunction(() => ['PASS', 'FAIL', 'INVALID'].includes(document.getElementById('state')?.textContent ?? ''), null, { timeout: 20_000 });
    const c = await readPage(page);
    expect(await page.textContent('#state')).toBe(finished.exitCode === 0 ? 'PASS' : finished.exitCode === 3 ? 'INVALID' : 'FAIL');
    // After the run every second of the 12 s profile has its latency (filled in from the result).
    expect(c.points['lat/corrected/p99']).toBeGreaterThanOrEqual(12);
    expect(c.points['lat/corrected/p999']).toBeGreaterThanOrEqual(12);
    expect(c.points['rate/completed']).toBeGreaterThanOrEqual(10);
    expect(Object.keys(c.points).filter((k) => k.startsWith('stage/')).length).toBeGreaterThanOrEqual(2);
    expect(c.bands).toBe(1);
    expect(await page.locator('#stages tbody tr').count()).toBeGreaterThanOrEqual(2);
    // The page shows the same totals as the result (errors by code).
    const errorsTotal = Object.values(finished.result.totals.errors).reduce((x, y) => x + y, 0);
    expect((await page.textContent('[data-tile=errors]'))!.replace(/,/g, '')).toBe(String(errorsTotal));
    // The finished page links the report, which the live server serves while it runs.
    expect(await page.getAttribute('#report a', 'href')).toBe('/report');
    const report = await page.request.get(`${live.url}report`);
    expect(report.status()).toBe(200);
    expect(await report.text()).toContain('<svg');

    const shot = join(shotDir, 'live-run.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');

    expect(problems).toEqual({ consoleErrors: [], pageErrors: [], failedRequests: [], foreignRequests: [] });
    await context.close();
    await live.close();
    expect(live.clientCount()).toBe(0);
    await expect(fetch(live.url)).rejects.toThrow();
    process.stderr.write(`live page test: ${((Date.now() - t0) / 1000).toFixed(1)} s; run ${finished.result.id} ${finished.analysis.verdict}; screenshot ${shot} (${statSync(shot).size} bytes)\n`);
  });

  it('the run\'s report.html renders with no network: charts drawn, no failed requests, no console errors', async () => {
    if (finished === null || browser === null) throw new Error('the live run above did not finish, so there is no report to open');
    const shot = join(shotDir, 'report.png');
    const r = await renderReportOffline(browser, finished.files.html, { path: shot, heightPx: 1700, fromSelector: 'h2:has(+ svg.chart)' });
    expect(r.problems).toEqual({ consoleErrors: [], pageErrors: [], failedRequests: [], foreignRequests: [] });
    expect(r.title).toContain('spike-quick');
    expect(r.charts.length).toBeGreaterThanOrEqual(4);
    for (const ch of r.charts) {
      expect(ch.widthPx, ch.title).toBeGreaterThan(100);
      expect(ch.heightPx, ch.title).toBeGreaterThan(50);
    }
    // Rate and latency over the 12 s run: lines with a point per second.
    expect(r.charts.filter((ch) => ch.maxLinePoints >= 10).length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    process.stderr.write(`report render test: ${r.charts.length} charts; screenshot ${shot} (${statSync(shot).size} bytes)\n`);
  });
});
