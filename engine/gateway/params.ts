// Request parameters: query string and form body → one Map, and exact decimal text →
// integers. Never parseFloat: a price is parsed digit by digit into units of 1e-8 and must
// then be a whole number of ticks. The query string wins over the body for a key sent in
// both (Binance); a key repeated within one of them is -1101.

import { apiError, GW } from './errors.ts';

export const PARAMS_MAX_DEFAULT = 64;
export const PARAM_VALUE_CHARS_MAX = 16_384; // batchOrders carries 5 orders of JSON

export type Params = Map<string, string>;

/** Decode one component of application/x-www-form-urlencoded text. */
function decode(text: string): string {
  let s = text;
  if (s.indexOf('+') >= 0) s = s.replaceAll('+', ' ');
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    throw apiError(GW.ILLEGAL_CHARS, 'Malformed percent-encoding.');
  }
}

/** Parse `raw` (a query string or form body) into `out`; a key repeated within it is -1101. */
export function parseParams(raw: string, paramsMax: number, out: Params = new Map()): Params {
  let start = 0;
  let count = 0;
  while (start < raw.length) {
    let end = raw.indexOf('&', start);
    if (end < 0) end = raw.length;
    if (end > start) {
      if (++count > paramsMax) throw apiError(GW.TOO_MANY_PARAMETERS, `At most ${paramsMax}.`);
      const eq = raw.indexOf('=', start);
      const hasValue = eq >= 0 && eq < end;
      const key = decode(raw.slice(start, hasValue ? eq : end));
      const value = hasValue ? decode(raw.slice(eq + 1, end)) : '';
      if (value.length > PARAM_VALUE_CHARS_MAX) throw apiError(GW.INVALID_PARAMETER, `Parameter '${key.slice(0, 40)}' is too long.`);
      if (out.has(key)) throw apiError(GW.TOO_MANY_PARAMETERS, `Duplicate values for parameter '${key.slice(0, 40)}'.`);
      out.set(key, value);
    }
    start = end + 1;
  }
  return out;
}

/** Body parameters join the query's; for a key in both the query string wins (Binance). */
export function mergeMissing(into: Params, from: Params): void {
  for (const [k, v] of from) if (!into.has(k)) into.set(k, v);
}

// ---- decimals ----------------------------------------------------------------------

export const DEC_MALFORMED = -1;
export const DEC_NEGATIVE = -2;
export const DEC_TOO_PRECISE = -3; // non-zero digits past the 8th decimal
export const DEC_TOO_LARGE = -4;

const DEC_RE = /^(-?)(\d{1,64})(?:\.(\d{1,64}))?$/;

/** Unsigned decimal text → integer units of 10^-scale, or a negative DEC_* code. Exact. */
export function parseScaled(text: string, scale: number): number {
  const m = DEC_RE.exec(text);
  if (m === null) return DEC_MALFORMED;
  if (m[1] === '-') return DEC_NEGATIVE;
  let int = m[2]!;
  if (int.length > 1 && int.charCodeAt(0) === 48) int = int.replace(/^0+(?=\d)/, '');
  if (int.length + scale > 16) return DEC_TOO_LARGE; // ≥ 10^16 units > 2^53
  let frac = m[3] ?? '';
  if (frac.length > scale) {
    for (let i = scale; i < frac.length; i++) if (frac.charCodeAt(i) !== 48) return DEC_TOO_PRECISE;
    frac = frac.slice(0, scale);
  }
  const v = Number(int) * 10 ** scale + (frac.length === 0 ? 0 : Number(frac.padEnd(scale, '0')));
  return Number.isSafeInteger(v) ? v : DEC_TOO_LARGE;
}

/** Unsigned decimal text → integer units of 1e-8 (prices, quantities), or a negative DEC_* code. */
export function parseE8(text: string): number {
  return parseScaled(text, 8);
}

/** Decimals of a decimal text once trailing zeros are dropped ("1.2300" → 2). */
export function significantDecimals(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return 0;
  let end = text.length;
  while (end > dot + 1 && text.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

/** Decimals of a config decimal such as a tick size ("0.10" → 1). */
export function decimalsOf(text: string): number {
  return significantDecimals(text);
}

const UINT_RE = /^\d{1,16}$/;

/** Unsigned integer text (≤ 16 digits, safe) or -1. */
export function parseUint(text: string): number {
  if (!UINT_RE.test(text)) return -1;
  const v = Number(text);
  return Number.isSafeInteger(v) ? v : -1;
}

/** 'true' / 'false' (any case) → 1 / 0; anything else → -1. */
export function parseBool(text: string): number {
  const t = text.length <= 5 ? text.toLowerCase() : '';
  return t === 'true' ? 1 : t === 'false' ? 0 : -1;
}
