// Headless Debian Chromium through playwright-core, for the browser tests (live run page,
// report rendering). No browser download: /usr/bin/chromium is the Debian package that
// .ci/run installs; without it the tests fail with a message saying so.

import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

// Functions passed to page.evaluate run in the browser. The project compiles without the DOM
// lib (it is Node code), so this file declares the two DOM globals it uses there, loosely.
declare const document: any;
declare const window: any;

export const CHROMIUM_PATH = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launchChromium(executablePath = CHROMIUM_PATH): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(`${executablePath} is missing: the browser tests need Debian's chromium (apt-get install -y chromium; .ci/run installs it)`);
  }
  return chromium.launch({ executablePath, args: ARGS });
}

/** What a page did that a self-contained page must not: errors on the console, uncaught exceptions, failed or foreign requests. */
export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
  /** Requests to anything but `allowedPrefix` (they are aborted). */
  foreignRequests: string[];
}

/**
 * Record what goes wrong on the page, and every request that does not start with
 * `allowedPrefix`; with `block`, such requests are also aborted (the report test: no network).
 */
export async function watchPage(page: Page, allowedPrefix: string, block: boolean): Promise<PageProblems> {
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], failedRequests: [], foreignRequests: [] };
  page.on('console', (m) => { if (m.type() === 'error') problems.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => problems.pageErrors.push(e.message));
  page.on('requestfailed', (r) => {
    // An EventSource closed by the page itself (run finished) is not a failure.
    if (r.failure()?.errorText === 'net::ERR_ABORTED' && r.url().endsWith('/events')) return;
    problems.failedRequests.push(`${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  const foreign = (url: string): boolean => !url.startsWith(allowedPrefix) && !url.startsWith('data:');
  page.on('request', (r) => { if (foreign(r.url())) problems.foreignRequests.push(r.url()); });
  if (block) await page.route('**/*', (route) => (foreign(route.request().url()) ? route.abort('blockedbyclient') : route.continue()));
  return problems;
}

export interface ReportRender {
  title: string;
  problems: PageProblems;
  /** One entry per svg.chart: its rendered size and the most points any one of its lines has. */
  charts: { title: string; widthPx: number; heightPx: number; maxLinePoints: number; marks: number }[];
}

/**
 * Open a report.html from disk in a context with no network (offline, and every request that
 * is not file:// aborted), wait for it to load, and describe what rendered. With
 * `screenshotPath`, save the top `screenshotHeightPx` of the page there.
 */
export async function renderReportOffline(browser: Browser, htmlFile: string, screenshot?: { path: string; heightPx: number; fromSelector?: string }): Promise<ReportRender> {
  const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 900 } });
  try {
    const page = await context.newPage();
    const problems = await watchPage(page, 'file://', true);
    await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
    const charts = await page.$$eval('svg.chart', (svgs) => svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      const points = [...svg.querySelectorAll('path, polyline')].map((p) => p.tagName === 'path' ? (p.getAttribute('d') ?? '').match(/[ML]/gi)?.length ?? 0 : (p.getAttribute('points') ?? '').trim().split(/\s+/).length);
      return {
        title: svg.getAttribute('aria-label') ?? '',
        widthPx: box.width,
        heightPx: box.height,
        maxLinePoints: Math.max(0, ...points),
        marks: svg.querySelectorAll('circle, rect').length,
      };
    }));
    const title = await page.title();
    if (screenshot !== undefined) {
      // From the top of `fromSelector` (e.g. the first chart's heading) down heightPx, within the page.
      const [topPx, pagePx] = await page.evaluate((sel) => {
        const el = sel === undefined ? null : document.querySelector(sel);
        return [el === null ? 0 : Math.max(0, el.getBoundingClientRect().top + window.scrollY - 8), document.documentElement.scrollHeight];
      }, screenshot.fromSelector);
      await page.screenshot({ path: screenshot.path, fullPage: true, clip: { x: 0, y: topPx, width: 1100, height: Math.min(pagePx - topPx, screenshot.heightPx) } });
    }
    return { title, problems, charts };
  } finally {
    await context.close();
  }
}
