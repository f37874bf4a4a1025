// Clock faults against a real `perpx serve` whose own clock ticks only hourly (so any state
// change is visible as a sequence/state-hash change): a skewed client gets -1021 on every
// request and changes nothing; a time jump across a funding boundary settles funding exactly
// once, for exactly the amount the rate and mark say, with conservation exact.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminGet, adminPost } from '../../harness/embedded-server.ts';
import { clientSkewFault } from '../clock/client-skew.ts';
import { fundingJumpFault } from '../clock/funding-jump.ts';
import { adminTotals, createTrader, ledgerProblem, signedOk } from '../signed-rest.ts';
import type { Trader } from '../signed-rest.ts';
import { startTestServer, testContext } from './fault-support.ts';
import type { TestServer } from './fault-support.ts';

let ts: TestServer;

/** Money text with 6 significant decimals (USDT) → integer units, exactly. */
function units(text: string): bigint {
  const neg = text.startsWith('-');
  const [i, f = ''] = (neg ? text.slice(1) : text).split('.');
  const v = BigInt(i!) * 1_000_000n + BigInt((f + '000000').slice(0, 6));
  return neg ? -v : v;
}

async function wallet(url: string, t: Trader): Promise<bigint> {
  const rows = await signedOk(url, t, 'GET', '/fapi/v2/balance', []) as { balance: string }[];
  return units(rows[0]!.balance);
}

describe('clock faults (e2e)', () => {
  beforeAll(async () => { ts = await startTestServer({ host: { clockTickMs: 3_600_000 } }); }, 60_000);
  afterAll(async () => { await ts?.close(); });

  it('client clock skew past recvWindow: every request -1021 (400), no state change', async () => {
    const url = ts.server.url;
    const trader = await createTrader(url, ts.server.adminToken, '100000');
    const seq0 = (await adminTotals(url, ts.server.adminToken)).seq;
    const hash0 = await adminGet(url, ts.server.adminToken, 'stateHash');
    const fault = clientSkewFault({ symbol: 'BTCUSDT', skewPastWindowMs: 500, recvWindowMs: 5000, ratePerS: 100, maxRequests: 60, trader });
    const ctx = testContext(ts.server);
    await fault.inject(ctx);
    await new Promise((r) => setTimeout(r, 800));
    await fault.clear(ctx);
    const r = fault.result();
    const found = await fault.verify(ctx);
    const seq1 = (await adminTotals(url, ts.server.adminToken)).seq;
    const hash1 = await adminGet(url, ts.server.adminToken, 'stateHash');
    console.log(`client skew: ${r.sent} sent, ${r.rejected1021} × 400/-1021, ${r.other} other, ${r.accepted} accepted; orders found ${found.length}; seq ${seq0} → ${seq1}`);
    expect(r.sent).toBeGreaterThanOrEqual(5);
    expect(r.rejected1021).toBe(r.sent);
    expect(found).toEqual([]);
    expect(seq1).toBe(seq0);
    expect(hash1).toEqual(hash0);
    // Control: the same order with a correct clock is accepted and does change the state hash.
    await signedOk(url, trader, 'POST', '/fapi/v1/order', [['symbol', 'BTCUSDT'], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'GTC'], ['price', '48500'], ['quantity', '0.01']]);
    expect(await adminGet(url, ts.server.adminToken, 'stateHash')).not.toEqual(hash0);
  }, 60_000);

  it('server time jump across a funding boundary: funding settled exactly once, exact amounts, conservation', async () => {
    const url = ts.server.url;
    const token = ts.server.adminToken;
    const long = await createTrader(url, token, '100000');
    const short = await createTrader(url, token, '100000');
    await signedOk(url, short, 'POST', '/fapi/v1/order', [['symbol', 'BTCUSDT'], ['side', 'SELL'], ['type', 'LIMIT'], ['timeInForce', 'GTC'], ['price', '50000'], ['quantity', '1']]);
    await signedOk(url, long, 'POST', '/fapi/v1/order', [['symbol', 'BTCUSDT'], ['side', 'BUY'], ['type', 'LIMIT'], ['timeInForce', 'IOC'], ['price', '50000'], ['quantity', '1']]);
    const w0 = [await wallet(url, long), await wallet(url, short)];
    const fund0 = units((await adminTotals(url, token)).insuranceFund);
    const fault = fundingJumpFault({ symbol: 'BTCUSDT', pastBoundaryMs: 1000 });
    const ctx = testContext(ts.server);
    await fault.inject(ctx);
    await fault.clear(ctx);
    const r = fault.result();
    const w1 = [await wallet(url, long), await wallet(url, short)];
    const totals = await adminTotals(url, token);
    // A second jump within the same interval must not settle again.
    await adminPost(url, token, 'time', { advanceMs: '60000' });
    const again = await fault.recount(ctx);
    const row = r.rows.find((x) => x.symbol === 'BTCUSDT')!;
    // payment = qty × mark × rate: 1 BTC = 1000 lots; notional units = lots × ticks × 100; rate E8.
    const notional = 1000n * BigInt(Math.round(Number(row.markPrice) * 10)) * 100n;
    const rateE8 = BigInt(Math.round(Number(row.fundingRate) * 1e8));
    const pay = (notional * rateE8 + 99_999_999n) / 100_000_000n; // payer rounds up
    const get = (notional * rateE8) / 100_000_000n; // receiver rounds down
    console.log(`funding jump: engine ${new Date(r.fromMs).toISOString()} → ${new Date(r.toMs).toISOString()}; settlements ${JSON.stringify(r.settlements)} (after +60 s: ${JSON.stringify(again)}); `
      + `rate ${row.fundingRate} at mark ${row.markPrice}; long ${w1[0]! - w0[0]!} units, short +${w1[1]! - w0[1]!} units, fund +${units(totals.insuranceFund) - fund0} units`);
    expect(r.settlements.BTCUSDT).toBe(1);
    expect(again.BTCUSDT).toBe(1);
    expect(rateE8).toBeGreaterThan(0n);
    expect(w1[0]! - w0[0]!).toBe(-pay);
    expect(w1[1]! - w0[1]!).toBe(get);
    expect(units(totals.insuranceFund) - fund0).toBe(pay - get);
    expect(ledgerProblem(totals)).toBe('');
  }, 60_000);
});
