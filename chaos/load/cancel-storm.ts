// Cancel storm: an account rests `orders` GTC orders 3 % under the mark (never filled), then
// a burst of DELETE /fapi/v1/order goes out `concurrency` at a time: every real order
// cancelled twice (by orderId and by client id, racing each other), plus `unknown` cancels of
// ids that never existed. The server must cancel each real order exactly once (one 200, the
// racing twin gets -2011), answer every unknown id with 400 -2011, shed nothing it should not
// (a 503 -1008 is counted, never a 5xx otherwise), and leave no open order behind.

import type { Fault, FaultContext } from '../fault.ts';
import { createTrader, errorCode, mapLimit, restingBidPrice, signedCall, signedOk } from '../signed-rest.ts';
import type { CallResult, Trader } from '../signed-rest.ts';

export interface CancelStormOptions {
  symbol: string;
  /** Real resting orders to cancel (≤ the symbol's 200 open orders per account). */
  orders: number;
  /** Cancels of ids that never existed. */
  unknown: number;
  concurrency: number;
}

export interface CancelStormResult {
  placed: number;
  cancels: number;
  /** Real orders cancelled (200) — must equal `placed`. */
  cancelled: number;
  /** Second cancel of a real order → -2011. */
  twinRejected: number;
  unknownRejected: number;
  shed: number;
  /** Anything else (a violation). */
  unexpected: number;
  openAfter: number;
  firstUnexpected: string;
  elapsedMs: number;
}

export interface CancelStormFault extends Fault {
  result(): CancelStormResult;
}

export function cancelStormFault(o: CancelStormOptions): CancelStormFault {
  let trader: Trader | null = null;
  let burst = 0;
  const r: CancelStormResult = {
    placed: 0, cancels: 0, cancelled: 0, twinRejected: 0, unknownRejected: 0, shed: 0, unexpected: 0, openAfter: 0, firstUnexpected: '', elapsedMs: 0,
  };
  const unexpected = (what: string, res: CallResult): void => {
    r.unexpected++;
    if (r.firstUnexpected === '') r.firstUnexpected = `${what}: ${res.status} ${JSON.stringify(res.body)}`;
  };
  return {
    name: 'cancel-storm',
    describe: `${o.orders} resting orders each cancelled twice at once, plus ${o.unknown} cancels of unknown ids, ${o.concurrency} in flight`,
    result: () => ({ ...r }),
    async inject(ctx: FaultContext) {
      trader ??= await createTrader(ctx.serverUrl, ctx.adminToken, '1000000');
      const t = trader;
      burst++;
      const price = await restingBidPrice(ctx.serverUrl, o.symbol);
      const placed = await mapLimit(Array.from({ length: o.orders }, (_, i) => i), 8, async (i) => {
        const cid = `chaos-cs${burst}-${i}`;
        const b = await signedOk(ctx.serverUrl, t, 'POST', '/fapi/v1/order', [
          ['symbol', o.symbol], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'GTC'], ['price', price], ['quantity', '0.003'], ['newClientOrderId', cid],
        ]) as { orderId: number };
        return { orderId: b.orderId, cid };
      });
      r.placed += placed.length;
      type Job = { kind: 'real' | 'unknown'; orderId: number; key: number; params: [string, string][] };
      const jobs: Job[] = [];
      for (const p of placed) {
        jobs.push({ kind: 'real', orderId: p.orderId, key: p.orderId, params: [['symbol', o.symbol], ['orderId', String(p.orderId)]] });
        jobs.push({ kind: 'real', orderId: p.orderId, key: p.orderId, params: [['symbol', o.symbol], ['origClientOrderId', p.cid]] });
      }
      for (let i = 0; i < o.unknown; i++) {
        const byId = ctx.rng() < 0.5;
        jobs.push({ kind: 'unknown', orderId: 0, key: -1, params: [['symbol', o.symbol], byId ? ['orderId', String(900_000_000 + Math.floor(ctx.rng() * 1e8))] : ['origClientOrderId', `chaos-never-${burst}-${i}`]] });
      }
      // Seeded shuffle so twins and unknowns interleave.
      for (let i = jobs.length - 1; i > 0; i--) {
        const j = Math.floor(ctx.rng() * (i + 1));
        [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
      }
      const cancelledIds = new Map<number, number>();
      const t0 = performance.now();
      await mapLimit(jobs, o.concurrency, async (job) => {
        const res = await signedCall(ctx.serverUrl, t, 'DELETE', '/fapi/v1/order', job.params, { timeoutMs: 30_000 });
        r.cancels++;
        const code = errorCode(res);
        if (res.status === 503 && code === -1008) r.shed++;
        else if (job.kind === 'real' && res.status === 200) {
          r.cancelled++;
          cancelledIds.set(job.key, (cancelledIds.get(job.key) ?? 0) + 1);
        } else if (job.kind === 'real' && res.status === 400 && code === -2011) r.twinRejected++;
        else if (job.kind === 'unknown' && res.status === 400 && code === -2011) r.unknownRejected++;
        else unexpected(job.kind, res);
      });
      r.elapsedMs += performance.now() - t0;
      for (const [id, n] of cancelledIds) if (n !== 1) unexpected(`order ${id} cancelled ${n} times`, { status: 200, body: null });
      const open = await signedOk(ctx.serverUrl, t, 'GET', '/fapi/v1/openOrders', [['symbol', o.symbol]]) as unknown[];
      r.openAfter = open.length;
      ctx.mark('note', `${r.cancels} cancels in ${r.elapsedMs.toFixed(0)} ms: ${r.cancelled} cancelled, ${r.twinRejected} twins -2011, ${r.unknownRejected} unknown -2011, ${r.shed} shed, ${r.unexpected} unexpected`);
    },
    async clear(ctx: FaultContext) {
      if (trader !== null) await signedCall(ctx.serverUrl, trader, 'DELETE', '/fapi/v1/allOpenOrders', [['symbol', o.symbol]]);
    },
  };
}
