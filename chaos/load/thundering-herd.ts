// Thundering herd at spike start: `connections` brand-new clients open at the same instant
// — each its own TCP connection (no keep-alive pool to hide behind) with one request:
// a share signed new orders (IOC far under the mark: accepted, never filled, no state left),
// the rest public reads (depth, ticker, time) — `waves` times, `everyMs` apart. What is
// measured: how many completed, were shed (503 -1008), failed at the socket or timed out,
// and the time from the herd's start to its last answer. Nothing outlives the wave: each
// request closes its connection, and `clear` waits for stragglers.

import { request } from 'node:http';
import type { Fault, FaultContext } from '../fault.ts';
import { createTrader, premiumIndex } from '../signed-rest.ts';
import type { Trader } from '../signed-rest.ts';
import { signedQuery } from '../../harness/binance-flow.ts';
import { sleepMs } from '../market/sleep.ts';
import { percentile } from './ws-storm.ts';

export interface HerdOptions {
  connections: number;
  /** Share of signed orders (0..1); the rest are public GETs. */
  orderShare: number;
  waves: number;
  everyMs: number;
  timeoutMs?: number;
}

export interface HerdResult {
  waves: number;
  requests: number;
  ok: number;
  shed: number;
  /** Other 4xx/5xx answers. */
  otherStatus: number;
  socketErrors: number;
  timeouts: number;
  /** Start of a wave to its last answer (ms): the worst wave. */
  waveMsMax: number;
  latencyMsP50: number;
  latencyMsP99: number;
  firstError: string;
}

export interface HerdFault extends Fault {
  result(): HerdResult;
  /** Resolves when every wave is done (or the fault was cleared). */
  finished(): Promise<void>;
}

const PUBLIC_PATHS = ['/fapi/v1/depth?symbol=BTCUSDT&limit=100', '/fapi/v1/ticker/bookTicker?symbol=BTCUSDT', '/fapi/v1/time', '/fapi/v1/premiumIndex?symbol=BTCUSDT'];

/** One request on its own fresh connection (agent: false, Connection: close). */
function oneShot(url: URL, method: string, path: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; body: string; error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, method, path, agent: false, headers: { ...headers, connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < 4096) body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, error: '' }));
      res.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
    req.end();
  });
}

export function thunderingHerdFault(o: HerdOptions): HerdFault {
  let trader: Trader | null = null;
  let running = false;
  let loop: Promise<void> = Promise.resolve();
  let stop = new AbortController();
  const lat: number[] = [];
  const herdId = Date.now().toString(36); // client ids unique across runs on one server
  const r: HerdResult = {
    waves: 0, requests: 0, ok: 0, shed: 0, otherStatus: 0, socketErrors: 0, timeouts: 0, waveMsMax: 0, latencyMsP50: 0, latencyMsP99: 0, firstError: '',
  };
  const result = (): HerdResult => {
    const s = [...lat].sort((a, b) => a - b);
    return { ...r, latencyMsP50: percentile(s, 0.5), latencyMsP99: percentile(s, 0.99) };
  };
  const wave = async (ctx: FaultContext, t: Trader, price: string): Promise<void> => {
    const url = new URL(ctx.serverUrl);
    const t0 = performance.now();
    const jobs = Array.from({ length: o.connections }, (_, i) => {
      const signed = ctx.rng() < o.orderShare;
      let path: string;
      let headers: Record<string, string> = {};
      if (signed) {
        const cid = `chaos-herd-${herdId}-${r.waves}-${i}`;
        const q = signedQuery([['symbol', 'BTCUSDT'], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'IOC'], ['price', price], ['quantity', '0.003'], ['newClientOrderId', cid]], 10_000, Date.now(), t.secretKey);
        path = `/fapi/v1/order?${q}`;
        headers = { 'x-mbx-apikey': t.apiKey };
      } else path = PUBLIC_PATHS[i % PUBLIC_PATHS.length]!;
      const s0 = performance.now();
      return oneShot(url, signed ? 'POST' : 'GET', path, headers, o.timeoutMs ?? 10_000).then((res) => {
        r.requests++;
        if (res.status >= 200 && res.status < 300) {
          r.ok++;
          lat.push(performance.now() - s0);
        } else if (res.status === 503) r.shed++;
        else if (res.status > 0) {
          r.otherStatus++;
          if (r.firstError === '') r.firstError = `${res.status} ${res.body.slice(0, 200)}`;
        } else if (res.error === 'timeout') r.timeouts++;
        else {
          r.socketErrors++;
          if (r.firstError === '') r.firstError = res.error;
        }
      });
    });
    await Promise.all(jobs);
    r.waves++;
    r.waveMsMax = Math.max(r.waveMsMax, performance.now() - t0);
  };
  return {
    name: 'thundering-herd',
    describe: `${o.connections} new connections at the same instant (${Math.round(o.orderShare * 100)} % signed orders), ${o.waves} wave(s) ${o.everyMs} ms apart`,
    result,
    finished: () => loop,
    async inject(ctx: FaultContext) {
      trader ??= await createTrader(ctx.serverUrl, ctx.adminToken, '1000000');
      const t = trader;
      const mark = Number((await premiumIndex(ctx.serverUrl, 'BTCUSDT')).markPrice);
      const price = (Math.round(mark * 0.97 * 10) / 10).toFixed(1);
      running = true;
      stop = new AbortController();
      const first = wave(ctx, t, price);
      loop = (async () => {
        await first;
        for (let w = 1; w < o.waves && running && !ctx.signal.aborted; w++) {
          await sleepMs(o.everyMs, stop.signal);
          if (!running) break;
          await wave(ctx, t, price);
        }
      })();
      await first;
      ctx.mark('note', `first wave: ${r.ok}/${r.requests} ok, ${r.shed} shed, ${r.socketErrors} socket errors in ${r.waveMsMax.toFixed(0)} ms`);
    },
    async clear(ctx: FaultContext) {
      const wasRunning = running;
      running = false;
      stop.abort();
      await loop;
      const x = result();
      if (wasRunning) ctx.mark('note', `${r.waves} waves: ${r.ok}/${r.requests} ok, ${r.shed} shed, ${r.otherStatus} other, ${r.socketErrors} socket errors, ${r.timeouts} timeouts; worst wave ${r.waveMsMax.toFixed(0)} ms, p99 ${x.latencyMsP99.toFixed(1)} ms`);
    },
  };
}
