// User data streams end to end. Proves: ORDER_TRADE_UPDATE for every execution type with
// the fill's trade id, fee, maker flag and realized PnL; ACCOUNT_UPDATE per reason
// (DEPOSIT, WITHDRAW, ORDER, FUNDING_FEE) with balance and positions; MARGIN_CALL when the
// margin ratio crosses the threshold; liquidation ("autoclose-…") and ADL
// ("adl_autoclose") updates plus the public forceOrder stream; listenKeyExpired when the
// key is closed; and isolation: under a random burst among four accounts, no stream ever
// carries an order, fill or balance of another account.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitOrder, marketOrder } from '../../core/commands.ts';
import { raw, signed, startTestExchange } from '../../test/gateway-support.ts';
import type { TestAccount, TestExchange } from '../../test/gateway-support.ts';
import { rng, sleep, TestClient, wsUrl } from './ws-test-support.ts';

async function listenKey(ex: TestExchange, acct: TestAccount): Promise<string> {
  const r = await raw(ex.url, 'POST', '/fapi/v1/listenKey', { 'X-MBX-APIKEY': acct.apiKey });
  expect(r.status, r.text).toBe(200);
  return r.body.listenKey as string;
}

describe('user data streams', () => {
  let ex: TestExchange;

  beforeAll(async () => {
    // A low margin-call ratio (50 %) leaves a wide price window between call and liquidation.
    ex = await startTestExchange({ gateway: { ws: { marginCallRatioBp: 5_000 } } });
  });

  afterAll(async () => {
    expect(ex.gw.state.stats.internalErrors).toBe(0);
    expect(ex.gw.ws.stats.internalErrors).toBe(0);
    await ex.close();
  });

  it('order life cycle, fills and balances arrive as ORDER_TRADE_UPDATE / ACCOUNT_UPDATE', async () => {
    const a = await ex.createAccount('100000');
    const b = await ex.createAccount('100000');
    const ca = await TestClient.open(wsUrl(ex.url, `/private/ws?listenKey=${await listenKey(ex, a)}`));
    const cb = await TestClient.open(wsUrl(ex.url, `/ws/${await listenKey(ex, b)}`));
    const post = async (acct: TestAccount, p: Record<string, string>) => {
      const r = await signed(ex.url, acct, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', ...p });
      expect(r.status, r.text).toBe(200);
      return r.body;
    };
    const mk = await post(a, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: '60010', newClientOrderId: 'mk-1' });
    const n = (await ca.next((m) => m.e === 'ORDER_TRADE_UPDATE' && m.o.i === mk.orderId)).o;
    expect(n).toMatchObject({ s: 'BTCUSDT', c: 'mk-1', S: 'SELL', o: 'LIMIT', f: 'GTC', q: '0.010', p: '60010.0', x: 'NEW', X: 'NEW', ps: 'BOTH' });
    // Modify → AMENDMENT.
    const mod = await signed(ex.url, a, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(mk.orderId), side: 'SELL', quantity: '0.010', price: '60000' });
    expect(mod.status, mod.text).toBe(200);
    expect((await ca.next((m) => m.o?.x === 'AMENDMENT')).o).toMatchObject({ i: mk.orderId, p: '60000.0', X: 'NEW' });
    // B takes 0.004: both sides see TRADE with the same trade id; maker flag and fees differ.
    const tk = await post(b, { side: 'BUY', type: 'MARKET', quantity: '0.004' });
    const am = (await ca.next((m) => m.o?.x === 'TRADE')).o;
    const bt = (await cb.next((m) => m.o?.x === 'TRADE')).o;
    expect(am).toMatchObject({ i: mk.orderId, X: 'PARTIALLY_FILLED', l: '0.004', z: '0.004', L: '60000.0', m: true, N: 'USDT' });
    expect(bt).toMatchObject({ i: tk.orderId, X: 'FILLED', l: '0.004', L: '60000.0', m: false });
    expect(am.t).toBe(bt.t);
    const fills = (await signed(ex.url, b, 'GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT' })).body as any[];
    expect(fills.at(-1)).toMatchObject({ id: bt.t, commission: bt.n, realizedPnl: bt.rp });
    const accA = (await ca.next((m) => m.e === 'ACCOUNT_UPDATE' && m.a.m === 'ORDER')).a;
    expect(accA.P).toEqual([expect.objectContaining({ s: 'BTCUSDT', pa: '-0.004', ep: '60000.0', ps: 'BOTH' })]);
    const bal = (await signed(ex.url, a, 'GET', '/fapi/v2/balance', {})).body[0];
    expect(accA.B).toEqual([{ a: 'USDT', wb: bal.balance, cw: bal.crossWalletBalance, bc: '0.00000000' }]);
    // Cancel → CANCELED; an IOC that cannot fill → EXPIRED.
    await signed(ex.url, a, 'DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'mk-1' });
    expect((await ca.next((m) => m.o?.x === 'CANCELED')).o).toMatchObject({ c: 'mk-1', X: 'CANCELED', z: '0.004' });
    await post(b, { side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', quantity: '0.004', price: '59000' });
    expect((await cb.next((m) => m.o?.x === 'EXPIRED')).o).toMatchObject({ X: 'EXPIRED', f: 'IOC' });
    // Deposit / withdraw → ACCOUNT_UPDATE with m DEPOSIT / WITHDRAW and bc = the amount.
    await ex.admin('POST', 'deposit', { accountId: String(a.accountId), amount: '250' });
    expect((await ca.next((m) => m.a?.m === 'DEPOSIT')).a.B[0].bc).toBe('250.00000000');
    await ex.admin('POST', 'withdraw', { accountId: String(a.accountId), amount: '50' });
    expect((await ca.next((m) => m.a?.m === 'WITHDRAW')).a.B[0].bc).toBe('-50.00000000');
    // Funding settles over 8 h: both hold positions, so both get FUNDING_FEE.
    const before = ca.messages.length;
    await ex.admin('POST', 'time', { advanceMs: String(8 * 3_600_000) });
    const fa = await ca.next((m) => m.a?.m === 'FUNDING_FEE');
    expect(fa.a.B[0].a).toBe('USDT');
    await cb.next((m) => m.a?.m === 'FUNDING_FEE');
    expect(ca.messages.length).toBeGreaterThan(before);
    // Isolation in this small scene: nothing of B's on A's stream.
    expect(ca.all((m) => m.o?.i === tk.orderId)).toEqual([]);
    ca.close();
    cb.close();
  });

  it('MARGIN_CALL, liquidation (autoclose-), ADL (adl_autoclose) and forceOrder', async () => {
    const risky = await ex.createAccount('2000');
    const rich = await ex.createAccount('1000000');
    const cr = await TestClient.open(wsUrl(ex.url, `/private/ws?listenKey=${await listenKey(ex, risky)}`));
    const cc = await TestClient.open(wsUrl(ex.url, `/stream?streams=${await listenKey(ex, rich)}`));
    const force = await TestClient.open(wsUrl(ex.url, '/market/ws/0'));
    expect(await force.request({ method: 'SUBSCRIBE', params: ['btcusdt@forceOrder', '!forceOrder@arr'], id: 1 })).toEqual({ result: null, id: 1 });
    await ex.admin('POST', 'indexPrice', { symbol: 'BTCUSDT', price: '60000' });
    await ex.admin('POST', 'time', { advanceMs: '1000' });
    // risky goes long 0.5 BTC against rich (30,000 notional on 2,000).
    expect((await signed(ex.url, rich, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.500', price: '60000' })).status).toBe(200);
    expect((await signed(ex.url, risky, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.500' })).status).toBe(200);
    // Walk the index down until maintenance margin ≥ 50 % of margin balance (but not liquidated).
    let px = 60_000;
    for (;;) {
      px -= 100;
      await ex.admin('POST', 'indexPrice', { symbol: 'BTCUSDT', price: String(px) });
      const acc = (await signed(ex.url, risky, 'GET', '/fapi/v2/account', {})).body;
      if (Number(acc.totalMaintMargin) >= 0.5 * Number(acc.totalMarginBalance)) break;
      expect(px).toBeGreaterThan(55_000);
    }
    const call = await cr.next((m) => m.e === 'MARGIN_CALL');
    expect(call.p).toEqual([expect.objectContaining({ s: 'BTCUSDT', ps: 'BOTH', pa: '0.500', mt: 'CROSSED' })]);
    expect(Number(call.p[0].mm)).toBeGreaterThan(0);
    // An empty book: the liquidation order cannot fill, so ADL closes it against rich's short.
    await signed(ex.url, rich, 'DELETE', '/fapi/v1/allOpenOrders', { symbol: 'BTCUSDT' });
    await ex.admin('POST', 'indexPrice', { symbol: 'BTCUSDT', price: String(px - 2_000) });
    const liq = (await cr.next((m) => m.o?.c?.startsWith('autoclose-'))).o;
    expect(liq).toMatchObject({ S: 'SELL', f: 'IOC', x: 'NEW' });
    expect((await cr.next((m) => m.o?.c === liq.c && m.o.x === 'EXPIRED')).o.X).toBe('EXPIRED');
    const adlRisky = (await cr.next((m) => m.o?.c === 'adl_autoclose')).o;
    expect(adlRisky).toMatchObject({ x: 'CALCULATED', X: 'FILLED', S: 'SELL', q: '0.500' });
    const adlRich = (await cc.next((m) => m.data?.o?.c === 'adl_autoclose')).data.o;
    expect(adlRich).toMatchObject({ x: 'CALCULATED', S: 'BUY', q: '0.500', t: adlRisky.t });
    const pos = (await cr.next((m) => m.a?.m === 'ORDER' && m.a.P.some((p: any) => p.pa === '0.000'))).a;
    expect(pos.P[0].s).toBe('BTCUSDT');
    const fo = await force.next((m) => m.e === 'forceOrder', 3_000);
    expect(fo.o).toMatchObject({ s: 'BTCUSDT', S: 'SELL', o: 'LIMIT', f: 'IOC', q: '0.500', X: 'EXPIRED', z: '0.000' });
    await force.next((m) => m.e === 'forceOrder', 3_000); // the !forceOrder@arr copy
    cr.close();
    cc.close();
    force.close();
  });

  it('listenKeyExpired when the key is closed; the stream stops', async () => {
    const a = await ex.createAccount('1000');
    const key = await listenKey(ex, a);
    const c = await TestClient.open(wsUrl(ex.url, `/private/ws?listenKey=${key}`));
    expect((await raw(ex.url, 'DELETE', '/fapi/v1/listenKey', { 'X-MBX-APIKEY': a.apiKey })).status).toBe(200);
    expect(await c.next((m) => m.e === 'listenKeyExpired', 3_000)).toMatchObject({ listenKey: key });
    await ex.admin('POST', 'deposit', { accountId: String(a.accountId), amount: '5' });
    await sleep(100);
    expect(c.all((m) => m.e === 'ACCOUNT_UPDATE')).toEqual([]);
    c.close();
  });

  it('isolation: under a random burst, each stream carries only its own account', async () => {
    const seed = Number(process.env.PERPX_SEED ?? Date.now() % 1_000_000);
    console.log(`isolation burst seed=${seed}`);
    const rand = rng(seed);
    const accts = [await ex.createAccount('500000'), await ex.createAccount('500000'), await ex.createAccount('500000'), await ex.createAccount('500000')];
    const clients = await Promise.all(accts.map(async (acct) => TestClient.open(wsUrl(ex.url, `/private/ws?listenKey=${await listenKey(ex, acct)}`))));
    await ex.admin('POST', 'indexPrice', { symbol: 'BTCUSDT', price: '60000' });
    const owner = new Map<number, number>(); // orderId → account
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) {
      const a = accts[Math.floor(rand() * accts.length)]!.accountId;
      const side = rand() < 0.5 ? 'BUY' : 'SELL';
      const cmd = rand() < 0.8
        ? limitOrder(a, 0, side, 599_800 + Math.floor(rand() * 400), 2 + Math.floor(rand() * 20))
        : marketOrder(a, 0, side, 2 + Math.floor(rand() * 10));
      pending.push(ex.host.submit(cmd).then((r) => {
        for (const e of r.events) if (e.type === 'order') owner.set(e.orderId, e.accountId);
      }));
    }
    await Promise.all(pending);
    await sleep(200);
    let checked = 0;
    accts.forEach((acct, i) => {
      for (const m of clients[i]!.messages) {
        if (m.e === 'ORDER_TRADE_UPDATE') {
          expect(owner.get(m.o.i)).toBe(acct.accountId);
          checked++;
        }
      }
      expect(clients[i]!.messages.length).toBeGreaterThan(0);
    });
    // Every order event of every account reached exactly its own stream.
    const total = clients.reduce((n, c) => n + c.all((m) => m.e === 'ORDER_TRADE_UPDATE').length, 0);
    expect(checked).toBe(total);
    expect(total).toBeGreaterThan(400);
    for (const c of clients) c.close();
  });
});
