// One WebSocket client. All fields are set in the constructor (stable shape). Every
// outbound message goes through send(): it checks the bytes still waiting for this client
// (ws.bufferedAmount) first, and a client that lets more than outboundBufferBytesMax pile
// up is a slow consumer: it is closed with 1008 and a reason, and cut after closeGraceMs if
// it does not read its close frame. Nothing ever buffers without bound on its behalf.

import type { WebSocket } from 'ws';
import type { WsLimits, WsStats } from './limits.ts';

export const KIND_STREAM = 0; // market streams and user data (/ws, /stream, /public|market|private/ws)
export const KIND_API = 1; // WebSocket API (/ws-fapi/v1)

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;

/** Close reasons travel in a control frame: at most 123 bytes. */
function clip(reason: string): string {
  return Buffer.byteLength(reason) <= 123 ? reason : reason.slice(0, 120);
}

export class WsConn {
  readonly id: number;
  readonly socket: WebSocket;
  readonly ip: string;
  readonly kind: number;
  readonly limits: WsLimits;
  readonly stats: WsStats;
  readonly openedMs: number;
  /** Combined envelope {stream, data} (legacy /stream path or SET_PROPERTY combined). */
  combined: boolean;
  /** Stream names this connection receives, as listed by LIST_SUBSCRIPTIONS. */
  readonly streams = new Set<string>();
  /** User data: the listen key and its account (-1: none). */
  listenKey = '';
  accountId = -1;
  /** User data event types wanted ('' = all; /private/ws?events=A/B). */
  userEvents: Set<string> | null = null;
  /** Seen a pong since the last ping. */
  alive = true;
  closed = false;
  /** Inbound rate window (whole seconds) and count. */
  inSecond = -1;
  inCount = 0;
  apiInflight = 0;

  constructor(id: number, socket: WebSocket, ip: string, kind: number, combined: boolean, limits: WsLimits, stats: WsStats, nowMs: number) {
    this.id = id;
    this.socket = socket;
    this.ip = ip;
    this.kind = kind;
    this.combined = combined;
    this.limits = limits;
    this.stats = stats;
    this.openedMs = nowMs;
  }

  /** Queue one text message, or drop the client if it is not reading. Returns false once closed. */
  send(text: string): boolean {
    if (this.closed) return false;
    if (this.socket.bufferedAmount > this.limits.outboundBufferBytesMax) {
      this.stats.slowConsumers++;
      this.close(CLOSE_POLICY, `Slow consumer: over ${this.limits.outboundBufferBytesMax} bytes waiting to be sent`);
      return false;
    }
    this.stats.messagesOut++;
    this.socket.send(text);
    return true;
  }

  /** Close with a code and reason; the socket is cut if the client does not finish the handshake. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const s = this.socket;
    try {
      s.close(code, clip(reason));
    } catch {
      s.terminate();
      return;
    }
    const cut = setTimeout(() => s.terminate(), this.limits.closeGraceMs);
    cut.unref();
    s.once('close', () => clearTimeout(cut));
  }

  /** One more inbound message this second; false when over the per-second limit. */
  countInbound(nowMs: number): boolean {
    const sec = Math.floor(nowMs / 1000);
    if (sec !== this.inSecond) {
      this.inSecond = sec;
      this.inCount = 0;
    }
    return ++this.inCount <= this.limits.inboundMessagesPerSecondMax;
  }
}
