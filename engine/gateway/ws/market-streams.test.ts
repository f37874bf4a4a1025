// Market streams end to end: SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / properties on
// the split paths, the combined envelope on /stream, and the payload of every stream kind
// checked against the REST view of the same state. Orders go in over signed REST, so the
// whole path (REST → host → events → streams) is exercised.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signed, startTestExchange } from '../../test/gateway-support.ts';
import type { TestAccount, TestExchange } from '../../test/gateway-support.ts';
import { sleep, TestClient, wsUrl } from './ws-test-support.ts';

describe('market streams', () => {
  let ex: TestExchange;
  let maker: TestAccount;
  let taker: TestAccount;

  const order = async (acct: TestAccount, params: Record<string, string>): Promise<any> => {
    const r = await signed(ex.url, acct, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', ...params });
    expect(r.status, r.text).toBe(200);
    return r.body;
  };
  const trade = async (qty = '0.010', px = '60000'): Promise<void> => {
    await order(maker, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: qty, price: px });
    await order(taker, { side: 'BUY', type: 'MARKET', quantity: qty });
  };

  beforeAll(async () => {
    ex = await startTestExchange();
    maker = await ex.createAccount('1000000');
    taker = await ex.createAccount('1000000');
  });

  afterAll(async () => {
    expect(ex.gw.state.stats.internalErrors).toBe(0);
    expect(ex.gw.ws.stats.internalErrors).toBe(0);
    await ex.close();
  });

  it('SUBSCRIBE, LIST_SUBSCRIPTIONS, UNSUBSCRIBE on /public/ws/<n> (ccxt form), raw events', async () => {
    const c = await TestClient.open(wsUrl(ex.url, '/public/ws/0'));
    expect(await c.request({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade', 'BTCUSDT@bookTicker', 'btcusdt@trade'], id: 1 })).toEqual({ result: null, id: 1 });
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 2 })).toEqual({ result: ['btcusdt@aggTrade', 'btcusdt@bookTicker', 'btcusdt@trade'], id: 2 });
    await trade('0.010', '60000.5');
    const raw = await c.next((m) => m.e === 'trade');
    expect(raw).toMatchObject({ s: 'BTCUSDT', p: '60000.5', q: '0.010', X: 'MARKET', m: false });
    const agg = await c.next((m) => m.e === 'aggTrade');
    expect(agg.a).toBe(raw.t);
    expect(agg).toMatchObject({ e: 'aggTrade', s: 'BTCUSDT', p: '60000.5', q: '0.010', m: false });
    expect(agg.a).toBe(agg.f);
    const rest = (await (await fetch(`${ex.url}/fapi/v1/aggTrades?symbol=BTCUSDT&limit=1`)).json()) as any[];
    expect(rest[0]).toMatchObject({ a: agg.a, p: agg.p, q: agg.q, T: agg.T, m: agg.m });
    // The ask rested, then was taken: the best ask went away.
    const bt = await c.next((m) => m.e === 'bookTicker');
    expect(bt).toMatchObject({ s: 'BTCUSDT' });
    expect(typeof bt.u).toBe('number');
    expect(await c.request({ method: 'UNSUBSCRIBE', params: ['btcusdt@aggTrade', 'btcusdt@trade'], id: 3 })).toEqual({ result: null, id: 3 });
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 4 })).toEqual({ result: ['btcusdt@bookTicker'], id: 4 });
    const seen = c.messages.length;
    await trade();
    await sleep(300);
    expect(c.messages.slice(seen).filter((m) => m.e === 'aggTrade' || m.e === 'trade')).toEqual([]);
    expect(c.messages.slice(seen).some((m) => m.e === 'bookTicker')).toBe(true);
    c.close();
  });

  it('bookTicker follows the best bid/ask as it changes', async () => {
    const c = await TestClient.open(wsUrl(ex.url, '/ws/btcusdt@bookTicker'));
    await order(maker, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.004', price: '59990' });
    const bt = await c.next((m) => m.e === 'bookTicker' && m.b === '59990.0');
    expect(bt.B).toBe('0.004');
    const rest = (await (await fetch(`${ex.url}/fapi/v1/ticker/bookTicker?symbol=BTCUSDT`)).json()) as any;
    expect(rest).toMatchObject({ bidPrice: bt.b, bidQty: bt.B, askPrice: bt.a, askQty: bt.A });
    c.close();
  });

  it('combined envelope on /stream?streams=a/b and SET_PROPERTY combined on /ws', async () => {
    const c = await TestClient.open(wsUrl(ex.url, '/stream?streams=btcusdt@aggTrade/btcusdt@depth5@100ms'));
    await trade();
    const agg = await c.next((m) => m.stream === 'btcusdt@aggTrade');
    expect(agg.data).toMatchObject({ e: 'aggTrade', s: 'BTCUSDT' });
    const d = await c.next((m) => m.stream === 'btcusdt@depth5@100ms');
    expect(d.data).toMatchObject({ e: 'depthUpdate', s: 'BTCUSDT' });
    expect(d.data.b.length).toBeLessThanOrEqual(5);
    c.close();

    const raw = await TestClient.open(wsUrl(ex.url, '/ws'));
    expect(await raw.request({ method: 'GET_PROPERTY', params: ['combined'], id: 1 })).toEqual({ result: false, id: 1 });
    expect(await raw.request({ method: 'SET_PROPERTY', params: ['combined', true], id: 2 })).toEqual({ result: null, id: 2 });
    expect(await raw.request({ method: 'GET_PROPERTY', params: ['combined'], id: 3 })).toEqual({ result: true, id: 3 });
    expect(await raw.request({ method: 'SUBSCRIBE', params: ['ethusdt@markPrice@1s'], id: 4 })).toEqual({ result: null, id: 4 });
    const mp = await raw.next((m) => m.stream === 'ethusdt@markPrice@1s', 3_000);
    expect(mp.data).toMatchObject({ e: 'markPriceUpdate', s: 'ETHUSDT' });
    raw.close();
  });

  it('partial depth equals REST depth; markPrice, !markPrice@arr, ticker payloads match REST', async () => {
    await order(maker, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.005', price: '59950' });
    await order(maker, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.006', price: '60050' });
    await sleep(150);
    const c = await TestClient.open(wsUrl(ex.url, '/stream?streams=btcusdt@depth10@100ms/btcusdt@markPrice@1s/!markPrice@arr@1s/!ticker@arr/btcusdt@miniTicker'));
    const rest = (await (await fetch(`${ex.url}/fapi/v1/depth?symbol=BTCUSDT&limit=10`)).json()) as any;
    const d = await c.next((m) => m.stream === 'btcusdt@depth10@100ms' && m.data.u >= rest.lastUpdateId);
    expect({ b: d.data.b, a: d.data.a }).toEqual({ b: rest.bids, a: rest.asks });
    const mp = (await c.next((m) => m.stream === 'btcusdt@markPrice@1s', 3_000)).data;
    const prem = (await (await fetch(`${ex.url}/fapi/v1/premiumIndex?symbol=BTCUSDT`)).json()) as any;
    expect(mp).toMatchObject({ e: 'markPriceUpdate', s: 'BTCUSDT', p: prem.markPrice, i: prem.indexPrice, r: prem.lastFundingRate, T: prem.nextFundingTime });
    const arr = (await c.next((m) => m.stream === '!markPrice@arr@1s', 3_000)).data;
    expect(arr.map((x: any) => x.s)).toEqual(['BTCUSDT', 'ETHUSDT']);
    const tk = (await c.next((m) => m.stream === '!ticker@arr', 3_000)).data;
    const restTk = (await (await fetch(`${ex.url}/fapi/v1/ticker/24hr?symbol=BTCUSDT`)).json()) as any;
    expect(tk[0]).toMatchObject({ e: '24hrTicker', s: 'BTCUSDT', c: restTk.lastPrice, v: restTk.volume, n: restTk.count, F: restTk.firstId, L: restTk.lastId });
    const mini = (await c.next((m) => m.stream === 'btcusdt@miniTicker', 3_000)).data;
    expect(mini).toMatchObject({ e: '24hrMiniTicker', s: 'BTCUSDT', c: restTk.lastPrice });
    c.close();
  });

  it('refuses bad requests with Binance error frames and bad URLs with HTTP errors', async () => {
    const c = await TestClient.open(wsUrl(ex.url, '/market/ws'));
    c.send('{nope');
    expect((await c.next()).error.code).toBe(3);
    expect(await c.request({ method: 'SUBSCRIBE', params: ['btcusdt@nonsense'], id: 7 })).toMatchObject({ error: { code: 2 }, id: 7 });
    expect(await c.request({ method: 'SUBSCRIBE', params: ['dogeusdt@aggTrade'], id: 8 })).toMatchObject({ error: { code: 2 }, id: 8 });
    expect(await c.request({ method: 'FROB', id: 9 })).toMatchObject({ error: { code: 2 }, id: 9 });
    expect(await c.request({ method: 'SET_PROPERTY', params: ['colour', 1], id: 10 })).toMatchObject({ error: { code: 0 }, id: 10 });
    expect(await c.request({ method: 'SET_PROPERTY', params: ['combined', 'yes'], id: 11 })).toMatchObject({ error: { code: 1 }, id: 11 });
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: -1 });
    expect((await c.next()).error.code).toBe(2);
    expect(await c.request({ method: 'LIST_SUBSCRIPTIONS', id: 12 })).toEqual({ result: [], id: 12 });
    c.close();
    await expect(TestClient.open(wsUrl(ex.url, '/ws/btcusdt@nonsense'))).rejects.toMatchObject({ status: 400 });
    await expect(TestClient.open(wsUrl(ex.url, '/nowhere'))).rejects.toMatchObject({ status: 404 });
    await expect(TestClient.open(wsUrl(ex.url, `/private/ws?listenKey=${'x'.repeat(64)}`))).rejects.toMatchObject({ status: 400 });
  });
});
