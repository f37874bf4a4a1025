// A small signed Binance REST client for chaos faults and their tests: one call = one HTTP
// request, answered as { status, body } (never throws on a 4xx/5xx: the faults count them).
// The timestamp is a parameter so a fault can skew a client's clock on purpose.

import { adminPost } from '../harness/embedded-server.ts';
import { signedQuery } from '../harness/binance-flow.ts';
import { parsePrometheus } from '../harness/server-scrape.ts';

export interface Trader {
  accountId: number;
  apiKey: string;
  secretKey: string;
}

export interface CallOptions {
  /** Client clock for the signature (default Date.now()). */
  timestampMs?: number;
  recvWindowMs?: number;
  /** Client-side timeout; a timed-out call answers status 0, body { timeout: true }. */
  timeoutMs?: number;
}

export interface CallResult {
  status: number;
  body: unknown;
}

/** Binance {code,msg} of an error body, or 0. */
export function errorCode(r: CallResult): number {
  const b = r.body as { code?: unknown } | null;
  return b !== null && typeof b === 'object' && typeof b.code === 'number' ? b.code : 0;
}

export async function signedCall(baseUrl: string, t: Trader, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string,
  params: [string, string][], o: CallOptions = {}): Promise<CallResult> {
  const q = signedQuery(params, o.recvWindowMs ?? 10_000, o.timestampMs ?? Date.now(), t.secretKey);
  try {
    const res = await fetch(`${baseUrl}${path}?${q}`, {
      method, headers: { 'x-mbx-apikey': t.apiKey }, signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    return { status: res.status, body: text.length === 0 ? null : JSON.parse(text) as unknown };
  } catch (e) {
    const name = (e as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') return { status: 0, body: { timeout: true } };
    return { status: 0, body: { error: (e as Error).message } };
  }
}

/** Like signedCall but throws with the server's answer unless 2xx (set-up steps). */
export async function signedOk(baseUrl: string, t: Trader, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string,
  params: [string, string][]): Promise<unknown> {
  const r = await signedCall(baseUrl, t, method, path, params);
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Create and fund an account through the admin API. */
export async function createTrader(baseUrl: string, adminToken: string, depositUsdt: string): Promise<Trader> {
  const a = await adminPost(baseUrl, adminToken, 'account', { deposit: depositUsdt });
  return { accountId: Number(a.accountId), apiKey: String(a.apiKey), secretKey: String(a.secretKey) };
}

export async function publicGet<T>(baseUrl: string, path: string): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(15_000) });
  const body = await res.json() as T;
  if (!res.ok) throw new Error(`GET ${path} → ${res.status} ${JSON.stringify(body)}`);
  return body;
}

export interface PremiumIndex {
  symbol: string;
  markPrice: string;
  indexPrice: string;
  lastFundingRate: string;
  nextFundingTime: number;
  time: number;
}

/** A bid 3% under the mark (one decimal, BTCUSDT's tick): rests, never fills, within the price band. */
export async function restingBidPrice(baseUrl: string, symbol: string): Promise<string> {
  const mark = Number((await premiumIndex(baseUrl, symbol)).markPrice);
  return (Math.round(mark * 0.97 * 10) / 10).toFixed(1);
}

export function premiumIndex(baseUrl: string, symbol: string): Promise<PremiumIndex> {
  return publicGet<PremiumIndex>(baseUrl, `/fapi/v1/premiumIndex?symbol=${symbol}`);
}

export interface AdminTotals {
  seq: number;
  timeMs: number;
  accounts: number;
  deposits: string;
  withdrawals: string;
  insuranceFund: string;
  fees: string;
  ledger: string;
  conserved: boolean;
  openInterest: { symbol: string; long: string; short: string }[];
}

export async function adminTotals(baseUrl: string, adminToken: string): Promise<AdminTotals> {
  const res = await fetch(`${baseUrl}/admin/v1/totals`, { headers: { 'x-perpx-admin': adminToken }, signal: AbortSignal.timeout(15_000) });
  const body = await res.json() as AdminTotals;
  if (!res.ok) throw new Error(`GET /admin/v1/totals → ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Conservation exact and long OI = short OI for every symbol; '' when both hold, else why not. */
export function ledgerProblem(t: AdminTotals): string {
  if (!t.conserved) return `conservation broken: ledger ${t.ledger} ≠ deposits ${t.deposits} − withdrawals ${t.withdrawals}`;
  for (const oi of t.openInterest) if (oi.long !== oi.short) return `open interest unbalanced on ${oi.symbol}: long ${oi.long}, short ${oi.short}`;
  if (t.insuranceFund.startsWith('-')) return `insurance fund negative: ${t.insuranceFund}`;
  return '';
}

/** Run `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/** Sum of every sample of one metric in the server's /metrics (0 if absent). */
export async function metricValue(baseUrl: string, name: string): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  return parsePrometheus(text).filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
}

/** Open a user-data listen key for an account (API key only, no signature). */
export async function openListenKey(baseUrl: string, t: Trader): Promise<string> {
  const res = await fetch(`${baseUrl}/fapi/v1/listenKey`, { method: 'POST', headers: { 'x-mbx-apikey': t.apiKey }, signal: AbortSignal.timeout(15_000) });
  const body = await res.json() as { listenKey?: string };
  if (!res.ok || typeof body.listenKey !== 'string') throw new Error(`POST /fapi/v1/listenKey → ${res.status} ${JSON.stringify(body)}`);
  return body.listenKey;
}
