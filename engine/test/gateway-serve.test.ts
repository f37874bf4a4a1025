// The `perpx serve` CLI end to end: start it with --dev on a free port, read the address
// and demo credentials it prints, place a signed order with them, check the admin token it
// printed works, then SIGTERM: it must stop cleanly with exit code 0. Then start it again on
// the same data dir: the journal recovers the order and the balance, the persisted API key
// still authenticates.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { raw, signed } from './gateway-support.ts';

const SERVE = fileURLToPath(new URL('../gateway/serve.ts', import.meta.url));

describe('perpx serve', () => {
  it('--dev prints address, data dir, fsync policy and working credentials; SIGTERM exits 0; a restart recovers', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'perpx-serve-'));
    try {
      const first = await start(['--dev', '--port', '0', '--host', '127.0.0.1', '--data', dataDir]);
      expect(first.out()).toContain(`data dir: ${dataDir}`);
      expect(first.out()).toContain('fsync policy: fsync');
      const url = /listening on (http:\/\/[^\s]+)/.exec(first.out())![1]!;
      const apiKey = /apiKey:\s+(\S+)/.exec(first.out())![1]!;
      const secretKey = /secretKey:\s+(\S+)/.exec(first.out())![1]!;
      const token = /dev admin token: (\S+)/.exec(first.out())![1]!;
      const acct = { accountId: 0, apiKey, secretKey };
      const order = await signed(url, acct, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '59000' });
      expect(order.status).toBe(200);
      expect(order.body.status).toBe('NEW');
      const bal = await signed(url, acct, 'GET', '/fapi/v2/balance', {});
      expect(bal.body[0].balance).toBe('100000.00000000');
      expect((await raw(url, 'GET', '/admin/v1/totals', { 'X-PERPX-ADMIN': token })).body.conserved).toBe(true);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.out()).toContain('stopped');

      const second = await start(['--port', '0', '--host', '127.0.0.1', '--data', dataDir], 'listening on');
      expect(second.out()).toMatch(/recovered to seq [1-9]/);
      const url2 = /listening on (http:\/\/[^\s]+)/.exec(second.out())![1]!;
      const open = await signed(url2, acct, 'GET', '/fapi/v1/openOrders', { symbol: 'BTCUSDT' });
      expect(open.status).toBe(200);
      expect(open.body.map((o: { orderId: number }) => o.orderId)).toEqual([order.body.orderId]);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

async function start(args: string[], until = 'secretKey:') {
  const child = spawn(process.execPath, [SERVE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d.toString(); });
  child.stderr.on('data', (d) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 400 && !out.includes(until); i++) await new Promise((r) => setTimeout(r, 25));
  return { child, exited, out: () => out };
}
