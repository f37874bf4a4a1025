// Diff-depth streams are gap-free and let a client rebuild the book the Binance way.
//
// How: a seeded burst of random commands (limit orders that rest and cross, IOC/GTX/market
// orders, cancels, modifies, from several accounts) goes straight to the host while a
// client listens on btcusdt@depth@100ms. Every event must continue the previous one
// (pu = previous u, U = pu + 1, U ≤ u). Three simulated clients take REST snapshots at
// different moments of the burst and sync the Binance way (drop u < lastUpdateId, first
// event has U ≤ lastUpdateId ≤ u, then apply in order); once the burst is over each local
// book must equal GET /fapi/v1/depth. The unit part checks diffSide against a model.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitOrder, marketOrder } from '../../core/commands.ts';
import type { Command } from '../../core/commands.ts';
import { startTestExchange } from '../../test/gateway-support.ts';
import type { TestExchange } from '../../test/gateway-support.ts';
import { applyLevels, diffSide, windowOf } from './depth.ts';
import { rng, sleep, TestClient, wsUrl } from './ws-test-support.ts';

describe('diffSide (unit)', () => {
  it('applying the diff to the old window gives the new window, for any two books and touches', () => {
    const side = fc.dictionary(fc.integer({ min: 1, max: 60 }).map(String), fc.integer({ min: 1, max: 5 }), { maxKeys: 30 });
    fc.assert(fc.property(side, side, fc.array(fc.integer({ min: 1, max: 60 })), fc.boolean(), fc.integer({ min: 1, max: 40 }), (a, b, touched, desc, limit) => {
      const bookA = new Map(Object.entries(a).map(([p, q]) => [Number(p), q]));
      const bookB = new Map(Object.entries(b).map(([p, q]) => [Number(p), q]));
      const prev = windowOf(bookA, limit, desc);
      const next = windowOf(bookB, limit, desc);
      const diff = diffSide(prev, next, touched, desc);
      const local = new Map(prev);
      applyLevels(local, diff);
      expect(windowOf(local, 1_000, desc)).toEqual(next);
      for (const p of touched) expect(diff.some(([x]) => x === p)).toBe(true);
      for (let i = 1; i < diff.length; i++) expect(desc ? diff[i - 1]![0] > diff[i]![0] : diff[i - 1]![0] < diff[i]![0]).toBe(true);
    }), { numRuns: 300 });
  });
});

interface DepthEvent { e: string; U: number; u: number; pu: number; b: [string, string][]; a: [string, string][] }
interface Snapshot { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] }

/** A Binance-style local book: snapshot + buffered diffs. */
class LocalBook {
  readonly bids = new Map<string, string>();
  readonly asks = new Map<string, string>();
  nonce = -1;
  applied = 0;

  sync(snap: Snapshot, events: DepthEvent[]): void {
    for (const [p, q] of snap.bids) this.bids.set(p, q);
    for (const [p, q] of snap.asks) this.asks.set(p, q);
    this.nonce = snap.lastUpdateId;
    let first = true;
    for (const e of events) {
      if (e.u < this.nonce) continue; // 4. drop events older than the snapshot
      if (first) {
        expect(e.U <= this.nonce && e.u >= this.nonce).toBe(true); // 5. the first straddles it
        first = false;
      } else {
        expect(e.pu).toBe(this.nonce); // 6. then each continues the last
      }
      this.apply(e);
    }
  }

  private apply(e: DepthEvent): void {
    for (const [p, q] of e.b) if (Number(q) === 0) this.bids.delete(p); else this.bids.set(p, q);
    for (const [p, q] of e.a) if (Number(q) === 0) this.asks.delete(p); else this.asks.set(p, q);
    this.nonce = e.u;
    this.applied++;
  }

  sorted(): { bids: [string, string][]; asks: [string, string][] } {
    return {
      bids: Array.from(this.bids).sort((x, y) => Number(y[0]) - Number(x[0])),
      asks: Array.from(this.asks).sort((x, y) => Number(x[0]) - Number(y[0])),
    };
  }
}

