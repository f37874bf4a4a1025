// Parameter parsing and exact decimal conversion. The decimal parser is checked against a
// BigInt reference on random digit strings (never floats); the form parser on duplicates,
// query-vs-body precedence and malformed encodings.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runParams } from '../core/test-params.ts';
import { ApiError } from './errors.ts';
import { DEC_MALFORMED, DEC_NEGATIVE, DEC_TOO_LARGE, DEC_TOO_PRECISE, mergeMissing, parseBool, parseE8, parseParams, parseUint, significantDecimals } from './params.ts';

function codeOf(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  return 0;
}

describe('parseParams', () => {
  it('decodes form encoding, keeps empty values, rejects duplicates and bad escapes', () => {
    const p = parseParams('symbol=BTCUSDT&x=a%2Bb+c&empty=&flag', 64);
    expect([...p]).toEqual([['symbol', 'BTCUSDT'], ['x', 'a+b c'], ['empty', ''], ['flag', '']]);
    expect(codeOf(() => parseParams('a=1&a=2', 64))).toBe(-1101);
    expect(codeOf(() => parseParams('a=%zz', 64))).toBe(-1100);
    expect(codeOf(() => parseParams('a=%E0%A4%A', 64))).toBe(-1100);
    expect(codeOf(() => parseParams('a=1&b=2&c=3', 2))).toBe(-1101);
    expect(parseParams('&&a=1&&', 64).get('a')).toBe('1');
    expect(parseParams('', 64).size).toBe(0);
  });

  it('the query string wins over the body for a shared key', () => {
    const q = parseParams('side=BUY&symbol=BTCUSDT', 64);
    mergeMissing(q, parseParams('side=SELL&quantity=1', 64));
    expect(Object.fromEntries(q)).toEqual({ side: 'BUY', symbol: 'BTCUSDT', quantity: '1' });
  });

  it('round-trips any key/value list through URLSearchParams encoding', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 12 })), { selector: (x) => x[0], maxLength: 10 }), (pairs) => {
      const text = new URLSearchParams(pairs).toString();
      expect([...parseParams(text, 64)]).toEqual(pairs);
    }), runParams(200));
  });
});

describe('parseE8', () => {
  /** Reference: BigInt arithmetic on the digit strings. */
  function reference(int: string, frac: string): number {
    if (BigInt(int) >= 100_000_000n) return DEC_TOO_LARGE; // size is checked before precision
    if (frac.length > 8 && /[1-9]/.test(frac.slice(8))) return DEC_TOO_PRECISE;
    const v = BigInt(int) * 100_000_000n + BigInt(frac.slice(0, 8).padEnd(8, '0') || '0');
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? DEC_TOO_LARGE : Number(v);
  }

  it('matches a BigInt reference on random decimal text', () => {
    const digits = (max: number) => fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9'), minLength: 1, maxLength: max });
    fc.assert(fc.property(digits(12), fc.option(digits(12), { nil: undefined }), (int, frac) => {
      const text = frac === undefined ? int : `${int}.${frac}`;
      expect(parseE8(text)).toBe(reference(int, frac ?? ''));
    }), runParams(2_000));
  });

  it('classifies malformed, negative, over-precise and huge input', () => {
    expect(parseE8('60000.1')).toBe(6_000_010_000_000);
    expect(parseE8('0.00000001')).toBe(1);
    expect(parseE8('0.000000010000')).toBe(1);
    for (const bad of ['', ' 1', '1 ', '1e3', '0x10', '.5', '5.', '1,5', 'NaN', '+1', '１']) expect(parseE8(bad), bad).toBe(DEC_MALFORMED);
    expect(parseE8('-1')).toBe(DEC_NEGATIVE);
    expect(parseE8('0.000000001')).toBe(DEC_TOO_PRECISE);
    expect(parseE8('100000000')).toBe(DEC_TOO_LARGE);
    expect(parseE8('1'.repeat(64))).toBe(DEC_TOO_LARGE);
    expect(parseE8('1'.repeat(65))).toBe(DEC_MALFORMED);
    expect(parseE8('00000000000000012.5')).toBe(1_250_000_000);
  });

  it('significant decimals ignore trailing zeros', () => {
    expect(significantDecimals('1.2300')).toBe(2);
    expect(significantDecimals('100')).toBe(0);
    expect(significantDecimals('0.10')).toBe(1);
  });

  it('integers and booleans', () => {
    expect(parseUint('1767225600000')).toBe(1_767_225_600_000);
    expect(parseUint('-1')).toBe(-1);
    expect(parseUint('1'.repeat(17))).toBe(-1);
    expect(parseUint('99999999999999999'.slice(0, 16))).toBe(-1); // 16 nines > 2^53
    expect(parseBool('TRUE')).toBe(1);
    expect(parseBool('false')).toBe(0);
    expect(parseBool('yes')).toBe(-1);
  });
});
