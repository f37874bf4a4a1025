// Seeded randomness for fault injection and simulation. The journal never calls Math.random:
// every random choice comes from a Random passed in, so a seed replays a whole run.

/** Returns a float in [0, 1). */
export type Random = () => number;

/** sfc32 seeded through splitmix32: small, fast, good enough for test schedules. */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  const next32 = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next32();
  let b = next32();
  let c = next32();
  let d = next32();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** Integer in [0, maxExclusive). */
export function randomInt(random: Random, maxExclusive: number): number {
  if (!(Number.isInteger(maxExclusive) && maxExclusive > 0)) {
    throw new RangeError(`randomInt: maxExclusive must be a positive integer, got ${maxExclusive}`);
  }
  return Math.floor(random() * maxExclusive);
}
