// Binary encoding of engine commands for the journal and the gateway → engine ring.
// Compact and fast on the common shapes (a place is 60 bytes + client id, no JSON);
// lossless for anything else: a command whose fields don't fit the schema (unknown enum
// strings, non-boolean flags, long strings, unknown types) is stored as tagged JSON, so
// replaying a journal reproduces even the rejections exactly.

import type { Command, PlaceOrder } from '../core/commands.ts';

const T_CREATE = 1;
const T_DEPOSIT = 2;
const T_WITHDRAW = 3;
const T_LEVERAGE = 4;
const T_PLACE = 5;
const T_CANCEL = 6;
const T_CANCEL_ALL = 7;
const T_MODIFY = 8;
const T_INDEX = 9;
const T_TIME = 10;
const T_JSON = 255;

const SIDES = ['BUY', 'SELL'];
const TYPES = ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET'];
const TIFS = ['GTC', 'IOC', 'FOK', 'GTX'];
const STPS = ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'];
const WORKING = ['MARK_PRICE', 'CONTRACT_PRICE'];

/** Largest encoded command (JSON fallback included); larger commands are refused. */
export const COMMAND_BYTES_MAX = 4096;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Index of a string in a small table, or -1. */
function code(table: string[], x: unknown): number {
  for (let i = 0; i < table.length; i++) if (table[i] === x) return i;
  return -1;
}

function shortAscii(s: unknown): boolean {
  if (typeof s !== 'string' || s.length > 64) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

/**
 * Write `cmd` at `offset` of `view`/`bytes` (same buffer). Returns the bytes written,
 * or -1 if it does not fit in `room` bytes.
 */
export function encodeCommandInto(cmd: Command, view: DataView, bytes: Uint8Array, offset: number, room: number): number {
  let o = offset;
  const need = (n: number) => o + n - offset <= room;
  const c = cmd as Command & Record<string, unknown>;
  switch (c === null || typeof c !== 'object' ? undefined : c.type) {
    case 'createAccount':
      if (!need(1)) return -1;
      bytes[o++] = T_CREATE;
      return o - offset;
    case 'deposit':
    case 'withdraw': {
      const d = c as { accountId: number; amountUnits: number };
      if (typeof d.accountId !== 'number' || typeof d.amountUnits !== 'number') break;
      if (!need(17)) return -1;
      bytes[o++] = c.type === 'deposit' ? T_DEPOSIT : T_WITHDRAW;
      view.setFloat64(o, d.accountId, true); o += 8;
      view.setFloat64(o, d.amountUnits, true); o += 8;
      return o - offset;
    }
    case 'setLeverage': {
      const d = c as { accountId: number; symbolId: number; leverage: number };
      if (typeof d.accountId !== 'number' || typeof d.symbolId !== 'number' || typeof d.leverage !== 'number') break;
      if (!need(25)) return -1;
      bytes[o++] = T_LEVERAGE;
      view.setFloat64(o, d.accountId, true); o += 8;
      view.setFloat64(o, d.symbolId, true); o += 8;
      view.setFloat64(o, d.leverage, true); o += 8;
      return o - offset;
    }
    case 'place': {
      const p = c as PlaceOrder;
      const side = code(SIDES, p.side);
      const type = code(TYPES, p.orderType);
      const tif = code(TIFS, p.tif);
      const stp = code(STPS, p.stpMode);
      const working = code(WORKING, p.workingType);
      if (side < 0 || type < 0 || tif < 0 || stp < 0 || working < 0 || typeof p.reduceOnly !== 'boolean' || !shortAscii(p.clientOrderId)) break;
      if (typeof p.accountId !== 'number' || typeof p.symbolId !== 'number' || typeof p.priceTicks !== 'number' || typeof p.qtyLots !== 'number' || typeof p.triggerPriceTicks !== 'number') break;
      const cid = p.clientOrderId;
      if (!need(1 + 40 + 6 + 1 + cid.length)) return -1;
      bytes[o++] = T_PLACE;
      view.setFloat64(o, p.accountId, true); o += 8;
      view.setFloat64(o, p.symbolId, true); o += 8;
      view.setFloat64(o, p.priceTicks, true); o += 8;
      view.setFloat64(o, p.qtyLots, true); o += 8;
      view.setFloat64(o, p.triggerPriceTicks, true); o += 8;
      bytes[o++] = side;
      bytes[o++] = type;
      bytes[o++] = tif;
      bytes[o++] = stp;
      bytes[o++] = working;
      bytes[o++] = p.reduceOnly ? 1 : 0;
      bytes[o++] = cid.length;
      for (let i = 0; i < cid.length; i++) bytes[o++] = cid.charCodeAt(i);
      return o - offset;
    }
    case 'cancel':
    case 'modify': {
      const d = c as { accountId: number; symbolId: number; orderId: number; clientOrderId: string; priceTicks?: number; qtyLots?: number };
      if (typeof d.accountId !== 'number' || typeof d.symbolId !== 'number' || typeof d.orderId !== 'number' || !shortAscii(d.clientOrderId)) break;
      const modify = c.type === 'modify';
      if (modify && (typeof d.priceTicks !== 'number' || typeof d.qtyLots !== 'number')) break;
      if (!need(1 + 24 + (modify ? 16 : 0) + 1 + d.clientOrderId.length)) return -1;
      bytes[o++] = modify ? T_MODIFY : T_CANCEL;
      view.setFloat64(o, d.accountId, true); o += 8;
      view.setFloat64(o, d.symbolId, true); o += 8;
      view.setFloat64(o, d.orderId, true); o += 8;
      if (modify) {
        view.setFloat64(o, d.priceTicks!, true); o += 8;
        view.setFloat64(o, d.qtyLots!, true); o += 8;
      }
      const cid = d.clientOrderId;
      bytes[o++] = cid.length;
      for (let i = 0; i < cid.length; i++) bytes[o++] = cid.charCodeAt(i);
      return o - offset;
    }
    case 'cancelAll': {
      const d = c as { accountId: number; symbolId: number };
      if (typeof d.accountId !== 'number' || typeof d.symbolId !== 'number') break;
      if (!need(17)) return -1;
      bytes[o++] = T_CANCEL_ALL;
      view.setFloat64(o, d.accountId, true); o += 8;
      view.setFloat64(o, d.symbolId, true); o += 8;
      return o - offset;
    }
    case 'setIndexPrice': {
      const d = c as { symbolId: number; priceTicks: number };
      if (typeof d.symbolId !== 'number' || typeof d.priceTicks !== 'number') break;
      if (!need(17)) return -1;
      bytes[o++] = T_INDEX;
      view.setFloat64(o, d.symbolId, true); o += 8;
      view.setFloat64(o, d.priceTicks, true); o += 8;
      return o - offset;
    }
    case 'advanceTime': {
      const d = c as { timeMs: number };
      if (typeof d.timeMs !== 'number') break;
      if (!need(9)) return -1;
      bytes[o++] = T_TIME;
      view.setFloat64(o, d.timeMs, true); o += 8;
      return o - offset;
    }
  }
  // Anything else: tagged JSON (lossless for whatever JSON can carry).
  const json = enc.encode(JSON.stringify(cmd) ?? 'null');
  if (json.length + 1 > COMMAND_BYTES_MAX || !need(1 + json.length)) return -1;
  bytes[o++] = T_JSON;
  bytes.set(json, o);
  o += json.length;
  return o - offset;
}

function readCid(bytes: Uint8Array, o: number): string {
  const n = bytes[o]!;
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[o + 1 + i]!);
  return s;
}

