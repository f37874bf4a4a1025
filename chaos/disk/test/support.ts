// Shared by the disk/loop chaos tests: a --chaos (or plain) `perpx serve` child in a temp dir,
// a funded trader, signed order calls, and the "which acknowledged orders are gone" check.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedQuery } from '../../../harness/binance-flow.ts';
import { adminPost, startEmbeddedServer } from '../../../harness/embedded-server.ts';
import type { EmbeddedServer } from '../../../harness/embedded-server.ts';

export interface Trader { apiKey: string; secretKey: string }

export interface Started { server: EmbeddedServer; cleanup: () => Promise<void> }

export async function startServer(chaos: boolean): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'perpx-chaos-disk-'));
  let server: EmbeddedServer;
  try {
    server = await startEmbeddedServer({ dataDir: join(dir, 'data'), logFile: join(dir, 'server.log'), extraArgs: chaos ? ['--chaos'] : [] });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    server,
    cleanup: async () => {
      await server.stop(5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function fundedTrader(s: EmbeddedServer): Promise<Trader> {
  await adminPost(s.url, s.adminToken, 'indexPrice', { symbol: 'BTCUSDT', price: '50000' });
  const a = await adminPost(s.url, s.adminToken, 'account', { deposit: '1000000' });
  return { apiKey: String(a.apiKey), secretKey: String(a.secretKey) };
}

export async function signed(s: EmbeddedServer, t: Trader, method: string, path: string, params: [string, string][]): Promise<{ status: number; body: Record<string, unknown> }> {
  const q = signedQuery(params, 10_000, Date.now(), t.secretKey);
  const res = await fetch(`${s.url}${path}?${q}`, { method, headers: { 'x-mbx-apikey': t.apiKey }, signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

/** A resting buy far below the mid (never fills): its existence after a restart is the check. */
export function placeOrder(s: EmbeddedServer, t: Trader, clientId: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return signed(s, t, 'POST', '/fapi/v1/order', [
    ['symbol', 'BTCUSDT'], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'GTC'], ['quantity', '0.01'], ['price', '45000'], ['newClientOrderId', clientId],
  ]);
}

/** The acknowledged client order ids the server no longer knows. */
export async function lostOrders(s: EmbeddedServer, t: Trader, acked: readonly string[]): Promise<string[]> {
  const lost: string[] = [];
  for (const id of acked) {
    const r = await signed(s, t, 'GET', '/fapi/v1/order', [['symbol', 'BTCUSDT'], ['origClientOrderId', id]]);
    if (r.status !== 200 || r.body.clientOrderId !== id) lost.push(id);
  }
  return lost;
}
