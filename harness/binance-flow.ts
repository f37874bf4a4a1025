// A seeded, signed Binance USDⓈ-M order flow, as a real client would send it:
//   makers  – LIMIT GTC quotes a few ticks off a random-walk mid, each with a client order id
//             kept in a bounded ring so it can be cancelled later;
//   takers  – LIMIT IOC orders priced through the mid (they trade against resting quotes);
//   cancels – DELETE /fapi/v1/order by origClientOrderId of the oldest quote in the ring;
//   momentum bursts (momentumProb > 0) – a run of momentumLen takers in one direction, each
//             moving the mid a tick that way, as a trend-following crowd does;
//   reduce-only closes (reduceOnlyShare > 0) – IOC orders with reduceOnly=true against the
//             position the stream's takers built (the server rejects -2022 when the real
//             position, which makers also change, has nothing to reduce on that side).
// api: "ws" sends the same operations over the WebSocket API (order.place / order.cancel,
// params signed sorted by name, as the WS API signs) instead of REST.
// POST params go form-encoded in the body, DELETE params in the query string; both carry
// recvWindow and timestamp and end with signature = hex HMAC-SHA256(secret, params) (see
// shared/reference/binance-usdm.md). k6-export.ts emits the same algorithm in JavaScript;
// k6-export.test.ts proves the two produce identical requests for the same seed.
//
// Other models (say, liquidation-driving index moves, which need the admin API) plug in as
// `{ factory: 'module' }` factories with the same RequestFactory shape; the chaos market
// experiments drive index shocks.

import { createHmac } from 'node:crypto';
import { Rng, deriveSeed } from './rng.ts';
import type { FactoryContext, RequestFactory, RequestSpec } from './request.ts';

export interface BinanceAccount {
  apiKey: string;
  secretKey: string;
}

export interface BinanceFlowOptions {
  symbol?: string;
  accounts?: BinanceAccount[];
  /** Starting mid price (quote units) and the symbol's filters. */
  midPrice?: number;
  tickSize?: number;
  stepSize?: number;
  /** Order size in steps: uniform in [minQtySteps, maxQtySteps]. */
  minQtySteps?: number;
  maxQtySteps?: number;
  /** Makers quote 1..spreadTicks ticks away from the mid. */
  spreadTicks?: number;
  /** Takers price this many ticks through the mid. */
  takerThroughTicks?: number;
  takerShare?: number;
  cancelShare?: number;
  /** Probability per request that the mid moves one tick. */
  midStepProb?: number;
  recvWindow?: number;
  /** Quotes remembered per stream for cancelling (older ones are left resting). */
  cancelRingSize?: number;
  /** Prefix of client order ids, unique per run so reruns against one server do not collide. */
  runTag?: string;
  /** Probability per operation that a momentum burst starts (0 = none). */
  momentumProb?: number;
  /** Takers in one burst. */
  momentumLen?: number;
  /** Share of operations that are reduce-only IOC closes (0 = none). */
  reduceOnlyShare?: number;
  /** "rest" (default) or "ws": the WebSocket API (target ws://host:port/ws-fapi/v1). */
  api?: 'rest' | 'ws';
}

export type NormalizedBinanceFlow = Required<BinanceFlowOptions>;

export const BINANCE_FLOW_DEFAULTS: Omit<NormalizedBinanceFlow, 'accounts' | 'runTag'> = {
  symbol: 'BTCUSDT', midPrice: 50_000, tickSize: 0.1, stepSize: 0.001, minQtySteps: 1, maxQtySteps: 20,
  spreadTicks: 20, takerThroughTicks: 10, takerShare: 0.3, cancelShare: 0.25, midStepProb: 0.05,
  recvWindow: 5000, cancelRingSize: 256, momentumProb: 0, momentumLen: 20, reduceOnlyShare: 0, api: 'rest',
};

const maxCancelRingSize = 65_536;

