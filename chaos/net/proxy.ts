// A TCP fault proxy (Toxiproxy-like) on node:net: it listens on its own port and forwards every
// connection to the target (the gateway), passing each direction's bytes through the toxics
// bound to it (toxics.ts). Toxics are added and removed at runtime, which is how a chaos Fault
// injects and clears a network fault while the load keeps running.
//
// Bounded: at most `connectionsMax` links; per direction at most QUEUE_SLOTS chunks and about
// QUEUE_BYTES_HIGH bytes wait in the delay queue before the source socket is paused (TCP
// backpressure reaches the sender). Chunks are node's own Buffers, sliced with subarray (no
// copies; one view per emitted piece, never per byte). With no toxic bound and nothing queued a
// chunk is written straight through.

import net from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Rng } from '../../harness/rng.ts';
import { describeToxic, makeToxic } from './toxics.ts';
import type { Direction, Toxic, ToxicInput } from './toxics.ts';

const QUEUE_SLOTS = 1024;
const QUEUE_BYTES_HIGH = 1 << 20;
const QUEUE_BYTES_LOW = 256 << 10;
/** Bandwidth pacing quantum: the bytes of this many ms go out together. */
const BANDWIDTH_QUANTUM_MS = 20;
export const PROXY_CONNECTIONS_MAX_DEFAULT = 4_096;

export interface FaultProxyOptions {
  targetHost?: string;
  targetPort: number;
  /** Default 127.0.0.1. */
  listenHost?: string;
  /** 0 (default): a free port. */
  listenPort?: number;
  /** Seeds the probability rolls, jitter and slice sizes. */
  seed?: number;
  connectionsMax?: number;
}

export interface FaultProxyStats {
  connectionsAccepted: number;
  connectionsRefused: number;
  connectionsOpen: number;
  upstreamBytes: number;
  downstreamBytes: number;
  droppedBytes: number;
  resets: number;
  limitCloses: number;
  timeoutCloses: number;
  upstreamConnectErrors: number;
  /** Chunks given a latency toxic's delay. */
  delayedChunks: number;
  /** Pieces paced by a bandwidth toxic / cut by a slicer toxic. */
  pacedPieces: number;
  slicedPieces: number;
  /** FINs held back by a slow-close toxic. */
  slowCloses: number;
}

const now = (): number => performance.now();

/** A toxic as bound to one pipe (its per-connection state). */
class Bound {
  readonly toxic: Toxic;
  /** limit-data: bytes still allowed through. */
  remainingBytes: number;
  /** reset-peer: fired once data arrived. */
  fired = false;
  timer: NodeJS.Timeout | null = null;
  constructor(toxic: Toxic) {
    this.toxic = toxic;
    this.remainingBytes = toxic.spec.type === 'limit-data' ? toxic.spec.bytes : 0;
  }
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** One direction of one link: src → toxics → delay queue → dst. */
class Pipe {
  readonly link: Link;
  readonly direction: Direction;
  readonly src: Socket;
  readonly dst: Socket;
  readonly bound: Bound[] = [];
  private readonly bufs: (Buffer | null)[] = new Array<Buffer | null>(QUEUE_SLOTS).fill(null);
  private readonly atMs = new Float64Array(QUEUE_SLOTS);
  private head = 0;
  private count = 0;
  private queuedBytes = 0;
  private lastAtMs = 0;
  private bandwidthFreeMs = 0;
  private pumpTimer: NodeJS.Timeout | null = null;
  private endTimer: NodeJS.Timeout | null = null;
  private waitingDrain = false;
  private srcPaused = false;
  private srcEnded = false;
  private ending = false;
  /** limit-data reached: close the link once the queue is written. */
  private closeWhenFlushed = false;
  private readonly pumpBound = (): void => { this.pumpTimer = null; this.pump(); };

  constructor(link: Link, direction: Direction, src: Socket, dst: Socket) {
    this.link = link;
    this.direction = direction;
    this.src = src;
    this.dst = dst;
    src.on('data', (chunk: Buffer) => this.onData(chunk));
    src.on('end', () => this.onEnd());
    dst.on('drain', () => {
      this.waitingDrain = false;
      this.pump();
    });
  }

  bind(t: Toxic): void {
    const b = new Bound(t);
    this.bound.push(b);
    if (t.spec.type === 'timeout' && t.spec.timeoutMs > 0) {
      b.timer = setTimeout(() => {
        b.timer = null;
        this.link.proxy.stats.timeoutCloses++;
        this.link.destroy();
      }, t.spec.timeoutMs);
    }
  }

