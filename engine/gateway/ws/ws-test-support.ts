// Test helpers for the WebSocket front end: a client that queues every message and waits
// for the ones a test asks for, WS API request signing, and a seeded random source.

import { createHmac } from 'node:crypto';
import { WebSocket } from 'ws';
import type { TestAccount } from '../../test/gateway-support.ts';
import { signaturePayload } from './api.ts';

export function wsUrl(httpUrl: string, path: string): string {
  return httpUrl.replace(/^http/, 'ws') + path;
}

export interface Closed {
  code: number;
  reason: string;
}

/** A WebSocket client that keeps every message (parsed) and can wait for one. */
export class TestClient {
  readonly ws: WebSocket;
  readonly messages: any[] = [];
  /** Indexes of messages already returned by next(). */
  private readonly taken = new Set<number>();
  private waiters: (() => void)[] = [];
  closed: Closed | null = null;
  private readonly closedP: Promise<Closed>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const text = data.toString();
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch {
        v = { unparsable: text };
      }
      this.messages.push(v);
      this.wake();
    });
    this.closedP = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        this.wake();
        resolve(this.closed);
      });
    });
    ws.on('error', () => {});
  }

  static open(url: string): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const c = new TestClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode} ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  send(v: unknown): void {
    this.ws.send(typeof v === 'string' ? v : JSON.stringify(v));
  }

  /** The oldest message not yet returned by next() that matches pred; throws after timeoutMs. */
  async next(pred: (m: any) => boolean = () => true, timeoutMs = 5_000): Promise<any> {
    const until = Date.now() + timeoutMs;
    let from = 0;
    for (;;) {
      for (let i = from; i < this.messages.length; i++) {
        if (this.taken.has(i) || !pred(this.messages[i])) continue;
        this.taken.add(i);
        return this.messages[i];
      }
      from = this.messages.length;
      if (this.closed !== null) throw new Error(`closed ${this.closed.code} ${this.closed.reason} while waiting`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a message; last: ${JSON.stringify(this.messages.slice(-3)).slice(0, 400)}`);
      await this.changed(left);
    }
  }

  /** Send a request with an id and wait for the message carrying that id. */
  async request(v: Record<string, unknown>, timeoutMs = 5_000): Promise<any> {
    this.send(v);
    const id = v.id;
    return this.next((m) => m !== null && typeof m === 'object' && m.id === id, timeoutMs);
  }

  /** Every message so far matching pred (does not move the cursor). */
  all(pred: (m: any) => boolean): any[] {
    return this.messages.filter(pred);
  }

  waitClosed(timeoutMs = 10_000): Promise<Closed> {
    return Promise.race([this.closedP, new Promise<Closed>((_, reject) => setTimeout(() => reject(new Error('not closed')), timeoutMs))]);
  }

  close(): void {
    if (this.closed === null) this.ws.terminate();
  }
}

/** WS API params signed the Binance way (sorted `k=v`, HMAC-SHA256 hex). */
export function signedParams(acct: TestAccount, params: Record<string, string | number | boolean>, o: { secret?: string; timestamp?: number } = {}): Record<string, string | number | boolean> {
  const all: Record<string, string | number | boolean> = { ...params, apiKey: acct.apiKey, timestamp: o.timestamp ?? Date.now() };
  const map = new Map(Object.entries(all).map(([k, v]) => [k, String(v)]));
  const signature = createHmac('sha256', o.secret ?? acct.secretKey).update(signaturePayload(map)).digest('hex');
  return { ...all, signature };
}

/** mulberry32: a small seeded PRNG (tests print the seed so a failure replays). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until pred() holds (or throw after timeoutMs). */
export async function until(pred: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
