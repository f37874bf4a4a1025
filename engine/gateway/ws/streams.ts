// Market stream names → what to send and how often. Binance USDⓈ-M names: the symbol part
// is lowercase (accepted in any case here, listed lowercase), the rest is case-sensitive.
// A stream is identified by its canonical name, which is also the `stream` of the combined
// envelope and what LIST_SUBSCRIPTIONS returns.

import type { Markets } from '../markets.ts';

export const ST_DIFF_DEPTH = 1;
export const ST_PARTIAL_DEPTH = 2;
export const ST_BOOK_TICKER = 3;
export const ST_AGG_TRADE = 4;
export const ST_MARK_PRICE = 5;
export const ST_FORCE_ORDER = 6;
export const ST_TICKER = 7;
export const ST_MINI_TICKER = 8;
export const ST_TRADE = 9;

export const STREAM_NAME_CHARS_MAX = 64;
/** Symbol id meaning "every symbol" (the `!…@arr` streams). */
export const ALL_SYMBOLS = -1;

export interface StreamSpec {
  name: string;
  kind: number;
  symbolId: number;
  /** Push period; 0 = as it happens. */
  intervalMs: number;
  /** Partial depth: 5, 10 or 20; otherwise 0. */
  levels: number;
  /** `!…@arr` streams send one array of per-symbol objects. */
  array: boolean;
}

const SPEEDS: Record<string, number> = { '100ms': 100, '250ms': 250, '500ms': 500 };

function spec(name: string, kind: number, symbolId: number, intervalMs: number, levels = 0, array = false): StreamSpec {
  return { name, kind, symbolId, intervalMs, levels, array };
}

function allSymbols(name: string): StreamSpec | null {
  switch (name) {
    case '!bookTicker': return spec(name, ST_BOOK_TICKER, ALL_SYMBOLS, 0);
    case '!markPrice@arr': return spec(name, ST_MARK_PRICE, ALL_SYMBOLS, 3_000, 0, true);
    case '!markPrice@arr@1s': return spec(name, ST_MARK_PRICE, ALL_SYMBOLS, 1_000, 0, true);
    case '!ticker@arr': return spec(name, ST_TICKER, ALL_SYMBOLS, 1_000, 0, true);
    case '!miniTicker@arr': return spec(name, ST_MINI_TICKER, ALL_SYMBOLS, 1_000, 0, true);
    case '!forceOrder@arr': return spec(name, ST_FORCE_ORDER, ALL_SYMBOLS, 1_000);
    default: return null;
  }
}

/** `depth`, `depth@100ms`, `depth5`, `depth20@500ms`, … → spec, or null. */
function depthStream(name: string, symbolId: number, rest: string): StreamSpec | null {
  const at = rest.indexOf('@');
  const head = at < 0 ? rest : rest.slice(0, at);
  let intervalMs = 250;
  if (at >= 0) {
    const speed = SPEEDS[rest.slice(at + 1)];
    if (speed === undefined) return null;
    intervalMs = speed;
  }
  if (head === 'depth') return spec(name, ST_DIFF_DEPTH, symbolId, intervalMs);
  if (head === 'depth5' || head === 'depth10' || head === 'depth20') return spec(name, ST_PARTIAL_DEPTH, symbolId, intervalMs, Number(head.slice(5)));
  return null;
}

/** Parse a market stream name; null when it is not one perpx serves. */
export function parseStream(markets: Markets, text: string): StreamSpec | null {
  if (text.length === 0 || text.length > STREAM_NAME_CHARS_MAX) return null;
  if (text.charCodeAt(0) === 33 /* ! */) return allSymbols(text);
  const at = text.indexOf('@');
  if (at <= 0) return null;
  const sym = text.slice(0, at).toLowerCase();
  const m = markets.byName.get(sym.toUpperCase());
  if (m === undefined) return null;
  const rest = text.slice(at + 1);
  const name = `${sym}@${rest}`;
  if (rest.startsWith('depth')) return depthStream(name, m.id, rest);
  switch (rest) {
    case 'bookTicker': return spec(name, ST_BOOK_TICKER, m.id, 0);
    case 'aggTrade': return spec(name, ST_AGG_TRADE, m.id, 100);
    case 'trade': return spec(name, ST_TRADE, m.id, 0);
    case 'markPrice': return spec(name, ST_MARK_PRICE, m.id, 3_000);
    case 'markPrice@1s': return spec(name, ST_MARK_PRICE, m.id, 1_000);
    case 'forceOrder': return spec(name, ST_FORCE_ORDER, m.id, 1_000);
    case 'ticker': return spec(name, ST_TICKER, m.id, 2_000);
    case 'miniTicker': return spec(name, ST_MINI_TICKER, m.id, 2_000);
    default: return null;
  }
}

const LISTEN_KEY_RE = /^[A-Za-z0-9]{64}$/;

/** A listen key in a stream position (legacy `/ws/<listenKey>`, `streams=…/<listenKey>`). */
export function looksLikeListenKey(text: string): boolean {
  return LISTEN_KEY_RE.test(text);
}