  unbind(name: string): void {
    const i = this.bound.findIndex((b) => b.toxic.name === name);
    if (i < 0) return;
    this.bound[i]!.stop();
    this.bound.splice(i, 1);
    this.pump(); // a removed bandwidth/slicer toxic lets queued data go now
  }

  stop(): void {
    for (const b of this.bound) b.stop();
    if (this.pumpTimer !== null) clearTimeout(this.pumpTimer);
    if (this.endTimer !== null) clearTimeout(this.endTimer);
    this.pumpTimer = null;
    this.endTimer = null;
    for (let i = 0; i < this.count; i++) this.bufs[(this.head + i) % QUEUE_SLOTS] = null;
    this.count = 0;
    this.queuedBytes = 0;
  }

  private find(type: Toxic['spec']['type']): Bound | null {
    for (const b of this.bound) if (b.toxic.spec.type === type) return b;
    return null;
  }

  private onData(chunk: Buffer): void {
    const stats = this.link.proxy.stats;
    if (this.link.closed || this.closeWhenFlushed) {
      stats.droppedBytes += chunk.length;
      return;
    }
    if (this.bound.length === 0 && this.count === 0 && !this.waitingDrain) {
      this.countBytes(chunk.length);
      if (!this.dst.write(chunk)) {
        this.waitingDrain = true;
        this.pauseSrc();
      }
      return;
    }
    let delayMs = 0;
    for (const b of this.bound) {
      const s = b.toxic.spec;
      if (s.type === 'timeout') {
        stats.droppedBytes += chunk.length;
        return;
      }
      if (s.type === 'reset-peer') {
        stats.droppedBytes += chunk.length;
        if (!b.fired) {
          b.fired = true;
          b.timer = setTimeout(() => { b.timer = null; this.link.reset(); }, s.timeoutMs ?? 0);
        }
        return;
      }
      if (s.type === 'limit-data') {
        if (chunk.length >= b.remainingBytes) {
          stats.droppedBytes += chunk.length - b.remainingBytes;
          chunk = chunk.subarray(0, b.remainingBytes);
          b.remainingBytes = 0;
          this.closeWhenFlushed = true;
        } else {
          b.remainingBytes -= chunk.length;
        }
      } else if (s.type === 'latency') {
        stats.delayedChunks++;
        const jitterMs = s.jitterMs ?? 0;
        delayMs += Math.max(0, s.latencyMs + (jitterMs > 0 ? jitterMs * (2 * this.link.proxy.rng.float() - 1) : 0));
      }
    }
    if (chunk.length > 0) this.enqueue(chunk, now() + delayMs);
    this.pump();
  }

  private countBytes(bytes: number): void {
    const stats = this.link.proxy.stats;
    if (this.direction === 'upstream') stats.upstreamBytes += bytes;
    else stats.downstreamBytes += bytes;
  }

  private enqueue(chunk: Buffer, atMs: number): void {
    const at = Math.max(this.lastAtMs, atMs); // jitter never reorders bytes
    this.lastAtMs = at;
    if (this.count === QUEUE_SLOTS) {
      // Full although the source is paused (data already read): append to the last entry (rare).
      const last = (this.head + this.count - 1) % QUEUE_SLOTS;
      this.bufs[last] = Buffer.concat([this.bufs[last]!, chunk]);
      this.queuedBytes += chunk.length;
      return;
    }
    const slot = (this.head + this.count) % QUEUE_SLOTS;
    this.bufs[slot] = chunk;
    this.atMs[slot] = at;
    this.count++;
    this.queuedBytes += chunk.length;
    if (this.count >= QUEUE_SLOTS - 1 || this.queuedBytes >= QUEUE_BYTES_HIGH) this.pauseSrc();
  }

  private pauseSrc(): void {
    if (this.srcPaused) return;
    this.srcPaused = true;
    this.src.pause();
  }

  private maybeResumeSrc(): void {
    if (!this.srcPaused || this.waitingDrain || this.count >= QUEUE_SLOTS / 2 || this.queuedBytes > QUEUE_BYTES_LOW) return;
    this.srcPaused = false;
    if (!this.link.closed) this.src.resume();
  }

  private schedule(delayMs: number): void {
    if (this.pumpTimer !== null) clearTimeout(this.pumpTimer);
    this.pumpTimer = setTimeout(this.pumpBound, Math.max(1, Math.ceil(delayMs)));
  }

