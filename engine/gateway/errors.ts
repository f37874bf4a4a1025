// One registry of every error the gateway can answer with: Binance USDⓈ-M code, HTTP
// status and message. The core's rejection codes (core/errors.ts) are included with status
// 400. Every body is {"code": <negative int>, "msg": "<text>"}; 5xx is reserved for -1008
// (503, load shedding) and -1000 (500, a genuine bug, logged). A test checks that every
// code here is documented in engine/gateway/README.md.

import { ERROR_MESSAGES } from '../core/errors.ts';

export interface ErrorSpec {
  code: number;
  status: number;
  msg: string;
}

const spec = (code: number, status: number, msg: string): ErrorSpec => ({ code, status, msg });

export const GW = {
  INTERNAL: spec(-1000, 500, 'An unknown error occurred while processing the request.'),
  UNAUTHORIZED: spec(-1002, 401, 'You are not authorized to execute this request.'),
  TOO_MANY_REQUESTS: spec(-1003, 429, 'Too many requests; current limit of IP is exceeded. Please use the websocket for live updates to avoid polling the API.'),
  IP_BANNED: spec(-1003, 418, 'Way too many requests; IP banned. Please use the websocket for live updates to avoid bans.'),
  // Binance's -1007 wording: a client must treat it as indeterminate. Node's requestTimeout can
  // fire on a connection whose previous request is still being answered, so "not processed"
  // is not a promise this server can make.
  REQUEST_TIMEOUT: spec(-1007, 408, 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.'),
  OVERLOADED: spec(-1008, 503, 'Server is currently overloaded with other requests. Please try again in a few minutes.'),
  TOO_MANY_ORDERS: spec(-1015, 429, 'Too many new orders.'),
  UNSUPPORTED_OPERATION: spec(-1020, 404, 'This operation is not supported.'),
  METHOD_NOT_ALLOWED: spec(-1020, 405, 'This method is not supported for this endpoint.'),
  INVALID_TIMESTAMP: spec(-1021, 400, 'Timestamp for this request is outside of the recvWindow.'),
  INVALID_SIGNATURE: spec(-1022, 400, 'Signature for this request is not valid.'),
  ILLEGAL_CHARS: spec(-1100, 400, 'Illegal characters found in a parameter.'),
  BAD_HTTP: spec(-1100, 400, 'Malformed HTTP request.'),
  TOO_MANY_PARAMETERS: spec(-1101, 400, 'Too many parameters sent for this endpoint.'),
  BODY_TOO_LARGE: spec(-1101, 413, 'Request body too large.'),
  HEADERS_TOO_LARGE: spec(-1101, 431, 'Request header fields too large.'),
  MANDATORY_PARAM: spec(-1102, 400, 'A mandatory parameter was not sent, was empty/null, or malformed.'),
  BAD_PRECISION: spec(-1111, 400, 'Precision is over the maximum defined for this asset.'),
  INVALID_TIF: spec(-1115, 400, 'Invalid timeInForce.'),
  INVALID_ORDER_TYPE: spec(-1116, 400, 'Invalid orderType.'),
  INVALID_SIDE: spec(-1117, 400, 'Invalid side.'),
  BAD_SYMBOL: spec(-1121, 400, 'Invalid symbol.'),
  INVALID_LISTEN_KEY: spec(-1125, 400, 'This listenKey does not exist.'),
  INVALID_PARAMETER: spec(-1130, 400, 'Invalid data sent for a parameter.'),
  BAD_RECV_WINDOW: spec(-1131, 400, 'recvWindow must be less than 60000.'),
  BAD_API_KEY_FMT: spec(-2014, 401, 'API-key format invalid.'),
  REJECTED_API_KEY: spec(-2015, 401, 'Invalid API-key, IP, or permissions for action.'),
  POSITION_SIDE: spec(-4061, 400, "Order's position side does not match user's setting."),
  WRONG_ENDPOINT: spec(-4120, 400, 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.'),
} as const;

export type GatewayErrorName = keyof typeof GW;

/** Status of an engine rejection code (always a client error). */
export const ENGINE_REJECT_STATUS = 400;

/** A failure to answer with {code, msg}; thrown by handlers, caught once per request. */
export class ApiError extends Error {
  readonly code: number;
  readonly status: number;
  constructor(code: number, status: number, msg: string) {
    super(msg);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

export function apiError(e: ErrorSpec, detail?: string): ApiError {
  return new ApiError(e.code, e.status, detail === undefined ? e.msg : `${e.msg} ${detail}`);
}

/** A core rejection (code from core/errors.ts) as an API error. */
export function engineError(code: number, msg?: string): ApiError {
  return new ApiError(code, ENGINE_REJECT_STATUS, msg ?? ERROR_MESSAGES[code] ?? 'Request rejected.');
}

/** Every code a client can see, for documentation checks and the fuzzer's accounting. */
export function allErrorCodes(): Set<number> {
  const codes = new Set<number>();
  for (const e of Object.values(GW)) codes.add(e.code);
  for (const k of Object.keys(ERROR_MESSAGES)) codes.add(Number(k));
  return codes;
}

/** The body of an error response. JSON.stringify escapes whatever detail a message carries. */
export function errorBody(code: number, msg: string): string {
  return `{"code":${code},"msg":${JSON.stringify(msg)}}`;
}
