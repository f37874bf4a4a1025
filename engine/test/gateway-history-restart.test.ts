// The Binance history endpoints across restarts of `perpx serve` (the chaos crash-restart
// finding: after a restart GET /fapi/v1/allOrders, /fapi/v1/order for a closed order and
// /fapi/v1/userTrades answered as if the orders had never existed). A client places, fills
// (self-trade with STP off), cancels and expires orders, reads its history, and the answers
// must be identical after a graceful SIGTERM restart (final snapshot) and after a SIGKILL
// (no snapshot: the journal is replayed).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { signed } from './gateway-support.ts';
import type { TestAccount } from './gateway-support.ts';

const SERVE = fileURLToPath(new URL('../gateway/serve.ts', import.meta.url));

type Server = Awaited<ReturnType<typeof start>>;

describe('perpx serve: order and trade history after a restart', () => {
  it('allOrders, order and userTrades answer the same after SIGTERM and after SIGKILL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'perpx-serve-history-'));
    const servers: Server[] = [];
    try {
      const first = await start(['--dev', '--port', '0', '--host', '127.0.0.1', '--data', dataDir], 'secretKey:');
      servers.push(first);
      const acct: TestAccount = { accountId: 0, apiKey: /apiKey:\s+(\S+)/.exec(first.out())![1]!, secretKey: /secretKey:\s+(\S+)/.exec(first.out())![1]! };
      await trade(first.url(), acct);
      const before = await history(first.url(), acct);
      expect(before.closed).toBeGreaterThanOrEqual(4); // filled, canceled, expired
      expect(before.trades).toBeGreaterThanOrEqual(2);

      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      const second = await start(['--port', '0', '--host', '127.0.0.1', '--data', dataDir]);
      servers.push(second);
      expect(await history(second.url(), acct)).toEqual(before);

      await trade(second.url(), acct);
      const later = await history(second.url(), acct);
      expect(later.closed).toBeGreaterThan(before.closed);
      second.child.kill('SIGKILL');
      await second.exited;
      const third = await start(['--port', '0', '--host', '127.0.0.1', '--data', dataDir]);
      servers.push(third);
      expect(await history(third.url(), acct)).toEqual(later);
      third.child.kill('SIGTERM');
      expect(await third.exited).toBe(0);
    } finally {
      for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** One account trading with itself: a fill (both sides), a cancel, an expired IOC, a resting order. */
async function trade(url: string, acct: TestAccount): Promise<void> {
  const place = async (p: Record<string, string>) => {
    const r = await signed(url, acct, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', quantity: '0.01', selfTradePreventionMode: 'NONE', newOrderRespType: 'RESULT', ...p });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as { orderId: number; status: string };
  };
  await place({ side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', price: '59000' });
  const taker = await place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '59000' });
  expect(taker.status).toBe('FILLED');
  const resting = await place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '58000' });
  const cancel = await signed(url, acct, 'DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(resting.orderId) });
  expect(cancel.status).toBe(200);
  const ioc = await place({ side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', price: '58000' });
  expect(ioc.status).toBe('EXPIRED');
  await place({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: '57000' });
}

async function history(url: string, acct: TestAccount): Promise<{ allOrders: unknown; orders: unknown[]; userTrades: unknown; closed: number; trades: number }> {
  const all = await signed(url, acct, 'GET', '/fapi/v1/allOrders', { symbol: 'BTCUSDT', limit: '1000' });
  expect(all.status).toBe(200);
  const orders: unknown[] = [];
  let closed = 0;
  for (const o of all.body as { orderId: number; status: string }[]) {
    if (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED') closed++;
    const one = await signed(url, acct, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(o.orderId) });
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    orders.push(one.body);
  }
  const trades = await signed(url, acct, 'GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT', limit: '1000' });
  expect(trades.status).toBe(200);
  return { allOrders: all.body, orders, userTrades: trades.body, closed, trades: (trades.body as unknown[]).length };
}

async function start(args: string[], until = 'listening on') {
  const child = spawn(process.execPath, [SERVE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d.toString(); });
  child.stderr.on('data', (d) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 1200 && !out.includes(until); i++) await new Promise((r) => setTimeout(r, 25));
  if (!out.includes(until)) throw new Error(`perpx serve did not print '${until}':\n${out}`);
  return { child, exited, out: () => out, url: () => /listening on (http:\/\/[^\s]+)/.exec(out)![1]! };
}