  /** Write everything that is due; reschedule for the rest. */
  private pump(): void {
    if (this.link.closed) return;
    const slicer = this.find('slicer');
    const bandwidth = this.find('bandwidth');
    while (this.count > 0 && !this.waitingDrain) {
      const t = now();
      const dueMs = this.atMs[this.head]!;
      if (dueMs > t) return this.schedule(dueMs - t);
      const buf = this.bufs[this.head]!;
      let pieceBytes = buf.length;
      if (slicer !== null && slicer.toxic.spec.type === 'slicer') {
        const s = slicer.toxic.spec;
        const v = s.sizeVariationBytes ?? 0;
        pieceBytes = Math.min(pieceBytes, s.avgSizeBytes + (v > 0 ? Math.round(v * (2 * this.link.proxy.rng.float() - 1)) : 0));
        this.link.proxy.stats.slicedPieces++;
      }
      if (bandwidth !== null && bandwidth.toxic.spec.type === 'bandwidth') {
        const rate = bandwidth.toxic.spec.bytesPerS;
        if (this.bandwidthFreeMs > t) return this.schedule(this.bandwidthFreeMs - t);
        pieceBytes = Math.min(pieceBytes, Math.max(1, Math.floor((rate * BANDWIDTH_QUANTUM_MS) / 1000)));
        this.bandwidthFreeMs = Math.max(this.bandwidthFreeMs, t) + (pieceBytes * 1000) / rate;
        this.link.proxy.stats.pacedPieces++;
      }
      const piece = pieceBytes === buf.length ? buf : buf.subarray(0, pieceBytes);
      if (pieceBytes === buf.length) {
        this.bufs[this.head] = null;
        this.head = (this.head + 1) % QUEUE_SLOTS;
        this.count--;
      } else {
        this.bufs[this.head] = buf.subarray(pieceBytes);
        if (slicer !== null && slicer.toxic.spec.type === 'slicer') this.atMs[this.head] = t + slicer.toxic.spec.delayMs;
      }
      this.queuedBytes -= pieceBytes;
      this.countBytes(pieceBytes);
      if (!this.dst.write(piece)) this.waitingDrain = true;
    }
    this.maybeResumeSrc();
    if (this.count > 0) return;
    if (this.closeWhenFlushed) {
      this.link.proxy.stats.limitCloses++;
      this.link.destroy();
      return;
    }
    if (this.srcEnded) this.finishEnd();
  }

  private onEnd(): void {
    this.srcEnded = true;
    if (this.count === 0) this.finishEnd();
  }

  /** Forward the FIN, after the slow-close delay when one is bound. */
  private finishEnd(): void {
    if (this.ending || this.link.closed) return;
    // A blackhole swallows the FIN too (the peer must not learn the connection ended).
    if (this.find('timeout') !== null || this.find('reset-peer') !== null) return;
    this.ending = true;
    const slow = this.find('slow-close');
    const delayMs = slow !== null && slow.toxic.spec.type === 'slow-close' ? slow.toxic.spec.delayMs : 0;
    if (delayMs <= 0) {
      this.dst.end();
      return;
    }
    this.link.proxy.stats.slowCloses++;
    this.endTimer = setTimeout(() => {
      this.endTimer = null;
      if (!this.link.closed) this.dst.end();
    }, delayMs);
  }
}

/** One proxied connection: the client's socket, ours to the target, and the two pipes. */
class Link {
  readonly proxy: FaultProxy;
  readonly client: Socket;
  readonly server: Socket;
  readonly up: Pipe;
  readonly down: Pipe;
  closed = false;
  private socketsOpen = 2;

  constructor(proxy: FaultProxy, client: Socket, server: Socket) {
    this.proxy = proxy;
    this.client = client;
    this.server = server;
    this.up = new Pipe(this, 'upstream', client, server);
    this.down = new Pipe(this, 'downstream', server, client);
    const onClose = (): void => {
      if (--this.socketsOpen === 0) this.finish();
      else if (!this.closed) this.destroy(); // one side gone for good: drop the other
    };
    // Both sockets are half-open capable: a FIN in one direction does not close the other.
    // A full close of either socket (both directions done, or an error) ends the link.
    client.on('close', onClose);
    server.on('close', onClose);
    client.on('error', () => this.destroy());
    server.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') proxy.stats.upstreamConnectErrors++;
      this.destroy();
    });
  }

  pipe(direction: Direction): Pipe {
    return direction === 'upstream' ? this.up : this.down;
  }

  /** RST both sockets (what a reset-peer toxic does). */
  reset(): void {
    if (this.closed) return;
    this.proxy.stats.resets++;
    this.closeOnce();
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (!this.server.destroyed) {
      if (this.server.connecting) this.server.destroy();
      else this.server.resetAndDestroy();
    }
  }

  /** Close both sockets at once (no RST). */
  destroy(): void {
    if (this.closed) return;
    this.closeOnce();
    this.client.destroy();
    this.server.destroy();
  }

  private closeOnce(): void {
    this.closed = true;
    this.up.stop();
    this.down.stop();
    this.proxy.forget(this);
  }

  private finish(): void {
    if (!this.closed) this.closeOnce();
  }
}

