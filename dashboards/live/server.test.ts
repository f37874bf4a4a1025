import { describe, it, expect, afterEach } from 'vitest';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLiveServer } from './server.ts';
import type { LiveServer } from './server.ts';
import { EMPTY_SUMMARY } from '../../harness/histogram.ts';

let live: LiveServer | null = null;
afterEach(async () => {
  await live?.close();
  live = null;
});

/** Read an SSE stream until `done(events so far)`; resolves with the [event, data] pairs, and `ended` with the stream's end. */
function readEvents(url: string, done: (events: [string, unknown][]) => boolean): { events: Promise<[string, unknown][]>; ended: Promise<void>; close: () => void } {
  let close = () => {};
  let ended: () => void = () => {};
  const endedP = new Promise<void>((r) => (ended = r));
  const events = new Promise<[string, unknown][]>((resolve, reject) => {
    const req = request(url, (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream');
      let buf = '';
      const out: [string, unknown][] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev !== undefined && data !== undefined) out.push([ev, JSON.parse(data)]);
          if (done(out)) resolve(out.slice());
        }
      });
      res.on('end', () => ended());
      res.on('close', () => ended());
      res.on('error', () => ended()); // our own close() or destroy()
    });
    req.on('error', reject);
    req.end();
    close = () => req.destroy();
  });
  return { events, ended: endedP, close };
}

describe('live server', () => {
  it('serves the self-contained page, a snapshot, and one delta per flush over SSE; closes the streams on close()', async () => {
    live = await startLiveServer({ flushMs: 50 });
    expect(live.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(live.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await page.text();
    expect(html).toContain('<svg class="chart" id="c-rate">');
    // Self-contained: no script or style from anywhere, no absolute URLs.
    expect(html).not.toMatch(/\bsrc=|<link|https?:\/\//);

    live.start({ startMs: Date.now(), scenario: 'unit', target: 'http://127.0.0.1:1', durationS: 10 });
    live.progress({ second: 1, phase: 'steady', offeredRps: 100, sentRps: 99, completedRps: 98, inFlight: 1, backlog: 0, p99Ms: 2, errors: 0, lagMaxMs: 0.1, slices: [] });
    // Deltas carry what arrived since the previous flush; a page merges them by time, so a point
    // in both the snapshot and the next delta is the same point. Read until the second progress.
    const stream = readEvents(`${live.url}events`, (evs) => evs.some(([e, d]) => e === 'delta' && JSON.stringify(d).includes('[2,101]')));
    for (let waitedMs = 0; live.clientCount() === 0 && waitedMs < 10_000; waitedMs += 10) await new Promise((r) => setTimeout(r, 10));
    expect(live.clientCount()).toBe(1);
    live.pushEvent({ tS: 1.5, kind: 'inject', fault: 'sigkill', detail: 'unit' });
    live.progress({ second: 2, phase: 'steady', offeredRps: 100, sentRps: 101, completedRps: 100, inFlight: 1, backlog: 0, p99Ms: 2, errors: 0, lagMaxMs: 0.1,
      slices: [{ second: 0, corrected: { ...EMPTY_SUMMARY, count: 5, p99Ms: 3 }, service: { ...EMPTY_SUMMARY }, errorsByCode: {} }] });
    const evs = await stream.events;
    const [e1, snap] = evs[0] as [string, { series: Record<string, unknown>; status: { scenario: string } }];
    const [e2, delta] = evs.at(-1) as [string, { series: Record<string, unknown>; events: unknown[] }];
    expect(e1).toBe('snapshot');
    expect(snap.status.scenario).toBe('unit');
    expect(snap.series['rate/sent']).toEqual([[1, 99]]);
    expect(e2).toBe('delta');
    expect(evs.slice(1).every(([e]) => e === 'delta')).toBe(true);
    // The first progress may still be pending when the client connects: then it is in the
    // snapshot and again in the next delta (the page merges points by time). Anything before the
    // new point must be a point the snapshot already had.
    const sent = delta.series['rate/sent'] as [number, number][];
    expect(sent.at(-1)).toEqual([2, 101]);
    for (const p of sent.slice(0, -1)) expect(snap.series['rate/sent']).toContainEqual(p);
    expect(delta.series['lat/corrected/p99']).toEqual([[1, 3]]);
    expect(delta.events).toEqual([{ tS: 1.5, kind: 'inject', fault: 'sigkill', detail: 'unit' }]);

    const state = await (await fetch(`${live.url}state.json`)).json() as { series: Record<string, [number, number][]> };
    expect(state.series['rate/sent']).toEqual([[1, 99], [2, 101]]);
    expect((await fetch(`${live.url}nope`)).status).toBe(404);
    expect((await fetch(live.url, { method: 'POST' })).status).toBe(405);

    await live.close();
    await stream.ended;
    expect(live.clientCount()).toBe(0);
    await expect(fetch(live.url)).rejects.toThrow();
  });

  it('after finish, serves the run directory (report and what it links) and nothing outside it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'perpx-live-server-'));
    try {
      const runDir = join(root, 'run');
      mkdirSync(join(runDir, 'profiles'), { recursive: true });
      writeFileSync(join(runDir, 'report.html'), '<html><body><a href="profiles/cpu.cpuprofile">cpu</a></body></html>');
      writeFileSync(join(runDir, 'profiles', 'cpu.cpuprofile'), '{"nodes":[]}');
      writeFileSync(join(root, 'secret.txt'), 'outside');
      symlinkSync(join(root, 'secret.txt'), join(runDir, 'link.txt'));
      live = await startLiveServer();
      expect((await fetch(`${live.url}report`)).status).toBe(404);
      live.finish({ result: null, verdict: 'PASS', reportFile: join(runDir, 'report.html') });
      const report = await fetch(`${live.url}report`);
      expect(report.url).toBe(`${live.url}run/report.html`);
      expect(report.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
      expect(await report.text()).toContain('profiles/cpu.cpuprofile');
      const profile = await fetch(`${live.url}run/profiles/cpu.cpuprofile`);
      expect(profile.headers.get('content-type')).toBe('application/json');
      expect(await profile.text()).toBe('{"nodes":[]}');
      for (const bad of ['run/../secret.txt', 'run/%2e%2e/secret.txt', 'run/..%2fsecret.txt', 'run/link.txt', 'run/profiles', 'run/%E0%A4%A']) {
        const r = await fetch(`${live.url}${bad}`);
        expect(r.status, bad).toBe(404);
        expect(await r.text(), bad).not.toContain('outside');
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses SSE clients beyond maxClients', async () => {
    live = await startLiveServer({ maxClients: 1 });
    const first = readEvents(`${live.url}events`, (evs) => evs.length === 1);
    await first.events;
    expect((await fetch(`${live.url}events`)).status).toBe(503);
    first.close();
  });

  it('a taken port is an error, not a silent other port', async () => {
    live = await startLiveServer();
    await expect(startLiveServer({ port: live.port })).rejects.toThrow(/EADDRINUSE/);
  });
});
