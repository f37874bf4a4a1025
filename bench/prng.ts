// A small, fast, seeded PRNG for workload generation: xorshift128 (Marsaglia) with its
// 128-bit state filled from the seed by splitmix32, so nearby seeds give unrelated
// streams. All arithmetic stays in 32-bit integers (no BigInt, no allocation per draw).
// Not cryptographic; the point is that one integer seed replays a whole workload.

/** splitmix32 step: returns [next state, output]; used only to expand the seed. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

export class Prng {
  private x: number;
  private y: number;
  private z: number;
  private w: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer: ${seed}`);
    let s = seed | 0;
    let out: number;
    [s, out] = splitmix32(s);
    this.x = out | 0;
    [s, out] = splitmix32(s);
    this.y = out | 0;
    [s, out] = splitmix32(s);
    this.z = out | 0;
    [s, out] = splitmix32(s);
    this.w = out | 0;
    if ((this.x | this.y | this.z | this.w) === 0) this.w = 1; // the all-zero state is a fixed point
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8));
    return this.w >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n), n >= 1 (n up to 2^32). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }
}
