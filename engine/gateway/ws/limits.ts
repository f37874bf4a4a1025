// Every bound of the WebSocket front end in one place, with Binance's values where Binance
// states one. Each is checked before it is reached (reject/close) rather than discovered.

export interface WsLimits {
  /** Open WebSocket connections (all paths); the next upgrade gets HTTP 503 {code:-1008}. */
  connectionsMax: number;
  /** Streams one connection may hold (Binance USDⓈ-M: 200); more → error frame. */
  streamsPerConnectionMax: number;
  /** Largest message handled; a larger one (up to frameBytesMax) gets an error frame. */
  messageBytesMax: number;
  /** Largest frame the parser accepts (ws maxPayload); larger → close 1009. */
  frameBytesMax: number;
  /** Control messages per second on a stream connection (Binance: 10); more → close 1008. */
  inboundMessagesPerSecondMax: number;
  /** WS API requests in flight on one connection; more → -1008 at once. */
  apiInflightMax: number;
  /** Bytes waiting to be written to one client (ws.bufferedAmount); more → close 1008. */
  outboundBufferBytesMax: number;
  /** A ping every interval; a connection that did not pong since the last one is dropped. */
  pingIntervalMs: number;
  /** After a close frame, how long a client gets to acknowledge before the socket is cut. */
  closeGraceMs: number;
  /** Connection lifetime (Binance: 24 h); then closed with 1000. 0 = unlimited. */
  connectionLifetimeMs: number;
  /** Levels per side the diff-depth stream tracks (= REST /fapi/v1/depth maximum). */
  diffDepthLevels: number;
  /** MARGIN_CALL when maintenance margin ≥ this fraction of margin balance (basis points). */
  marginCallRatioBp: number;
  /** Accounts checked for MARGIN_CALL per pass (the rest wait for the next pass). */
  marginChecksPerPassMax: number;
}

export const WS_LIMITS_DEFAULT: WsLimits = {
  connectionsMax: 5_000,
  streamsPerConnectionMax: 200,
  messageBytesMax: 64 * 1024,
  frameBytesMax: 1024 * 1024,
  inboundMessagesPerSecondMax: 10,
  apiInflightMax: 1_024,
  outboundBufferBytesMax: 4 * 1024 * 1024,
  pingIntervalMs: 180_000,
  closeGraceMs: 5_000,
  connectionLifetimeMs: 24 * 60 * 60_000,
  diffDepthLevels: 1_000,
  marginCallRatioBp: 8_000,
  marginChecksPerPassMax: 1_000,
};

export interface WsStats {
  connectionsOpened: number;
  connectionsRejected: number;
  /** Closed for a full outbound buffer. */
  slowConsumers: number;
  /** Closed for not answering a ping. */
  pingTimeouts: number;
  /** Error frames sent (malformed or refused messages). */
  errorFrames: number;
  messagesIn: number;
  messagesOut: number;
  apiRequests: number;
  /** Unexpected exceptions (bugs), answered with -1000 and logged. */
  internalErrors: number;
}

export function newWsStats(): WsStats {
  return {
    connectionsOpened: 0, connectionsRejected: 0, slowConsumers: 0, pingTimeouts: 0, errorFrames: 0,
    messagesIn: 0, messagesOut: 0, apiRequests: 0, internalErrors: 0,
  };
}
