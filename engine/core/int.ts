// Exact integer arithmetic on JS numbers. Every money value in the core is an integer
// number of fixed units; these helpers keep them exact and reject overflow instead of
// silently losing precision. Division results are corrected after the float quotient,
// so the answer is the true floor/ceil even where the quotient rounds in IEEE-754.

export const INT_MAX = Number.MAX_SAFE_INTEGER; // 2^53 - 1
const TWO_POW_52 = 4_503_599_627_370_496;

export class OverflowError extends Error {
  constructor(what: string) {
    super(`integer overflow: ${what}`);
    this.name = 'OverflowError';
  }
}

export function isSafeInt(x: number): boolean {
  return Number.isSafeInteger(x);
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

export function checkedAdd(a: number, b: number): number {
  const r = a + b;
  if (!Number.isSafeInteger(r)) throw new OverflowError(`${a} + ${b}`);
  return r;
}

export function checkedMul(a: number, b: number): number {
  const r = a * b;
  if (!Number.isSafeInteger(r)) throw new OverflowError(`${a} * ${b}`);
  return r;
}

/** floor(a / d) for integers, d > 0. */
export function floorDiv(a: number, d: number): number {
  // The float quotient is off by at most one, so |q·d| ≤ |a| + d: while both are below 2^52,
  // q·d and the remainder are exact and a cheap correction suffices (the common case).
  if (a < TWO_POW_52 && a > -TWO_POW_52 && d < TWO_POW_52) {
    let q = Math.floor(a / d);
    const r = a - q * d;
    if (r < 0) q -= 1;
    else if (r >= d) q += 1;
    return q;
  }
  // Near ±2^53 q·d itself may round; % is exact for any doubles, and a − r is a multiple of d
  // no larger than |a|, so the division below is exact too.
  const r = a % d;
  const q = (a - r) / d;
  return r < 0 ? q - 1 : q;
}

/** a mod d in [0, d) for integers, d > 0; exact over the whole safe range. */
export function floorMod(a: number, d: number): number {
  const r = a % d;
  return r < 0 ? r + d : r;
}

/** ceil(a / d) for integers, d > 0. */
export function ceilDiv(a: number, d: number): number {
  return -floorDiv(-a, d);
}

/** floor(a * b / d), exact; falls back to BigInt when a*b leaves the safe range. */
export function mulDivFloor(a: number, b: number, d: number): number {
  const p = a * b;
  if (Number.isSafeInteger(p)) return floorDiv(p, d);
  // a = qa·d + ra (0 ≤ ra < d) → a·b/d = qa·b + ra·b/d: exact while both products stay safe.
  const qa = floorDiv(a, d);
  const hi = qa * b;
  const lo = floorMod(a, d) * b;
  if (Number.isSafeInteger(hi) && Number.isSafeInteger(lo)) {
    const r = hi + floorDiv(lo, d);
    if (Number.isSafeInteger(r)) return r;
  }
  const prod = BigInt(a) * BigInt(b);
  const bd = BigInt(d);
  let q = prod / bd; // truncates toward zero
  if (prod % bd !== 0n && prod < 0n) q -= 1n;
  const r = Number(q);
  if (!Number.isSafeInteger(r)) throw new OverflowError(`${a} * ${b} / ${d}`);
  return r;
}

/**
 * floor(a * b / d) clamped to ±MAX_SAFE_INTEGER instead of throwing: for scores that only rank
 * (the ADL queue), where an account with ~0 equity has an effectively infinite leverage and must
 * simply rank first. Never for money.
 */
export function mulDivFloorSaturating(a: number, b: number, d: number): number {
  try {
    return mulDivFloor(a, b, d);
  } catch (e) {
    if (!(e instanceof OverflowError)) throw e;
    return (a < 0) !== (b < 0) !== (d < 0) ? -Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  }
}

/** ceil(a * b / d), exact. */
export function mulDivCeil(a: number, b: number, d: number): number {
  return -mulDivFloor(-a, b, d);
}

export function median3(a: number, b: number, c: number): number {
  if (a > b) { const t = a; a = b; b = t; }
  if (b > c) { b = c; }
  return a > b ? a : b;
}

/** Parse a non-negative decimal string into an integer count of 10^-scale units (exact). */
export function decimalToUnits(text: string, scale: number): number {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (m === null) throw new Error(`not a decimal: ${text}`);
  const frac = m[2] ?? '';
  if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) {
    throw new Error(`${text} has more than ${scale} decimals`);
  }
  const digits = m[1] + frac.slice(0, scale).padEnd(scale, '0');
  const v = Number(digits);
  if (!Number.isSafeInteger(v)) throw new OverflowError(`decimal ${text}`);
  return v;
}

/** Format an integer count of 10^-scale units as a decimal string (exact). */
export function unitsToDecimal(units: number, scale: number): string {
  const neg = units < 0;
  let s = String(neg ? -units : units);
  if (scale > 0) {
    s = s.padStart(scale + 1, '0');
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  }
  return neg ? `-${s}` : s;
}
