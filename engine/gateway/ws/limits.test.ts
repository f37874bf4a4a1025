// Every WebSocket bound is enforced at its named limit: a slow consumer is disconnected
// with 1008 and a reason once its outbound buffer passes outboundBufferBytesMax (and the
// server keeps serving everyone else); connections, streams per connection, message size
// (error frame) and frame size (close 1009), inbound message rate (close 1008) and ping
// timeouts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { limitOrder, marketOrder } from '../../core/commands.ts';
import { startTestExchange } from '../../test/gateway-support.ts';
import type { TestExchange } from '../../test/gateway-support.ts';
import { sleep, TestClient, until, wsUrl } from './ws-test-support.ts';

describe('WebSocket limits', () => {
  let ex: TestExchange;

  beforeAll(async () => {
    ex = await startTestExchange({
      gateway: {
        noRateLimit: true,
        ws: {
          outboundBufferBytesMax: 64 * 1024, connectionsMax: 8, streamsPerConnectionMax: 3, messageBytesMax: 1_024,
          frameBytesMax: 4_096, inboundMessagesPerSecondMax: 5, closeGraceMs: 10_000,
        },
      },
    });
  });

  afterAll(async () => {
    expect(ex.gw.state.stats.internalErrors).toBe(0);
    expect(ex.gw.ws.stats.internalErrors).toBe(0);
    await ex.close();
  });

  it('a client that stops reading is closed with 1008 and a reason; others are unaffected', async () => {
    const makers = [];
    for (let i = 0; i < 4; i++) makers.push((await ex.createAccount('10000000')).accountId);
    const taker = (await ex.createAccount('10000000')).accountId;
    const slow = await TestClient.open(wsUrl(ex.url, '/stream?streams=btcusdt@aggTrade/btcusdt@depth@100ms'));
    const healthy = await TestClient.open(wsUrl(ex.url, '/ws/btcusdt@aggTrade'));
    const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause(); // stop reading: the kernel buffers fill, then ws.bufferedAmount grows
    // Waves of 600 single-lot fills (one aggTrade each) across 600 levels (a large diff).
    for (let w = 0; w < 200 && ex.gw.ws.stats.slowConsumers === 0; w++) {
      const sell = w % 2 === 0;
      const rests = makers.flatMap((m, k) => Array.from({ length: 150 }, (_, i) => {
        const off = 1 + k * 150 + i;
        return ex.host.submit(limitOrder(m, 0, sell ? 'SELL' : 'BUY', sell ? 600_000 + off : 600_000 - off, 2));
      }));
      await Promise.all(rests);
      await ex.host.submit(marketOrder(taker, 0, sell ? 'BUY' : 'SELL', 1_200));
      await sleep(5);
    }
    expect(ex.gw.ws.stats.slowConsumers).toBe(1);
    socket.resume();
    const closed = await slow.waitClosed();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^Slow consumer/);
    // The healthy client kept up and still receives; the server answers everyone else.
    const seen = healthy.messages.length;
    await ex.host.submit(limitOrder(makers[0]!, 0, 'SELL', 600_100, 2));
    await ex.host.submit(marketOrder(taker, 0, 'BUY', 2));
    await until(() => healthy.messages.length > seen, 3_000, 'a fresh aggTrade');
    expect(healthy.closed).toBeNull();
    expect((await fetch(`${ex.url}/fapi/v1/ping`)).status).toBe(200);
    healthy.close();
  });

  it('connections beyond connectionsMax get HTTP 503 {code:-1008}', async () => {
    await until(() => ex.gw.ws.connections === 0, 3_000, 'earlier clients gone');
    const open = [];
    for (let i = 0; i < 8; i++) open.push(await TestClient.open(wsUrl(ex.url, '/ws')));
    await expect(TestClient.open(wsUrl(ex.url, '/ws'))).rejects.toMatchObject({ status: 503, body: expect.stringContaining('-1008') });
    open.pop()!.close();
    await until(() => ex.gw.ws.connections === 7, 3_000, 'a slot');
    open.push(await TestClient.open(wsUrl(ex.url, '/ws')));
    for (const c of open) c.close();
  });

  it('streams per connection, message size, frame size, inbound rate', async () => {
    await until(() => ex.gw.ws.connections === 0, 3_000, 'earlier clients gone');
    const c = await TestClient.open(wsUrl(ex.url, '/market/ws'));
    expect(await c.request({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade', 'btcusdt@ticker', 'ethusdt@ticker'], id: 1 })).toEqual({ result: null, id: 1 });
    expect(await c.request({ method: 'SUBSCRIBE', params: ['ethusdt@aggTrade'], id: 2 })).toMatchObject({ error: { code: 2, msg: expect.stringContaining('at most 3') }, id: 2 });
    await expect(TestClient.open(wsUrl(ex.url, '/stream?streams=a@x/b@y/c@z/d@w'))).rejects.toMatchObject({ status: 400 });
    await sleep(1_000); // a fresh second for the inbound rate
    c.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 3, pad: 'x'.repeat(2_000) }));
    expect((await c.next((m) => m.error !== undefined)).error.msg).toContain('too large');
    c.close();
    const big = await TestClient.open(wsUrl(ex.url, '/ws'));
    big.send('x'.repeat(5_000));
    expect((await big.waitClosed()).code).toBe(1009);
    const chatty = await TestClient.open(wsUrl(ex.url, '/ws'));
    for (let i = 0; i < 20; i++) chatty.send({ method: 'LIST_SUBSCRIPTIONS', id: 100 + i });
    const closed = await chatty.waitClosed();
    expect(closed).toMatchObject({ code: 1008, reason: expect.stringContaining('Too many messages') });
  });

  it('a client that does not answer pings is dropped; one that does stays', async () => {
    const ex2 = await startTestExchange({ gateway: { ws: { pingIntervalMs: 150 } } });
    const mute = new WebSocket(wsUrl(ex2.url, '/ws'), { autoPong: false });
    const muteClosed = new Promise<number>((resolve) => mute.on('close', (code) => resolve(code)));
    await new Promise((resolve) => mute.once('open', resolve));
    const live = await TestClient.open(wsUrl(ex2.url, '/ws'));
    expect(await muteClosed).toBe(1006); // cut without a close frame
    expect(ex2.gw.ws.stats.pingTimeouts).toBe(1);
    await sleep(400);
    expect(live.closed).toBeNull();
    expect(await live.request({ method: 'LIST_SUBSCRIPTIONS', id: 1 })).toEqual({ result: [], id: 1 });
    live.close();
    await ex2.close();
  });
});
