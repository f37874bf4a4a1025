// Shared by the gateway's end-to-end tests: a small exchange (InProcessHost + gateway on an
// ephemeral port, manual clock), admin helpers, and a raw signed-request client that can
// also send deliberately broken requests.

import { createHmac } from 'node:crypto';
import { btcusdt, defaultConfig, ethusdt } from '../core/config.ts';
import type { EngineConfig } from '../core/config.ts';
import { InProcessHost } from '../host/in-process-host.ts';
import type { InProcessHostOptions } from '../host/in-process-host.ts';
import { startGateway } from '../gateway/server.ts';
import type { GatewayHandle, GatewayOptions } from '../gateway/server.ts';

export const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z (engine time)
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** Binance-like BTCUSDT/ETHUSDT with small pools (fast to build). */
export function gatewayTestConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  const small = { maxRestingOrders: 20_000, maxPriceLevels: 20_000 };
  return defaultConfig({ maxAccounts: 512, maxConditionalOrders: 2_000, symbols: [btcusdt(small), ethusdt(small)], ...overrides });
}

export interface TestAccount {
  accountId: number;
  apiKey: string;
  secretKey: string;
}

export interface TestExchange {
  host: InProcessHost;
  gw: GatewayHandle;
  url: string;
  admin(method: string, path: string, params?: Record<string, string>): Promise<{ status: number; body: any }>;
  createAccount(deposit?: string): Promise<TestAccount>;
  close(): Promise<void>;
}

export interface TestExchangeOptions {
  config?: EngineConfig;
  host?: InProcessHostOptions;
  gateway?: Partial<GatewayOptions>;
  /** Index prices set at start (default BTCUSDT 60000, ETHUSDT 3000). */
  indexPrices?: Record<string, string>;
}

export async function startTestExchange(opts: TestExchangeOptions = {}): Promise<TestExchange> {
  const host = new InProcessHost(opts.config ?? gatewayTestConfig(), { log: () => {}, ...opts.host });
  const gw = await startGateway({ host, adminToken: ADMIN_TOKEN, log: (l) => console.error(l), ...opts.gateway });
  const url = gw.url;
  const admin = async (method: string, path: string, params: Record<string, string> = {}) => {
    const body = new URLSearchParams(params).toString();
    const res = await fetch(`${url}/admin/v1/${path}`, {
      method, headers: { 'X-PERPX-ADMIN': ADMIN_TOKEN, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: method === 'GET' ? undefined : body,
    });
    return { status: res.status, body: await res.json() };
  };
  const ex: TestExchange = {
    host, gw, url, admin,
    async createAccount(deposit = '100000') {
      const r = await admin('POST', 'account', { deposit });
      if (r.status !== 200) throw new Error(`createAccount: ${JSON.stringify(r.body)}`);
      return r.body as TestAccount;
    },
    async close() {
      await gw.close();
      await host.close();
    },
  };
  const t = await admin('POST', 'time', { timeMs: String(T0) });
  if (t.status !== 200) throw new Error(`time: ${JSON.stringify(t.body)}`);
  for (const [symbol, price] of Object.entries(opts.indexPrices ?? { BTCUSDT: '60000', ETHUSDT: '3000' })) {
    const r = await admin('POST', 'indexPrice', { symbol, price });
    if (r.status !== 200) throw new Error(`indexPrice: ${JSON.stringify(r.body)}`);
  }
  return ex;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/**
 * A signed request the Binance way: params (+ timestamp) form-encoded into the query (GET/
 * DELETE) or the body (POST/PUT), signature appended last.
 */
export async function signed(url: string, acct: TestAccount, method: string, path: string, params: Record<string, string> = {},
  o: { timestamp?: number; secret?: string; apiKey?: string } = {}): Promise<RawResponse> {
  const q = new URLSearchParams({ ...params, timestamp: String(o.timestamp ?? Date.now()) }).toString();
  const sig = sign(o.secret ?? acct.secretKey, q);
  const full = `${q}&signature=${sig}`;
  const inBody = method === 'POST' || method === 'PUT';
  return raw(url, method, inBody ? path : `${path}?${full}`, { 'X-MBX-APIKEY': o.apiKey ?? acct.apiKey }, inBody ? full : undefined);
}

export async function raw(url: string, method: string, pathAndQuery: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  const h: Record<string, string> = { ...headers };
  if (body !== undefined && h['Content-Type'] === undefined) h['Content-Type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(`${url}${pathAndQuery}`, { method, headers: h, body });
  const text = await res.text();
  let parsed: any = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}