export function normalizeBinanceFlow(raw: Record<string, unknown>): NormalizedBinanceFlow {
  const o = { ...BINANCE_FLOW_DEFAULTS, accounts: [] as BinanceAccount[], runTag: Date.now().toString(36).slice(-5), ...stripFactory(raw) } as NormalizedBinanceFlow;
  const positive = (k: keyof NormalizedBinanceFlow): void => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`request.${k} must be a positive number`);
  };
  for (const k of ['midPrice', 'tickSize', 'stepSize', 'minQtySteps', 'maxQtySteps', 'spreadTicks', 'takerThroughTicks', 'recvWindow', 'cancelRingSize'] as const) positive(k);
  for (const k of ['takerShare', 'cancelShare', 'midStepProb', 'momentumProb', 'reduceOnlyShare'] as const) {
    if (typeof o[k] !== 'number' || o[k] < 0 || o[k] > 1) throw new Error(`request.${k} must be a probability in [0, 1]`);
  }
  if (o.takerShare + o.cancelShare + o.reduceOnlyShare > 1) throw new Error('request.takerShare + request.cancelShare + request.reduceOnlyShare must be <= 1');
  if (!Number.isInteger(o.momentumLen) || o.momentumLen < 1 || o.momentumLen > 10_000) throw new Error('request.momentumLen must be an integer in [1, 10000]');
  if (o.api !== 'rest' && o.api !== 'ws') throw new Error('request.api must be "rest" or "ws"');
  if (o.minQtySteps > o.maxQtySteps) throw new Error('request.minQtySteps must be <= request.maxQtySteps');
  if (o.cancelRingSize > maxCancelRingSize) throw new Error(`request.cancelRingSize must be <= ${maxCancelRingSize}`);
  if (typeof o.symbol !== 'string' || !/^[A-Z0-9]{2,20}$/.test(o.symbol)) throw new Error('request.symbol must be like BTCUSDT');
  if (typeof o.runTag !== 'string' || !/^[a-z0-9]{1,8}$/i.test(o.runTag)) throw new Error('request.runTag must be 1-8 letters/digits');
  if (!Array.isArray(o.accounts)) throw new Error('request.accounts must be an array of {apiKey, secretKey}');
  o.accounts.forEach((a, i) => {
    if (a === null || typeof a !== 'object' || typeof a.apiKey !== 'string' || typeof a.secretKey !== 'string') {
      throw new Error(`request.accounts[${i}] must be {apiKey, secretKey}`);
    }
  });
  return o;
}

function stripFactory(raw: Record<string, unknown>): Record<string, unknown> {
  const { factory: _factory, ...rest } = raw;
  return rest;
}

/** Lowercase hex HMAC-SHA256 of the total params (query string + body), as Binance signs. */
export function signParams(totalParams: string, secretKey: string): string {
  return createHmac('sha256', secretKey).update(totalParams).digest('hex');
}

