// The `perpx serve` CLI end to end: start it with --dev on a free port, read the address
// and demo credentials it prints, place a signed order with them, check the admin token it
// printed works, then SIGTERM: it must stop cleanly with exit code 0.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { raw, signed } from './gateway-support.ts';

const SERVE = fileURLToPath(new URL('../gateway/serve.ts', import.meta.url));

describe('perpx serve', () => {
  it('--dev prints address, data dir, fsync policy and working credentials; SIGTERM exits 0', async () => {
    const child = spawn(process.execPath, [SERVE, '--dev', '--port', '0', '--host', '127.0.0.1', '--data', '/tmp/perpx-test-data'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d.toString(); });
    child.stderr.on('data', (d) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 200 && !out.includes('secretKey:'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(out).toContain('data dir: /tmp/perpx-test-data');
    expect(out).toContain('fsync policy: none (no journal yet)');
    const url = /listening on (http:\/\/[^\s]+)/.exec(out)![1]!;
    const apiKey = /apiKey:\s+(\S+)/.exec(out)![1]!;
    const secretKey = /secretKey:\s+(\S+)/.exec(out)![1]!;
    const token = /dev admin token: (\S+)/.exec(out)![1]!;
    const acct = { accountId: 0, apiKey, secretKey };
    const order = await signed(url, acct, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '59000' });
    expect(order.status).toBe(200);
    expect(order.body.status).toBe('NEW');
    const bal = await signed(url, acct, 'GET', '/fapi/v2/balance', {});
    expect(bal.body[0].balance).toBe('100000.00000000');
    expect((await raw(url, 'GET', '/admin/v1/totals', { 'X-PERPX-ADMIN': token })).body.conserved).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped');
  });
});
