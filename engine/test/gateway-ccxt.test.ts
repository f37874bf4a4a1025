// Integration: the real ccxt `binanceusdm` client, pointed at a local perpx gateway,
// drives market data, the order life cycle (create / fetch / modify / cancel, conditional
// orders), fills between two accounts, balance and positions. It proves an unmodified
// Binance client works against perpx; each step checks ccxt's parsed view against what
// the exchange must have done.

import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestExchange } from './gateway-support.ts';
import type { TestAccount, TestExchange } from './gateway-support.ts';

const SYMBOL = 'BTC/USDT:USDT';

function client(base: string, acct: TestAccount) {
  return new ccxt.binanceusdm({
    apiKey: acct.apiKey,
    secret: acct.secretKey,
    enableRateLimit: false,
    urls: {
      api: {
        fapiPublic: `${base}/fapi/v1`, fapiPublicV2: `${base}/fapi/v2`, fapiPublicV3: `${base}/fapi/v3`,
        fapiPrivate: `${base}/fapi/v1`, fapiPrivateV2: `${base}/fapi/v2`, fapiPrivateV3: `${base}/fapi/v3`,
        fapiData: `${base}/futures/data`,
      },
    },
    options: { fetchCurrencies: false, adjustForTimeDifference: false },
  });
}

