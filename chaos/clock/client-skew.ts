// Client clock skew past recvWindow: while the fault lasts, a client whose clock is off by
// `skewMs` (alternately ahead and behind, each past the server's rule: ahead by ≥ 1 s, or
// behind by more than recvWindow) sends signed new-order requests at `ratePerS`. Every one
// must be answered 400 {code:-1021} and must change nothing: `verify` looks each client id
// up and expects "Order does not exist" (-2013). The orders would rest far from the market,
// so one that slipped through would be found.

import type { Fault, FaultContext } from '../fault.ts';
import { createTrader, errorCode, premiumIndex, signedCall } from '../signed-rest.ts';
import type { Trader } from '../signed-rest.ts';
import { sleepMs } from '../market/sleep.ts';

export interface ClientSkewOptions {
  symbol: string;
  /** How far past the allowed window the client clock is (ms, > 0). */
  skewPastWindowMs: number;
  recvWindowMs: number;
  ratePerS: number;
  /** Safety bound on requests per injection. */
  maxRequests?: number;
  /** Use this account (default: one created at the first inject). */
  trader?: Trader;
}

export interface ClientSkewResult {
  sent: number;
  /** Answered 400 with code -1021. */
  rejected1021: number;
  /** Answered anything else (a 2xx here is a violation). */
  other: number;
  accepted: number;
  timeouts: number;
  clientIds: string[];
}

export interface ClientSkewFault extends Fault {
  result(): ClientSkewResult;
  /** Look every client id up; returns the ones the server knows (must be none). */
  verify(ctx: Pick<FaultContext, 'serverUrl'>): Promise<string[]>;
}

export function clientSkewFault(o: ClientSkewOptions): ClientSkewFault {
  let trader: Trader | null = null;
  let running = false;
  let loop: Promise<void> = Promise.resolve();
  let stop = new AbortController();
  const r: ClientSkewResult = { sent: 0, rejected1021: 0, other: 0, accepted: 0, timeouts: 0, clientIds: [] };
  let n = 0;
  return {
    name: 'client-skew',
    describe: `a client ${o.skewPastWindowMs} ms past recvWindow ${o.recvWindowMs} ms (ahead and behind) sends ${o.ratePerS} orders/s`,
    result: () => ({ ...r, clientIds: [...r.clientIds] }),
    async inject(ctx: FaultContext) {
      trader ??= o.trader ?? await createTrader(ctx.serverUrl, ctx.adminToken, '100000');
      const t = trader;
      // 3 % under the mark: inside the 5 % price band, so an accepted order would rest (and be found).
      const index = Number((await premiumIndex(ctx.serverUrl, o.symbol)).markPrice);
      const price = (Math.round(index * 0.97 * 10) / 10).toFixed(1);
      running = true;
      stop = new AbortController();
      const max = o.maxRequests ?? 10_000;
      loop = (async () => {
        const t0 = Date.now();
        while (running && !ctx.signal.aborted && r.sent < max) {
          const ahead = n % 2 === 0;
          // Ahead: the server rejects ts ≥ now + 1000. Behind: now − ts > recvWindow.
          const skew = ahead ? 1000 + o.skewPastWindowMs : -(o.recvWindowMs + o.skewPastWindowMs);
          const cid = `chaos-skew-${ahead ? 'a' : 'b'}-${n++}`;
          r.clientIds.push(cid);
          r.sent++;
          const res = await signedCall(ctx.serverUrl, t, 'POST', '/fapi/v1/order', [
            ['symbol', o.symbol], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'GTC'], ['price', price], ['quantity', '0.01'], ['newClientOrderId', cid],
          ], { timestampMs: Date.now() + skew, recvWindowMs: o.recvWindowMs, timeoutMs: 5_000 });
          if (res.status === 400 && errorCode(res) === -1021) r.rejected1021++;
          else {
            r.other++;
            if (res.status >= 200 && res.status < 300) r.accepted++;
            if (res.status === 0) r.timeouts++;
          }
          await sleepMs(t0 + (r.sent * 1000) / o.ratePerS - Date.now(), stop.signal);
        }
      })();
      ctx.mark('note', `skewed client sending (±${o.skewPastWindowMs} ms past the window)`);
    },
    async clear(ctx: FaultContext) {
      if (!running) return; // idempotent: already cleared
      running = false;
      stop.abort();
      await loop;
      if (r.sent > 0) ctx.mark('note', `skewed client: ${r.sent} sent, ${r.rejected1021} × -1021, ${r.other} other, ${r.accepted} accepted`);
    },
    async verify(ctx) {
      if (trader === null) return [];
      const found: string[] = [];
      for (const cid of r.clientIds) {
        const res = await signedCall(ctx.serverUrl, trader, 'GET', '/fapi/v1/order', [['symbol', o.symbol], ['origClientOrderId', cid]]);
        if (!(res.status === 400 && errorCode(res) === -2013)) found.push(cid);
      }
      return found;
    },
  };
}
