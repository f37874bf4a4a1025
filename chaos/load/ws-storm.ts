// WebSocket reconnect storm: `clients` WebSockets to market streams (depth, trades,
// bookTicker, over the raw, combined and split paths) and to user-data streams (listen keys
// of accounts created at the first inject) all connect at once, hold for `holdMs`, are cut
// without a close handshake (as a network drop does) and reconnect at once — `cycles` times,
// or until the fault clears. `clear` terminates every socket it opened and waits for them.
// The server must accept every upgrade up to its connection limit (a 503 -1008 beyond is
// a correct answer, counted apart) and its open-connection gauge must fall back afterwards.

import WebSocket from 'ws';
import type { Fault, FaultContext } from '../fault.ts';
import { createTrader, openListenKey } from '../signed-rest.ts';
import { sleepMs } from '../market/sleep.ts';

export interface WsStormOptions {
  clients: number;
  /** Share of clients on user-data streams (0..1). */
  userShare: number;
  /** Accounts whose listen keys the user-data clients share. */
  userAccounts?: number;
  holdMs: number;
  /** Bound on reconnect cycles per injection. */
  cycles: number;
  connectTimeoutMs?: number;
}

export interface WsStormResult {
  cycles: number;
  attempts: number;
  opened: number;
  /** Upgrades refused with an HTTP status (503 = connection limit). */
  refused: number;
  errors: number;
  timeouts: number;
  messages: number;
  /** Upgrade latency of accepted connections (ms): p50, p99, max over all cycles. */
  connectMsP50: number;
  connectMsP99: number;
  connectMsMax: number;
  firstError: string;
}

export interface WsStormFault extends Fault {
  result(): WsStormResult;
  /** Resolves when the bounded cycles are done (or the fault was cleared). */
  finished(): Promise<void>;
}

const MARKET_PATHS = [
  '/ws/btcusdt@depth@100ms',
  '/stream?streams=btcusdt@trade/btcusdt@bookTicker',
  '/market/ws/btcusdt@aggTrade',
  '/public/stream?streams=btcusdt@depth5@100ms/btcusdt@markPrice@1s',
];

function wsUrl(httpUrl: string, path: string): string {
  return httpUrl.replace(/^http/, 'ws') + path;
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export function wsReconnectStormFault(o: WsStormOptions): WsStormFault {
  const open = new Set<WebSocket>();
  const connectMs: number[] = [];
  const listenKeys: string[] = [];
  let running = false;
  let loop: Promise<void> = Promise.resolve();
  let stop = new AbortController();
  const r: WsStormResult = {
    cycles: 0, attempts: 0, opened: 0, refused: 0, errors: 0, timeouts: 0, messages: 0, connectMsP50: 0, connectMsP99: 0, connectMsMax: 0, firstError: '',
  };
  const connectOne = (url: string): Promise<void> => new Promise((resolve) => {
    r.attempts++;
    const t0 = performance.now();
    const ws = new WebSocket(url, { handshakeTimeout: o.connectTimeoutMs ?? 10_000 });
    open.add(ws);
    let settled = false;
    const settle = (): void => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    ws.on('open', () => {
      r.opened++;
      connectMs.push(performance.now() - t0);
      settle();
    });
    ws.on('message', () => { r.messages++; });
    ws.on('unexpected-response', (_req, res) => {
      r.refused++;
      res.resume();
      ws.terminate();
      settle();
    });
    ws.on('error', (e) => {
      if (/timed out/i.test(e.message)) r.timeouts++;
      else r.errors++;
      if (r.firstError === '') r.firstError = e.message;
      settle();
    });
    ws.on('close', () => {
      open.delete(ws);
      settle();
    });
  });
  const dropAll = (): void => {
    for (const ws of open) ws.terminate();
  };
  const result = (): WsStormResult => {
    const s = [...connectMs].sort((a, b) => a - b);
    return { ...r, connectMsP50: percentile(s, 0.5), connectMsP99: percentile(s, 0.99), connectMsMax: s.length === 0 ? 0 : s[s.length - 1]! };
  };
  return {
    name: 'ws-reconnect-storm',
    describe: `${o.clients} WebSockets (${Math.round(o.userShare * 100)} % user streams) connect at once, drop without a close and reconnect, every ${o.holdMs} ms`,
    result,
    finished: () => loop,
    async inject(ctx: FaultContext) {
      if (listenKeys.length === 0 && o.userShare > 0) {
        const n = Math.max(1, o.userAccounts ?? 4);
        for (let i = 0; i < n; i++) listenKeys.push(await openListenKey(ctx.serverUrl, await createTrader(ctx.serverUrl, ctx.adminToken, '1000')));
      }
      const urls = Array.from({ length: o.clients }, (_, i) => {
        const user = ctx.rng() < o.userShare && listenKeys.length > 0;
        return wsUrl(ctx.serverUrl, user ? `/ws/${listenKeys[i % listenKeys.length]}` : MARKET_PATHS[i % MARKET_PATHS.length]!);
      });
      running = true;
      stop = new AbortController();
      const firstCycle = Promise.all(urls.map(connectOne));
      loop = (async () => {
        await firstCycle;
        r.cycles++;
        while (running && r.cycles < o.cycles && !ctx.signal.aborted) {
          await sleepMs(o.holdMs, stop.signal);
          if (!running) break;
          dropAll();
          await Promise.all(urls.map(connectOne));
          r.cycles++;
        }
      })();
      await firstCycle; // in effect once the first wave is up
      ctx.mark('note', `first wave: ${r.opened}/${r.attempts} open, ${r.refused} refused`);
    },
    async clear(ctx: FaultContext) {
      const wasRunning = running;
      running = false;
      stop.abort();
      await loop;
      dropAll();
      const deadline = Date.now() + 5_000;
      while (open.size > 0 && Date.now() < deadline) await sleepMs(20);
      const x = result();
      if (wasRunning) ctx.mark('note', `${r.cycles} cycles, ${r.opened}/${r.attempts} opened, ${r.refused} refused, ${r.errors} errors; connect p99 ${x.connectMsP99.toFixed(1)} ms`);
    },
  };
}
