// Retry storm with duplicated client order ids after timeouts: for each of `orders` client
// ids, a GTC order (3 % under the mark, so it rests) is sent with a client timeout of
// `timeoutMs` (short enough that many time out while the server still processes them),
// then retried at once `retries` times with the same newClientOrderId (fresh timestamp and
// signature, as a client library retries), plus one byte-identical resend (same signature).
// The server must create exactly one order per client id: retries of an id whose order is
// open answer 400 -4116 (ClientOrderId is duplicated), the identical resend 400 -1022 (the
// gateway's replay guard). `verify` counts open orders per client id: exactly 1 each.
//
// Binance semantics, kept by perpx: a client id is unique among OPEN orders only. A retry
// after the first order already FILLED or EXPIRED is a new order — idempotent retries of
// IOC/market orders need a fresh id per intent, which the README says.

import type { Fault, FaultContext } from '../fault.ts';
import { createTrader, errorCode, mapLimit, restingBidPrice, signedCall, signedOk } from '../signed-rest.ts';
import type { CallResult, Trader } from '../signed-rest.ts';
import { signedQuery } from '../../harness/binance-flow.ts';

export interface RetryStormOptions {
  symbol: string;
  orders: number;
  retries: number;
  /** Client timeout of the first attempt (ms). */
  timeoutMs: number;
  concurrency: number;
}

export interface RetryStormResult {
  clientIds: number;
  attempts: number;
  firstTimedOut: number;
  accepted: number;
  duplicateRejected: number;
  replayRejected: number;
  shed: number;
  timeouts: number;
  unexpected: number;
  firstUnexpected: string;
  /** Client ids of the bursts so far with other than exactly one open order right after their burst. */
  idsWrong: number;
}

export interface RetryStormFault extends Fault {
  result(): RetryStormResult;
  /** Open orders per client id of the last burst: ids with a count other than 1. */
  verify(ctx: Pick<FaultContext, 'serverUrl'>): Promise<{ ids: number; wrong: { cid: string; count: number }[] }>;
}

export function retryStormFault(o: RetryStormOptions): RetryStormFault {
  let trader: Trader | null = null;
  let burst = 0;
  let lastIds: string[] = [];
  const r: RetryStormResult = {
    clientIds: 0, attempts: 0, firstTimedOut: 0, accepted: 0, duplicateRejected: 0, replayRejected: 0, shed: 0, timeouts: 0, unexpected: 0, firstUnexpected: '', idsWrong: 0,
  };
  const count = (res: CallResult): void => {
    r.attempts++;
    const code = errorCode(res);
    if (res.status === 200) r.accepted++;
    else if (res.status === 400 && code === -4116) r.duplicateRejected++;
    else if (res.status === 400 && code === -1022) r.replayRejected++;
    else if (res.status === 503 && code === -1008) r.shed++;
    else if (res.status === 0 && (res.body as { timeout?: boolean }).timeout === true) r.timeouts++;
    else {
      r.unexpected++;
      if (r.firstUnexpected === '') r.firstUnexpected = `${res.status} ${JSON.stringify(res.body)}`;
    }
  };
  const verify = async (ctx: Pick<FaultContext, 'serverUrl'>): Promise<{ ids: number; wrong: { cid: string; count: number }[] }> => {
    if (trader === null) return { ids: 0, wrong: [] };
    const open = await signedOk(ctx.serverUrl, trader, 'GET', '/fapi/v1/openOrders', [['symbol', o.symbol]]) as { clientOrderId: string }[];
    const per = new Map<string, number>();
    for (const x of open) per.set(x.clientOrderId, (per.get(x.clientOrderId) ?? 0) + 1);
    const wrong = lastIds.map((cid) => ({ cid, count: per.get(cid) ?? 0 })).filter((x) => x.count !== 1);
    return { ids: lastIds.length, wrong };
  };
  return {
    name: 'retry-storm',
    describe: `${o.orders} orders, each retried ${o.retries}× with the same client id after a ${o.timeoutMs} ms client timeout, plus an identical resend`,
    result: () => ({ ...r }),
    async inject(ctx: FaultContext) {
      trader ??= await createTrader(ctx.serverUrl, ctx.adminToken, '1000000');
      const t = trader;
      burst++;
      const price = await restingBidPrice(ctx.serverUrl, o.symbol);
      const ids = Array.from({ length: o.orders }, (_, i) => `chaos-rs${burst}-${i}`);
      lastIds = ids;
      r.clientIds += ids.length;
      await mapLimit(ids, o.concurrency, async (cid) => {
        const params: [string, string][] = [
          ['symbol', o.symbol], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'GTC'], ['price', price], ['quantity', '0.003'], ['newClientOrderId', cid],
        ];
        const ts = Date.now();
        const first = await signedCall(ctx.serverUrl, t, 'POST', '/fapi/v1/order', params, { timestampMs: ts, timeoutMs: o.timeoutMs });
        if (first.status === 0) r.firstTimedOut++;
        count(first);
        // Retries with the same client id at once (fresh signature each), and one identical resend.
        const retries = Array.from({ length: o.retries }, (_, k) => signedCall(ctx.serverUrl, t, 'POST', '/fapi/v1/order', params, { timestampMs: ts + 1 + k, timeoutMs: 30_000 }));
        const q = signedQuery(params, 10_000, ts, t.secretKey);
        const replay = fetch(`${ctx.serverUrl}/fapi/v1/order?${q}`, { method: 'POST', headers: { 'x-mbx-apikey': t.apiKey }, signal: AbortSignal.timeout(30_000) })
          .then(async (res) => ({ status: res.status, body: await res.json() as unknown }), () => ({ status: 0, body: { timeout: true } }));
        for (const res of await Promise.all([...retries, replay])) count(res);
      });
      r.idsWrong += (await verify(ctx)).wrong.length;
      ctx.mark('note', `${r.attempts} attempts for ${r.clientIds} client ids: ${r.accepted} accepted, ${r.duplicateRejected} × -4116, ${r.replayRejected} × -1022, ${r.firstTimedOut} first attempts timed out; ${r.idsWrong} ids with ≠ 1 open order`);
    },
    async clear(ctx: FaultContext) {
      if (trader !== null) await signedCall(ctx.serverUrl, trader, 'DELETE', '/fapi/v1/allOpenOrders', [['symbol', o.symbol]]);
    },
    verify,
  };
}