/** Decode one command from bytes[offset, offset + length). */
export function decodeCommandFrom(view: DataView, bytes: Uint8Array, offset: number, length: number): Command {
  let o = offset;
  const t = bytes[o++];
  const f = () => { const x = view.getFloat64(o, true); o += 8; return x; };
  switch (t) {
    case T_CREATE: return { type: 'createAccount' };
    case T_DEPOSIT: return { type: 'deposit', accountId: f(), amountUnits: f() };
    case T_WITHDRAW: return { type: 'withdraw', accountId: f(), amountUnits: f() };
    case T_LEVERAGE: return { type: 'setLeverage', accountId: f(), symbolId: f(), leverage: f() };
    case T_PLACE: {
      const accountId = f();
      const symbolId = f();
      const priceTicks = f();
      const qtyLots = f();
      const triggerPriceTicks = f();
      return {
        type: 'place', accountId, symbolId, side: SIDES[bytes[o]!] as PlaceOrder['side'], orderType: TYPES[bytes[o + 1]!] as PlaceOrder['orderType'],
        tif: TIFS[bytes[o + 2]!] as PlaceOrder['tif'], priceTicks, qtyLots, reduceOnly: bytes[o + 5] === 1, clientOrderId: readCid(bytes, o + 6),
        stpMode: STPS[bytes[o + 3]!] as PlaceOrder['stpMode'], triggerPriceTicks, workingType: WORKING[bytes[o + 4]!] as PlaceOrder['workingType'],
      };
    }
    case T_CANCEL: {
      const accountId = f();
      const symbolId = f();
      const orderId = f();
      return { type: 'cancel', accountId, symbolId, orderId, clientOrderId: readCid(bytes, o) };
    }
    case T_MODIFY: {
      const accountId = f();
      const symbolId = f();
      const orderId = f();
      const priceTicks = f();
      const qtyLots = f();
      return { type: 'modify', accountId, symbolId, orderId, clientOrderId: readCid(bytes, o), priceTicks, qtyLots };
    }
    case T_CANCEL_ALL: return { type: 'cancelAll', accountId: f(), symbolId: f() };
    case T_INDEX: return { type: 'setIndexPrice', symbolId: f(), priceTicks: f() };
    case T_TIME: return { type: 'advanceTime', timeMs: f() };
    case T_JSON: return JSON.parse(dec.decode(bytes.slice(o, offset + length))) as Command;
    default: throw new Error(`unknown command tag ${t} at byte ${offset}`);
  }
}

const scratch = new Uint8Array(COMMAND_BYTES_MAX);
const scratchView = new DataView(scratch.buffer);
let decodeView: DataView | null = null;
let decodeBytes: Uint8Array | null = null;

/** The journal's Codec shape, over this binary format. */
export const binaryCommandCodec = {
  encode(command: Command): Uint8Array {
    const n = encodeCommandInto(command, scratchView, scratch, 0, scratch.length);
    if (n < 0) throw new Error('command too large to encode');
    return scratch.slice(0, n);
  },
  decode(bytes: Uint8Array): Command {
    // Journal reads hand out views into one large buffer: reuse the DataView per buffer.
    if (decodeView === null || decodeView.buffer !== bytes.buffer) {
      decodeView = new DataView(bytes.buffer);
      decodeBytes = new Uint8Array(bytes.buffer);
    }
    return decodeCommandFrom(decodeView, decodeBytes!, bytes.byteOffset, bytes.byteLength);
  },
};
