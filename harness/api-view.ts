// The checker's ServerView over the Binance-compatible REST API: allOrders (paged by
// orderId) and openOrders per account with signed requests, totals from the admin API.

import { signedQuery } from './binance-flow.ts';
import type { OrderFacts, ServerTotals, ServerView } from './checker.ts';

export interface ApiViewOptions {
  baseUrl: string;
  adminToken: string;
  accounts: { apiKey: string; secretKey: string }[];
  /** The server's closed-order history per account; reaching it means older orders may be gone. */
  historyOrdersPerAccountMax: number;
}

const PAGE = 1000;

export function apiServerView(o: ApiViewOptions): ServerView {
  const truncated = new Map<string, boolean>();
  async function signedGet(account: number, path: string, params: [string, string][]): Promise<unknown> {
    const acct = o.accounts[account];
    if (acct === undefined) throw new Error(`checker: no credentials for account index ${account}`);
    const q = signedQuery(params, 10_000, Date.now(), acct.secretKey);
    const res = await fetch(`${o.baseUrl}${path}?${q}`, { headers: { 'x-mbx-apikey': acct.apiKey } });
    const body = await res.json() as unknown;
    if (!res.ok) throw new Error(`checker: GET ${path} → ${res.status} ${JSON.stringify(body)}`);
    return body;
  }
  const facts = (r: Record<string, unknown>): OrderFacts => ({
    orderId: Number(r.orderId), clientOrderId: String(r.clientOrderId), status: String(r.status), origQty: String(r.origQty), executedQty: String(r.executedQty),
  });
  return {
    async orders(account, symbol) {
      const out = new Map<string, OrderFacts>();
      // orderId=0 means "no from-id" (Binance: the newest `limit` orders); ids start at 1.
      let from = 1;
      let closed = 0;
      for (;;) {
        const page = await signedGet(account, '/fapi/v1/allOrders', [['symbol', symbol], ['orderId', String(from)], ['limit', String(PAGE)]]) as Record<string, unknown>[];
        for (const r of page) {
          const f = facts(r);
          out.set(f.clientOrderId, f);
          if (f.status !== 'NEW' && f.status !== 'PARTIALLY_FILLED') closed++;
          from = Math.max(from, f.orderId + 1);
        }
        if (page.length < PAGE) break;
      }
      truncated.set(`${account}:${symbol}`, closed >= o.historyOrdersPerAccountMax);
      return out;
    },
    async historyTruncated(account, symbol) {
      return truncated.get(`${account}:${symbol}`) ?? true;
    },
    async openOrders(account, symbol) {
      const page = await signedGet(account, '/fapi/v1/openOrders', [['symbol', symbol]]) as Record<string, unknown>[];
      return page.map(facts);
    },
    async totals(): Promise<ServerTotals> {
      const res = await fetch(`${o.baseUrl}/admin/v1/totals`, { headers: { 'x-perpx-admin': o.adminToken } });
      const t = await res.json() as { conserved: boolean; ledger: string; deposits: string; withdrawals: string; openInterest: { symbol: string; long: string; short: string }[] };
      if (!res.ok) throw new Error(`checker: GET /admin/v1/totals → ${res.status} ${JSON.stringify(t)}`);
      return { conserved: t.conserved, detail: `ledger ${t.ledger}, deposits ${t.deposits}, withdrawals ${t.withdrawals}`, openInterest: t.openInterest };
    },
  };
}
