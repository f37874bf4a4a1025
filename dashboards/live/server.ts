// The live run page's server: `perpx run --live` starts one on 127.0.0.1, feeds it the load
// coordinator's per-second progress, the 1 Hz /metrics scrape and fault events, and stops it
// when the run ends. The page (page.html, self-contained: inline JS and SVG, no external
// requests) gets a snapshot and then one delta per second over Server-Sent Events.
//
//   const live = await startLiveServer({ port: 0 });
//   console.log(live.url);                  // http://127.0.0.1:<port>/
//   await runCampaign({ quick: true, live });
//   live.pushEvent({ tS: 12.5, kind: 'inject', fault: 'sigkill', detail: 'pid 1234' }); // e.g. from chaos
//   await live.close();
//
// Routes (GET only): /  the page · /state.json  the current snapshot · /events  SSE
// (event "snapshot" first, then "delta" each second) · once the run has finished, /report
// (redirect) and /run/<file>: the run directory's files (report.html and what it links, e.g.
// CPU profiles), nothing outside it. Bound to 127.0.0.1 only: the page has no authentication.

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createReadStream, readFileSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { LiveStore } from './store.ts';
import type { LiveEvent, LiveStoreLimits } from './store.ts';
import type { Progress } from '../../harness/load.ts';
import type { RunResult, ServerSeries } from '../../harness/result.ts';

export type { LiveEvent } from './store.ts';

/** What a run pushes into the live page (harness/campaign.ts takes one as `live`). */
export interface LiveSink {
  /** The load is about to start (times of every later call are relative to `startMs`). */
  start(info: { startMs: number; scenario: string; target: string; durationS: number }): void;
  /** The load coordinator's progress (harness/load.ts onProgress). */
  progress(p: Progress): void;
  /** After each /metrics scrape (harness/server-scrape.ts onScrape). */
  serverScrape(series: Readonly<ServerSeries>, tS: number): void;
  /** A fault marker: chaos/fault.ts FaultEvent (inject/clear/detect/recover/note) fits. */
  pushEvent(e: LiveEvent): void;
  log(line: string): void;
  /** The run is over; `reportFile` and the files of its directory are served under /run/. */
  finish(r: { result: RunResult | null; verdict: string; reportFile?: string }): void;
}

export interface LiveServer extends LiveSink {
  /** http://127.0.0.1:<port>/ */
  readonly url: string;
  readonly port: number;
  readonly store: LiveStore;
  /** Number of pages connected over SSE right now. */
  clientCount(): number;
  /** End every SSE stream, stop the timer, close the listener. Idempotent. */
  close(): Promise<void>;
}

export interface LiveServerOptions extends LiveStoreLimits {
  /** 0 (default) = any free port. */
  port?: number;
  /** How often deltas go to the pages (default 1000 ms). */
  flushMs?: number;
  /** SSE connections accepted at once (default 16). */
  maxClients?: number;
}

const PAGE_HTML = readFileSync(new URL('./page.html', import.meta.url), 'utf8');

// The page may talk to this server only; the served report may not talk to anything.
const PAGE_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:";
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
// Other pages in a run directory (speedscope, clinic) run their own inline scripts; still nothing external.
const RUN_FILE_CSP = "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:";
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.md': 'text/markdown; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.xml': 'application/xml', '.ndjson': 'application/x-ndjson', '.log': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8', '.cpuprofile': 'application/json', '.heapprofile': 'application/json', '.js': 'text/javascript', '.css': 'text/css',
};

/** The file under `dir` that `rel` names, or null if it would leave `dir` (.., symlinks) or does not exist. */
async function fileInside(dir: string, rel: string): Promise<string | null> {
  try {
    const root = await realpath(dir);
    const file = await realpath(join(root, decodeURIComponent(rel)));
    return file.startsWith(root + sep) ? file : null;
  } catch {
    return null;
  }
}
const HEARTBEAT_MS = 15_000;

export async function startLiveServer(opts: LiveServerOptions = {}): Promise<LiveServer> {
  const store = new LiveStore(opts);
  const flushMs = opts.flushMs ?? 1000;
  const maxClients = opts.maxClients ?? 16;
  const clients = new Set<ServerResponse>();
  let closed = false;

  const send = (res: ServerResponse, event: string, data: unknown): void => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end('GET only\n');
      return;
    }
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': PAGE_CSP }).end(PAGE_HTML);
    } else if (path === '/state.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(store.snapshot()));
    } else if (path === '/events') {
      if (clients.size >= maxClients || closed) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('too many live pages\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 2000\n\n');
      send(res, 'snapshot', store.snapshot());
      clients.add(res);
      req.on('close', () => clients.delete(res));
    } else if (path === '/report' && store.status.reportFile !== undefined) {
      res.writeHead(302, { location: `/run/${encodeURIComponent(basename(store.status.reportFile))}` }).end();
    } else if (path.startsWith('/run/') && store.status.reportFile !== undefined) {
      const reportFile = store.status.reportFile;
      void fileInside(dirname(reportFile), path.slice('/run/'.length)).then(async (file) => {
        if (file === null) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not in the run directory\n');
          return;
        }
        if (!(await stat(file)).isFile()) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not a file\n');
          return;
        }
        const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
        const csp = file === (await realpath(reportFile)) ? REPORT_CSP : RUN_FILE_CSP;
        res.writeHead(200, { 'content-type': type, 'content-security-policy': csp, 'x-content-type-options': 'nosniff' });
        // Streamed: history.ndjson of a long run is large.
        createReadStream(file).on('error', () => res.destroy()).pipe(res);
      }).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('could not read the file\n');
      });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  };

  const server = createServer(handle);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let lastBeatMs = Date.now();
  const flush = (): void => {
    const delta = store.flush();
    const now = Date.now();
    for (const res of clients) send(res, 'delta', delta);
    if (now - lastBeatMs >= HEARTBEAT_MS) {
      for (const res of clients) res.write(': ping\n\n');
      lastBeatMs = now;
    }
  };
  const timer = setInterval(flush, flushMs);

  const live: LiveServer = {
    url: `http://127.0.0.1:${port}/`,
    port,
    store,
    start(info) {
      store.status.scenario = info.scenario;
      store.status.target = info.target;
      store.status.durationS = info.durationS;
      store.status.state = 'running';
    },
    progress: (p) => store.addProgress(p),
    serverScrape: (series, tS) => store.addServerScrape(series, tS),
    pushEvent: (e) => store.pushEvent(e),
    log: (line) => store.addLog(line),
    finish(r) {
      store.finish(r.result, r.verdict, r.reportFile);
      flush();
    },
    clientCount: () => clients.size,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      flush();
      for (const res of clients) res.end();
      clients.clear();
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
    },
  };
  return live;
}