function decimals(step: number): number {
  const text = String(step);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** The pure part of the flow (no signing), shared in spirit with the k6 version. */
export class BinanceFlowState {
  midTicks: number;
  n = 0;
  private readonly rng: Rng;
  private readonly ringAccount: Int32Array;
  private readonly ringId: string[];
  private ringHead = 0;
  private ringCount = 0;
  readonly o: NormalizedBinanceFlow;
  readonly stream: number;
  private readonly priceDecimals: number;
  private readonly qtyDecimals: number;
  /** Takers left in the current momentum burst, and its direction (+1 buy, −1 sell). */
  private burstLeft = 0;
  private burstDir = 1;
  /** Net quantity (in steps) the stream's takers bought per account: what reduce-only closes reduce. */
  private readonly takenSteps: Int32Array;

  constructor(o: NormalizedBinanceFlow, stream: number, seed: number) {
    this.o = o;
    this.stream = stream;
    this.rng = new Rng(deriveSeed(seed, stream));
    this.midTicks = Math.round(o.midPrice / o.tickSize);
    this.ringAccount = new Int32Array(o.cancelRingSize);
    this.ringId = new Array<string>(o.cancelRingSize).fill('');
    this.priceDecimals = decimals(o.tickSize);
    this.qtyDecimals = decimals(o.stepSize);
    this.takenSteps = new Int32Array(Math.max(1, o.accounts.length));
  }

  private order(account: number, buy: boolean, priceTicks: number, tif: string, qtySteps: number, cid: string, reduceOnly: boolean): [string, string][] {
    const o = this.o;
    const params: [string, string][] = [
      ['symbol', o.symbol], ['side', buy ? 'BUY' : 'SELL'], ['type', 'LIMIT'], ['timeInForce', tif],
      ['quantity', (qtySteps * o.stepSize).toFixed(this.qtyDecimals)], ['price', (priceTicks * o.tickSize).toFixed(this.priceDecimals)],
      ['newClientOrderId', cid], ['newOrderRespType', 'ACK'],
    ];
    if (reduceOnly) params.push(['reduceOnly', 'true']);
    if (tif === 'IOC') this.takenSteps[account] = this.takenSteps[account]! + (buy ? qtySteps : -qtySteps);
    return params;
  }

  /** The next operation as [method, op, account index, ordered params without timestamp/signature]. */
  step(): { method: 'POST' | 'DELETE'; op: 'place' | 'cancel' | 'close'; account: number; params: [string, string][] } {
    const o = this.o;
    const rng = this.rng;
    const accounts = Math.max(1, o.accounts.length);
    this.n++;
    // The extra models draw from the stream only when enabled, so the basic flow (and its k6
    // twin) stays the same sequence for the same seed.
    if (this.burstLeft > 0 || (o.momentumProb > 0 && rng.float() < o.momentumProb)) return this.momentumTaker(accounts);
    if (rng.float() < o.midStepProb) this.midTicks += rng.float() < 0.5 ? -1 : 1;
    if (o.reduceOnlyShare > 0 && rng.float() < o.reduceOnlyShare) {
      const account = (this.stream + this.n) % accounts;
      const held = this.takenSteps[account]!;
      if (held !== 0) {
        const buy = held < 0;
        const qty = Math.min(Math.abs(held), o.maxQtySteps);
        const priceTicks = this.midTicks + (buy ? o.takerThroughTicks : -o.takerThroughTicks);
        return { method: 'POST', op: 'close', account, params: this.order(account, buy, priceTicks, 'IOC', qty, `${o.runTag}-${this.stream}-${this.n}`, true) };
      }
    }
    const u = rng.float();
    if (u < o.cancelShare && this.ringCount > 0) {
      const slot = (this.ringHead - this.ringCount + o.cancelRingSize) % o.cancelRingSize;
      this.ringCount--;
      return { method: 'DELETE', op: 'cancel', account: this.ringAccount[slot]!, params: [['symbol', o.symbol], ['origClientOrderId', this.ringId[slot]!]] };
    }
    const buy = rng.float() < 0.5;
    const qtySteps = o.minQtySteps + rng.int(o.maxQtySteps - o.minQtySteps + 1);
    const account = (this.stream + this.n) % accounts;
    const cid = `${o.runTag}-${this.stream}-${this.n}`;
    let priceTicks: number;
    let tif: string;
    if (u < o.cancelShare + o.takerShare) {
      priceTicks = this.midTicks + (buy ? o.takerThroughTicks : -o.takerThroughTicks);
      tif = 'IOC';
    } else {
      const away = 1 + rng.int(o.spreadTicks);
      priceTicks = this.midTicks + (buy ? -away : away);
      tif = 'GTC';
      this.ringAccount[this.ringHead] = account;
      this.ringId[this.ringHead] = cid;
      this.ringHead = (this.ringHead + 1) % o.cancelRingSize;
      this.ringCount = Math.min(o.cancelRingSize, this.ringCount + 1);
    }
    return { method: 'POST', op: 'place', account, params: this.order(account, buy, priceTicks, tif, qtySteps, cid, false) };
  }

  /** One taker of a momentum burst: same direction for the whole burst, the mid follows it. */
  private momentumTaker(accounts: number): { method: 'POST'; op: 'place'; account: number; params: [string, string][] } {
    const o = this.o;
    const rng = this.rng;
    if (this.burstLeft === 0) {
      this.burstLeft = o.momentumLen;
      this.burstDir = rng.float() < 0.5 ? -1 : 1;
    }
    this.burstLeft--;
    this.midTicks += this.burstDir;
    const buy = this.burstDir > 0;
    const account = (this.stream + this.n) % accounts;
    const qtySteps = o.minQtySteps + rng.int(o.maxQtySteps - o.minQtySteps + 1);
    const priceTicks = this.midTicks + (buy ? o.takerThroughTicks : -o.takerThroughTicks);
    return { method: 'POST', op: 'place', account, params: this.order(account, buy, priceTicks, 'IOC', qtySteps, `${o.runTag}-${this.stream}-${this.n}`, false) };
  }
}

/** Encodes params, appends recvWindow, timestamp and signature. */
export function signedQuery(params: readonly [string, string][], recvWindow: number, timestampMs: number, secretKey: string): string {
  let q = '';
  for (const [k, v] of params) q += `${q.length === 0 ? '' : '&'}${k}=${encodeURIComponent(v)}`;
  q += `&recvWindow=${recvWindow}&timestamp=${timestampMs}`;
  return `${q}&signature=${signParams(q, secretKey)}`;
}

/** WS API signature: HMAC over every param but signature, sorted by name, `k=v` joined by '&'. */
export function signWsParams(params: Record<string, string>, secretKey: string): string {
  const keys = Object.keys(params).sort();
  let payload = '';
  for (const k of keys) payload += `${payload.length === 0 ? '' : '&'}${k}=${params[k]}`;
  return signParams(payload, secretKey);
}

function wsSpec(s: ReturnType<BinanceFlowState['step']>, acct: BinanceAccount, recvWindow: number, timestampMs: number): RequestSpec {
  const params: Record<string, string> = Object.fromEntries(s.params);
  params.apiKey = acct.apiKey;
  params.recvWindow = String(recvWindow);
  params.timestamp = String(timestampMs);
  params.signature = signWsParams(params, acct.secretKey);
  const summary = { ...Object.fromEntries(s.params), account: s.account };
  return { method: s.method, path: '/ws-fapi/v1', op: s.op, summary, ws: { method: s.method === 'POST' ? 'order.place' : 'order.cancel', params } };
}

export function createBinanceOrderFactory(o: NormalizedBinanceFlow, ctx: FactoryContext): RequestFactory {
  if (o.accounts.length === 0) throw new Error('binance-order flow needs request.accounts (apiKey/secretKey pairs); create them with the admin API first');
  const state = new BinanceFlowState(o, ctx.workerIndex, ctx.seed);
  return {
    wantsBody: true,
    next(): RequestSpec {
      const s = state.step();
      const acct = o.accounts[s.account]!;
      if (o.api === 'ws') return wsSpec(s, acct, o.recvWindow, Date.now());
      const signed = signedQuery(s.params, o.recvWindow, Date.now(), acct.secretKey);
      const summary = Object.fromEntries(s.params);
      if (s.method === 'POST') {
        return {
          method: 'POST', path: '/fapi/v1/order', op: s.op, body: signed, summary: { ...summary, account: s.account },
          headers: { 'x-mbx-apikey': acct.apiKey, 'content-type': 'application/x-www-form-urlencoded' },
        };
      }
      return { method: 'DELETE', path: `/fapi/v1/order?${signed}`, op: s.op, summary: { ...summary, account: s.account }, headers: { 'x-mbx-apikey': acct.apiKey } };
    },
    onResponse(_spec, status, body) {
      if (body.length === 0 || body.length > 4096) return { status };
      try {
        const j = JSON.parse(body) as Record<string, unknown>;
        return status < 400 ? { orderId: j.orderId, status: j.status, executedQty: j.executedQty } : { code: j.code, msg: j.msg };
      } catch {
        return { status, body: body.slice(0, 200) };
      }
    },
  };
}