describe('diff depth over WebSocket under a burst of random orders', () => {
  let ex: TestExchange;
  const accounts: number[] = [];

  beforeAll(async () => {
    // Small host batches: REST snapshots interleave with the burst at arbitrary seqs.
    ex = await startTestExchange({ host: { batchMax: 16 } });
    for (let i = 0; i < 6; i++) accounts.push((await ex.createAccount('1000000')).accountId);
  });

  afterAll(async () => {
    expect(ex.gw.state.stats.internalErrors).toBe(0);
    expect(ex.gw.ws.stats.internalErrors).toBe(0);
    await ex.close();
  });

  it('is gap-free and snapshot + diffs equals REST depth', async () => {
    const seed = Number(process.env.PERPX_SEED ?? Date.now() % 1_000_000);
    console.log(`depth burst seed=${seed} (PERPX_SEED=${seed} replays)`);
    const rand = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const client = await TestClient.open(wsUrl(ex.url, '/ws/btcusdt@depth@100ms'));
    const open = new Map<number, number>(); // orderId → account
    const track = (events: { type: string; orderId?: number; accountId?: number; status?: string }[]): void => {
      for (const e of events) {
        if (e.type !== 'order') continue;
        if (e.status === 'NEW' || e.status === 'PARTIALLY_FILLED') open.set(e.orderId!, e.accountId!);
        else open.delete(e.orderId!);
      }
    };
    const randomCommand = (): Command => {
      const a = pick(accounts);
      const r = rand();
      const lots = 2 + Math.floor(rand() * 40);
      if (r < 0.5 || open.size === 0) {
        const side = rand() < 0.5 ? 'BUY' : 'SELL';
        const price = side === 'BUY' ? 599_500 + Math.floor(rand() * 600) : 599_900 + Math.floor(rand() * 600);
        const tif = rand() < 0.85 ? 'GTC' : pick(['IOC', 'GTX'] as const);
        return limitOrder(a, 0, side, price, lots, { tif });
      }
      const [orderId, owner] = pick(Array.from(open));
      if (r < 0.78) return { type: 'cancel', accountId: owner, symbolId: 0, orderId, clientOrderId: '' };
      if (r < 0.9) return { type: 'modify', accountId: owner, symbolId: 0, orderId, clientOrderId: '', priceTicks: 599_700 + Math.floor(rand() * 600), qtyLots: 60 + lots };
      return marketOrder(a, 0, rand() < 0.5 ? 'BUY' : 'SELL', lots);
    };
    let rejects = 0;
    const snapshots: { at: number; snap: Snapshot }[] = [];
    const waves = 30;
    const snapAt = new Set([3, 9, 15, 22, 27]);
    const snapping: Promise<void>[] = [];
    for (let w = 0; w < waves; w++) {
      // Snapshots are requested while the wave's commands are queued: they land mid-burst.
      if (snapAt.has(w)) {
        snapping.push(fetch(`${ex.url}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`).then(async (res) => {
          snapshots.push({ at: client.messages.length, snap: (await res.json()) as Snapshot });
        }));
      }
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 60; i++) pending.push(ex.host.submit(randomCommand()).then((r) => { if (r.events[0]?.type === 'reject') rejects++; track(r.events as never); }));
      await Promise.all(pending);
      await sleep(10 + Math.floor(rand() * 50));
    }
    await Promise.all(snapping);
    // Quiet: no command runs any more; the last diff arrives within a few 100 ms periods.
    const final = (await (await fetch(`${ex.url}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`)).json()) as Snapshot;
    await quiet(client, 400);
    const events = client.messages as DepthEvent[];
    expect(events.length).toBeGreaterThan(5);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      expect(e.e).toBe('depthUpdate');
      expect(e.U).toBe(e.pu + 1);
      expect(e.U).toBeLessThanOrEqual(e.u);
      if (i > 0) expect(e.pu).toBe(events[i - 1]!.u);
    }
    expect(events.at(-1)!.u).toBeLessThanOrEqual(final.lastUpdateId);
    expect(rejects).toBeLessThan(waves * 60 / 2); // most commands did something
    for (const { snap } of snapshots) {
      const book = new LocalBook();
      book.sync(snap, events);
      expect(book.applied).toBeGreaterThan(0);
      expect(book.sorted()).toEqual({ bids: final.bids, asks: final.asks });
    }
    // A client that syncs only at the end (snapshot = final) also agrees.
    const late = new LocalBook();
    late.sync(final, events);
    expect(late.sorted()).toEqual({ bids: final.bids, asks: final.asks });
    expect(final.bids.length + final.asks.length).toBeGreaterThan(20);
    client.close();
  });
});

/** Wait until no message has arrived for quietMs. */
async function quiet(client: TestClient, quietMs: number): Promise<void> {
  let n = -1;
  while (n !== client.messages.length) {
    n = client.messages.length;
    await sleep(quietMs);
  }
}
