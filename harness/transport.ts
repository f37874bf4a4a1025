// Transports carry a worker's requests to the target. REST goes through an undici Pool with
// keep-alive: one connection per allowed in-flight request (pipelining 1), so a request is
// written the moment it is dispatched and its service time starts at the real send.
// The handler objects are undici's (legacy, native-path) dispatch handlers: one reusable object
// per in-flight slot, no closures or promises per request.
//
// WebSocket API targets (`/ws-fapi/v1`, order.place …) will implement the same Transport
// interface; until the gateway exists it is a stub that refuses to start.

import { Pool, buildConnector } from 'undici';
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

/** Stub until the gateway's WebSocket API exists (issue 4). */
export class WsTransport implements Transport {
  constructor(opts: TransportOptions) {
    throw new Error(`target ${opts.url}: WebSocket API targets are not implemented yet (needs the gateway's /ws-fapi/v1)`);
  }

  dispatch(): void {
    throw new Error('unreachable');
  }

  async preconnect(): Promise<void> {}

  async close(): Promise<void> {}
}
