// ccxt pro's `binanceusdm`, unmodified, against perpx's WebSocket paths (its `future` ws
// URL rewritten to ws://…/ws → it connects to /public/ws/<n> and /market/ws/<n>; the WS
// API URL to /ws-fapi/v1). Proves the Binance client flow works offline: watchOrderBook
// syncs from REST depth + diff stream (ccxt checks U/u/pu itself and raises on a gap),
// watchTrades parses <symbol>@trade, createOrderWs signs and places over the WS API, and
// watchOrders receives ORDER_TRADE_UPDATE through /private/ws?listenKey=.

import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signed, startTestExchange } from '../../test/gateway-support.ts';
import type { TestAccount, TestExchange } from '../../test/gateway-support.ts';

const SYMBOL = 'BTC/USDT:USDT';

function proClient(base: string, acct: TestAccount) {
  const ws = base.replace(/^http/, 'ws');
  return new ccxt.pro.binanceusdm({
    apiKey: acct.apiKey,
    secret: acct.secretKey,
    enableRateLimit: false,
    urls: {
      api: {
        fapiPublic: `${base}/fapi/v1`, fapiPublicV2: `${base}/fapi/v2`, fapiPublicV3: `${base}/fapi/v3`,
        fapiPrivate: `${base}/fapi/v1`, fapiPrivateV2: `${base}/fapi/v2`, fapiPrivateV3: `${base}/fapi/v3`,
        fapiData: `${base}/futures/data`,
        ws: { future: `${ws}/ws`, 'ws-api': { future: `${ws}/ws-fapi/v1` } },
      },
    },
    options: { fetchCurrencies: false, adjustForTimeDifference: false },
  });
}

describe('ccxt pro binanceusdm over perpx WebSockets', () => {
  let ex: TestExchange;
  let maker: TestAccount;
  let taker: TestAccount;
  let client: InstanceType<typeof ccxt.pro.binanceusdm>;

  beforeAll(async () => {
    ex = await startTestExchange();
    maker = await ex.createAccount('1000000');
    taker = await ex.createAccount('1000000');
    client = proClient(ex.url, taker);
    await client.loadHttpProxyAgent(); // ccxt needs an http.Agent for plain ws:// URLs
    await client.loadMarkets();
  });

  afterAll(async () => {
    await client.close();
    expect(ex.gw.state.stats.internalErrors).toBe(0);
    expect(ex.gw.ws.stats.internalErrors).toBe(0);
    await ex.close();
  });

  const rest = async (acct: TestAccount, p: Record<string, string>) => {
    const r = await signed(ex.url, acct, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', type: 'LIMIT', timeInForce: 'GTC', ...p });
    expect(r.status, r.text).toBe(200);
    return r.body;
  };

  it('watchOrderBook: snapshot + diffs track the book through updates', async () => {
    await rest(maker, { side: 'BUY', quantity: '0.010', price: '59900' });
    await rest(maker, { side: 'SELL', quantity: '0.020', price: '60100' });
    let ob = await client.watchOrderBook(SYMBOL);
    expect(ob.bids[0]).toEqual([59900, 0.01]);
    expect(ob.asks[0]).toEqual([60100, 0.02]);
    await rest(maker, { side: 'BUY', quantity: '0.030', price: '59950' });
    for (let i = 0; i < 20 && ob.bids[0]?.[0] !== 59950; i++) ob = await client.watchOrderBook(SYMBOL);
    expect(ob.bids.slice(0, 2)).toEqual([[59950, 0.03], [59900, 0.01]]);
    const depth = (await (await fetch(`${ex.url}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`)).json()) as any;
    expect(ob.nonce).toBeLessThanOrEqual(depth.lastUpdateId);
  });

  it('watchTrades parses the trade stream; createOrderWs places over the WS API; watchOrders sees it', async () => {
    const trades = client.watchTrades(SYMBOL);
    await new Promise((r) => setTimeout(r, 100)); // subscribed before the trade happens
    await rest(maker, { side: 'SELL', quantity: '0.005', price: '60000' });
    await signed(ex.url, taker, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.005' });
    const got = await trades;
    expect(got.at(-1)).toMatchObject({ symbol: SYMBOL, price: 60000, amount: 0.005, side: 'buy' });

    const orders = client.watchOrders(SYMBOL);
    await new Promise((r) => setTimeout(r, 200)); // listen key fetched, /private/ws connected
    const placed = await client.createOrderWs(SYMBOL, 'limit', 'buy', 0.004, 59000);
    expect(placed).toMatchObject({ symbol: SYMBOL, type: 'limit', side: 'buy', price: 59000, amount: 0.004, status: 'open' });
    const seen = await orders;
    expect(seen.some((o) => o.id === placed.id && o.status === 'open')).toBe(true);
  });
});