export class FaultProxy {
  readonly stats: FaultProxyStats = {
    connectionsAccepted: 0, connectionsRefused: 0, connectionsOpen: 0, upstreamBytes: 0, downstreamBytes: 0,
    droppedBytes: 0, resets: 0, limitCloses: 0, timeoutCloses: 0, upstreamConnectErrors: 0,
    delayedChunks: 0, pacedPieces: 0, slicedPieces: 0, slowCloses: 0,
  };
  readonly rng: Rng;
  readonly targetHost: string;
  readonly targetPort: number;
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private readonly toxicList: Toxic[] = [];
  private readonly connectionsMax: number;
  private closing = false;
  private listenPort = 0;
  private listenHost = '127.0.0.1';

  private constructor(opts: FaultProxyOptions) {
    this.rng = new Rng(opts.seed ?? 1);
    this.targetHost = opts.targetHost ?? '127.0.0.1';
    this.targetPort = opts.targetPort;
    this.connectionsMax = opts.connectionsMax ?? PROXY_CONNECTIONS_MAX_DEFAULT;
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (c) => this.accept(c));
  }

  /** Start listening; resolves with the proxy once it accepts connections. */
  static async start(opts: FaultProxyOptions): Promise<FaultProxy> {
    if (!Number.isInteger(opts.targetPort) || opts.targetPort <= 0 || opts.targetPort > 65_535) throw new Error(`fault proxy: bad target port ${opts.targetPort}`);
    const p = new FaultProxy(opts);
    p.listenHost = opts.listenHost ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(opts.listenPort ?? 0, p.listenHost, () => {
        p.server.off('error', reject);
        resolve();
      });
    });
    p.listenPort = (p.server.address() as AddressInfo).port;
    return p;
  }

  get port(): number { return this.listenPort; }
  get url(): string { return `http://${this.listenHost}:${this.listenPort}`; }
  get toxics(): readonly Toxic[] { return this.toxicList; }

  /** Add a toxic (validated; throws on bad input or a duplicate name); applies to open connections too. */
  addToxic(input: ToxicInput): Toxic {
    const t = makeToxic(input);
    if (this.toxicList.some((x) => x.name === t.name)) throw new Error(`fault proxy: toxic ${t.name} already exists`);
    this.toxicList.push(t);
    for (const link of this.links) this.maybeBind(link, t);
    return t;
  }

  /** Remove a toxic by name from the proxy and every connection; false if there was none. */
  removeToxic(name: string): boolean {
    const i = this.toxicList.findIndex((t) => t.name === name);
    if (i < 0) return false;
    const t = this.toxicList[i]!;
    this.toxicList.splice(i, 1);
    for (const link of this.links) link.pipe(t.direction).unbind(name);
    return true;
  }

  clearToxics(): void {
    for (const t of [...this.toxicList]) this.removeToxic(t.name);
  }

  /** Names of the toxics bound to each open connection, in accept order (tests, diagnostics). */
  boundToxics(): string[][] {
    return [...this.links].map((l) => [...l.up.bound, ...l.down.bound].map((b) => b.toxic.name));
  }

  describe(): string {
    return this.toxicList.length === 0 ? 'no toxics' : this.toxicList.map(describeToxic).join('; ');
  }

  /** Stop listening and destroy every connection; clears every timer. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.toxicList.length = 0;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const link of [...this.links]) link.destroy();
    await closed;
  }

  /** Called by a link once both of its sockets closed. */
  forget(link: Link): void {
    if (this.links.delete(link)) this.stats.connectionsOpen--;
  }

  private maybeBind(link: Link, t: Toxic): void {
    if (t.probability >= 1 || this.rng.float() < t.probability) link.pipe(t.direction).bind(t);
  }

  private accept(client: Socket): void {
    if (this.closing || this.links.size >= this.connectionsMax) {
      this.stats.connectionsRefused++;
      client.destroy();
      return;
    }
    this.stats.connectionsAccepted++;
    this.stats.connectionsOpen++;
    client.setNoDelay(true);
    const server = net.connect({ host: this.targetHost, port: this.targetPort, allowHalfOpen: true, noDelay: true });
    const link = new Link(this, client, server);
    this.links.add(link);
    for (const t of this.toxicList) this.maybeBind(link, t);
    client.resume();
  }
}
