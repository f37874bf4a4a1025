// Transports carry a worker's requests to the target. REST goes through an undici Pool with
// keep-alive: one connection per allowed in-flight request (pipelining 1), so a request is
// written the moment it is dispatched and its service time starts at the real send.
// The handler objects are undici's (legacy, native-path) dispatch handlers: one reusable object
// per in-flight slot, no closures or promises per request.
//
// WebSocket API targets (`ws://…/ws-fapi/v1`, order.place …) implement the same interface
// (WsTransport below).

import { Pool, buildConnector } from 'undici';
import { WebSocket } from 'ws';
import type { Socket } from 'node:net';
import type { RequestSpec } from './request.ts';

/** What a transport needs from an in-flight request and how it reports back. */
export interface CallHandler {
  spec: RequestSpec | null;
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
  onError(err: Error): void;
}

export interface Transport {
  dispatch(call: CallHandler, spec: RequestSpec): void;
  /** Opens connections before the run; rejects with a one-line message if the target is unreachable. */
  preconnect(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Connections opened at once while pre-connecting. */
const preconnectBatch = 16;

export interface TransportOptions {
  url: string;
  maxInFlight: number;
  timeoutMs: number;
}

export function createTransport(opts: TransportOptions): Transport {
  const u = new URL(opts.url);
  if (u.protocol === 'http:' || u.protocol === 'https:') return new RestTransport(opts);
  if (u.protocol === 'ws:' || u.protocol === 'wss:') return new WsTransport(opts);
  throw new Error(`target ${opts.url}: protocol must be http, https, ws or wss`);
}

// Pre-connecting: without it, the first arrivals of a run each find every connection still
// connecting, so the pool opens one connection per arrival, each costing ~0.3 ms of generator
// CPU and a cold connection at the target — measured here as 100–400 ms of inflated latency
// and up to 70 ms of schedule lag in the first second. Sockets are opened before the start
// (TCP only, no request is sent) and handed to the pool as it asks for connections.
class RestTransport implements Transport {
  private readonly pool: Pool;
  private readonly timeoutMs: number;
  private readonly basePath: string;
  private readonly url: URL;
  private readonly connector: buildConnector.connector;
  private readonly ready: Socket[] = [];

  constructor(opts: TransportOptions) {
    const u = new URL(opts.url);
    this.url = u;
    this.basePath = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
    this.timeoutMs = opts.timeoutMs;
    this.connector = buildConnector({ timeout: Math.min(opts.timeoutMs, 10_000) });
    const ready = this.ready;
    const base = this.connector;
    this.pool = new Pool(u.origin, {
      connections: opts.maxInFlight,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect(connectOpts, callback) {
        while (ready.length > 0) {
          const socket = ready.pop()!;
          if (!socket.destroyed && socket.readyState === 'open') {
            // Asynchronously, as a real connect completes: undici's client resumes its queue
            // from this callback, and a synchronous call would re-enter its resume loop.
            process.nextTick(callback, null, socket);
            return;
          }
        }
        base(connectOpts, callback);
      },
    });
  }

  async preconnect(count: number): Promise<void> {
    const u = this.url;
    const target = { hostname: u.hostname, host: u.host, protocol: u.protocol, port: u.port || (u.protocol === 'https:' ? '443' : '80') };
    for (let opened = 0; opened < count; ) {
      const batch = Math.min(preconnectBatch, count - opened);
      const sockets = await Promise.all(Array.from({ length: batch }, () => new Promise<Socket>((resolve, reject) => {
        this.connector(target, (err, socket) => (err === null ? resolve(socket as Socket) : reject(err)));
      }))).catch((e: Error & { code?: string }) => {
        throw new Error(`cannot connect to target ${u.origin}: ${e.code ?? e.message}`);
      });
      this.ready.push(...sockets);
      opened += batch;
    }
  }

  dispatch(call: CallHandler, spec: RequestSpec): void {
    this.pool.dispatch(
      {
        path: this.basePath + spec.path,
        method: spec.method,
        headers: spec.headers ?? null,
        body: spec.body ?? null,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      },
      call,
    );
  }

  async close(): Promise<void> {
    for (const s of this.ready.splice(0)) s.destroy();
    await this.pool.close();
  }
}

/** Error codes the worker maps to its outcome classes (see worker.ts errorCode). */
export const WS_TIMEOUT_CODE = 'UND_ERR_HEADERS_TIMEOUT';

class WsPending {
  call: CallHandler | null = null;
  sentMs = 0;
  conn = 0;
}

/**
 * WebSocket API target (`ws://host:port/ws-fapi/v1`): requests are `{id, method, params}` frames,
 * answers `{id, status, result | error}`, matched by id (they may overtake each other). Several
 * connections share the in-flight requests (at most `perConnectionInFlight` each, under the
 * gateway's per-connection limit); an answer is handed to the worker as a REST-shaped response
 * (status, then `result` or `error` as the body) so flows and the history treat both alike.
 * Timeouts are swept every 100 ms rather than armed per request (no timer per request).
 */
export class WsTransport implements Transport {
  static readonly perConnectionInFlight = 64;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly sockets: WebSocket[] = [];
  private readonly inFlight: number[] = [];
  private readonly pending = new Map<number, WsPending>();
  private readonly free: WsPending[] = [];
  private nextId = 1;
  private rr = 0;
  private readonly sweep: NodeJS.Timeout;

  constructor(opts: TransportOptions) {
    this.url = opts.url;
    this.timeoutMs = opts.timeoutMs;
    const n = Math.max(1, Math.ceil(opts.maxInFlight / WsTransport.perConnectionInFlight));
    for (let i = 0; i < n; i++) this.inFlight.push(0);
    this.sweep = setInterval(() => this.expire(), 100);
    this.sweep.unref();
  }

  async preconnect(): Promise<void> {
    const opened = await Promise.all(this.inFlight.map(() => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false, handshakeTimeout: Math.min(this.timeoutMs, 10_000) });
      ws.once('open', () => resolve(ws));
      ws.once('error', (e: Error & { code?: string }) => reject(new Error(`cannot connect to target ${this.url}: ${e.code ?? e.message}`)));
    }))).catch((e: Error) => {
      for (const ws of this.sockets) ws.terminate();
      throw e;
    });
    opened.forEach((ws, i) => {
      this.sockets.push(ws);
      ws.on('message', (data: Buffer) => this.onMessage(data));
      ws.on('close', () => this.onClose(i));
      ws.on('error', () => {}); // 'close' follows and fails what was pending
    });
  }

  dispatch(call: CallHandler, spec: RequestSpec): void {
    const api = spec.ws;
    if (api === undefined) throw new Error(`${spec.method} ${spec.path.split('?')[0]} has no WebSocket API form (use the binance-order flow with api: "ws")`);
    const conn = this.pickConnection();
    if (conn < 0) {
      const err = new Error('no open WebSocket connection to the target') as Error & { code: string };
      err.code = 'ECONNRESET';
      call.onError(err);
      return;
    }
    const id = this.nextId++;
    const p = this.free.pop() ?? new WsPending();
    p.call = call;
    p.sentMs = Date.now();
    p.conn = conn;
    this.pending.set(id, p);
    this.inFlight[conn]!++;
    call.onConnect(noop);
    this.sockets[conn]!.send(`{"id":${id},"method":${JSON.stringify(api.method)},"params":${JSON.stringify(api.params)}}`);
  }

  private pickConnection(): number {
    const n = this.sockets.length;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      if (this.sockets[i]!.readyState === WebSocket.OPEN && this.inFlight[i]! < WsTransport.perConnectionInFlight) {
        this.rr = (i + 1) % n;
        return i;
      }
    }
    return -1;
  }

  private finish(id: number): CallHandler | null {
    const p = this.pending.get(id);
    if (p === undefined) return null; // timed out already, or not ours
    this.pending.delete(id);
    this.inFlight[p.conn]!--;
    const call = p.call;
    p.call = null;
    this.free.push(p);
    return call;
  }

  private onMessage(data: Buffer): void {
    let msg: { id?: unknown; status?: unknown; result?: unknown; error?: unknown };
    try {
      msg = JSON.parse(data.toString('utf8')) as typeof msg;
    } catch {
      return; // not an answer we can match; the request will time out
    }
    if (typeof msg.id !== 'number') return;
    const call = this.finish(msg.id);
    if (call === null) return;
    const status = typeof msg.status === 'number' ? msg.status : 200;
    call.onHeaders(status, [], noop, '');
    call.onData(Buffer.from(JSON.stringify(msg.error ?? msg.result ?? null)));
    call.onComplete(null);
  }

  private onClose(conn: number): void {
    for (const [id, p] of this.pending) {
      if (p.conn !== conn) continue;
      const call = this.finish(id);
      const err = new Error('WebSocket connection closed') as Error & { code: string };
      err.code = 'ECONNRESET';
      call?.onError(err);
    }
  }

  private expire(): void {
    const cutoff = Date.now() - this.timeoutMs;
    for (const [id, p] of this.pending) {
      if (p.sentMs > cutoff) continue;
      const call = this.finish(id);
      const err = new Error(`no answer within ${this.timeoutMs} ms`) as Error & { code: string };
      err.code = WS_TIMEOUT_CODE;
      call?.onError(err);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweep);
    await Promise.all(this.sockets.map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once('close', () => resolve());
      ws.close(1000);
      setTimeout(() => { ws.terminate(); resolve(); }, 1000).unref();
    })));
  }
}

function noop(): void {}