describe('ccxt binanceusdm against perpx', () => {
  let ex: TestExchange;
  let maker: InstanceType<typeof ccxt.binanceusdm>;
  let taker: InstanceType<typeof ccxt.binanceusdm>;

  beforeAll(async () => {
    ex = await startTestExchange();
    maker = client(ex.url, await ex.createAccount('100000'));
    taker = client(ex.url, await ex.createAccount('50000'));
    await maker.loadMarkets();
    await taker.loadMarkets();
  });

  afterAll(async () => {
    expect(ex.gw.state.stats.internalErrors).toBe(0);
    await ex.close();
  });

  it('loads markets from exchangeInfo with Binance precision and limits', () => {
    const m = maker.market(SYMBOL);
    expect(m.id).toBe('BTCUSDT');
    expect(m.swap).toBe(true);
    expect(m.linear).toBe(true);
    expect(m.settle).toBe('USDT');
    expect(m.precision.price).toBe(0.1);
    expect(m.precision.amount).toBe(0.001);
    expect(m.limits.amount?.min).toBe(0.001);
    expect(m.limits.cost?.min).toBe(100);
    expect(Object.keys(maker.markets as object).sort()).toEqual(['BTC/USDT:USDT', 'ETH/USDT:USDT']);
  });

  it('serves time, ticker, mark/funding and an empty book', async () => {
    const t = await maker.fetchTime();
    expect(Math.abs((t ?? 0) - Date.now())).toBeLessThan(5_000);
    const book = await maker.fetchOrderBook(SYMBOL, 10);
    expect(book.bids).toEqual([]);
    expect(book.asks).toEqual([]);
    const fr = await maker.fetchFundingRate(SYMBOL);
    expect(fr.markPrice).toBe(60000);
    expect(fr.indexPrice).toBe(60000);
    expect(fr.fundingRate).toBeCloseTo(0.0001, 10);
    const ticker = await maker.fetchTicker(SYMBOL);
    expect(ticker.symbol).toBe(SYMBOL);
  });

  it('creates, fetches, modifies and cancels a limit order', async () => {
    const o = await maker.createOrder(SYMBOL, 'limit', 'buy', 0.01, 59000);
    expect(o.status).toBe('open');
    expect(o.price).toBe(59000);
    expect(o.amount).toBe(0.01);
    const fetched = await maker.fetchOrder(o.id!, SYMBOL);
    expect(fetched.id).toBe(o.id);
    expect(fetched.status).toBe('open');
    expect(fetched.clientOrderId).toBe(o.clientOrderId);

    const edited = await maker.editOrder(o.id!, SYMBOL, 'limit', 'buy', 0.02, 59100);
    expect(edited.price).toBe(59100);
    expect(edited.amount).toBe(0.02);
    const book = await maker.fetchOrderBook(SYMBOL, 5);
    expect(book.bids[0]).toEqual([59100, 0.02]);
    const open = await maker.fetchOpenOrders(SYMBOL);
    expect(open.map((x) => x.id)).toEqual([o.id]);

    const canceled = await maker.cancelOrder(o.id!, SYMBOL);
    expect(canceled.status).toBe('canceled');
    const after = await maker.fetchOrder(o.id!, SYMBOL);
    expect(after.status).toBe('canceled'); // from the bounded history
    expect(await maker.fetchOpenOrders(SYMBOL)).toEqual([]);
    const all = await maker.fetchOrders(SYMBOL);
    expect(all.map((x) => x.id)).toContain(o.id);
  });

  it('fills a market order against a resting order; trades, balance and positions agree', async () => {
    const sell = await maker.createOrder(SYMBOL, 'limit', 'sell', 0.01, 60000);
    const buy = await taker.createOrder(SYMBOL, 'market', 'buy', 0.01);
    expect(buy.status).toBe('closed');
    expect(buy.filled).toBe(0.01);
    expect(buy.average).toBe(60000);
    const sold = await maker.fetchOrder(sell.id!, SYMBOL);
    expect(sold.status).toBe('closed');

    const takerTrades = await taker.fetchMyTrades(SYMBOL);
    expect(takerTrades).toHaveLength(1);
    expect(takerTrades[0]!.price).toBe(60000);
    expect(takerTrades[0]!.amount).toBe(0.01);
    expect(takerTrades[0]!.side).toBe('buy');
    expect(takerTrades[0]!.takerOrMaker).toBe('taker');
    expect(takerTrades[0]!.fee?.cost).toBeCloseTo(0.3, 8); // 600 × 0.05 %
    const makerTrades = await maker.fetchMyTrades(SYMBOL);
    expect(makerTrades[0]!.takerOrMaker).toBe('maker');

    const bal = await taker.fetchBalance();
    expect(bal.USDT!.total).toBeCloseTo(50000 - 0.3, 6);
    expect(bal.USDT!.free).toBeLessThan(50000);

    const [pos] = await taker.fetchPositions([SYMBOL]);
    expect(pos!.symbol).toBe(SYMBOL);
    expect(pos!.contracts).toBe(0.01);
    expect(pos!.side).toBe('long');
    expect(pos!.entryPrice).toBe(60000);
    const [short] = await maker.fetchPositions([SYMBOL]);
    expect(short!.side).toBe('short');

    const trades = await maker.fetchTrades(SYMBOL);
    expect(trades.at(-1)!.price).toBe(60000);
  });

  it('sets leverage and rejects an order the margin cannot carry', async () => {
    const r = await taker.setLeverage(10, SYMBOL);
    expect(r.leverage).toBe(10);
    const [pos] = await taker.fetchPositions([SYMBOL], { useV2: true }); // v3 positionRisk carries no leverage
    expect(pos!.leverage).toBe(10);
    expect(pos!.contracts).toBe(0.01);
    const bal = await taker.fetchBalance({ useV2: true });
    expect(bal.USDT!.total).toBeCloseTo(50000 - 0.3, 6);
    await expect(taker.createOrder(SYMBOL, 'limit', 'buy', 100, 59000)).rejects.toThrow(/-2019|Margin is insufficient/);
  });

  it('places, lists and cancels a conditional (algo) order', async () => {
    const stop = await taker.createOrder(SYMBOL, 'market', 'sell', 0.01, undefined, { triggerPrice: 55000, reduceOnly: true });
    expect(stop.status).toBe('open');
    expect(stop.triggerPrice).toBe(55000);
    const open = await taker.fetchOpenOrders(SYMBOL, undefined, undefined, { trigger: true });
    expect(open.map((o) => o.id)).toEqual([stop.id]);
    expect(await taker.fetchOpenOrders(SYMBOL)).toEqual([]); // not a regular open order
    const canceled = await taker.cancelOrder(stop.id!, SYMBOL, { trigger: true });
    expect(canceled.id).toBe(stop.id);
    expect(await taker.fetchOpenOrders(SYMBOL, undefined, undefined, { trigger: true })).toEqual([]);
  });

  it('maps exchange errors: unknown order, bad symbol', async () => {
    await expect(maker.fetchOrder('999999', SYMBOL)).rejects.toThrow(/-2013/);
    await expect(maker.cancelOrder('999999', SYMBOL)).rejects.toThrow(/-2011/);
    const totals = await ex.admin('GET', 'totals');
    expect(totals.body.conserved).toBe(true);
  });
});
