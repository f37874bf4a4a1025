// A hierarchical bitset over [0, size): one bit per price tick plus summary levels
// (bit j of level k+1 is set iff word j of level k is non-zero). Finding the next
// non-empty price level above or below a price costs O(log32 size) word operations,
// never a rescan of the book side. 10M ticks take 1.3 MB.

export class HierBitset {
  readonly size: number;
  private readonly levels: Uint32Array[];

  constructor(size: number) {
    if (!(Number.isInteger(size) && size > 0)) throw new Error(`bitset size must be a positive integer: ${size}`);
    this.size = size;
    this.levels = [];
    let bits = size;
    for (;;) {
      const words = Math.ceil(bits / 32);
      this.levels.push(new Uint32Array(words));
      if (words === 1) break;
      bits = words;
    }
  }

  has(i: number): boolean {
    return (this.levels[0]![i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  set(i: number): void {
    let idx = i;
    for (let l = 0; l < this.levels.length; l++) {
      const words = this.levels[l]!;
      const w = idx >>> 5;
      const before = words[w]!;
      words[w] = before | (1 << (idx & 31));
      if (before !== 0) return; // summary bits above are already set
      idx = w;
    }
  }

  clear(i: number): void {
    let idx = i;
    for (let l = 0; l < this.levels.length; l++) {
      const words = this.levels[l]!;
      const w = idx >>> 5;
      const after = words[w]! & ~(1 << (idx & 31));
      words[w] = after;
      if (after !== 0) return; // word still non-empty: summaries unchanged
      idx = w;
    }
  }

  /** Highest set bit at or below i, or -1. */
  highestAtOrBelow(i: number): number {
    if (i < 0) return -1;
    if (i >= this.size) i = this.size - 1;
    const levels = this.levels;
    let lvl = 0;
    let idx = i;
    for (;;) {
      const words = levels[lvl]!;
      const w = idx >>> 5;
      const m = words[w]! & (0xffffffff >>> (31 - (idx & 31)));
      if (m !== 0) {
        idx = (w << 5) + 31 - Math.clz32(m);
        break;
      }
      if (w === 0) return -1;
      idx = w - 1;
      lvl++;
      if (lvl === levels.length) return -1;
    }
    while (lvl > 0) {
      lvl--;
      idx = (idx << 5) + 31 - Math.clz32(levels[lvl]![idx]!);
    }
    return idx;
  }

  /** Lowest set bit at or above i, or -1. */
  lowestAtOrAbove(i: number): number {
    if (i < 0) i = 0;
    if (i >= this.size) return -1;
    const levels = this.levels;
    let lvl = 0;
    let idx = i;
    for (;;) {
      const words = levels[lvl]!;
      const w = idx >>> 5;
      const m = words[w]! & (0xffffffff << (idx & 31));
      if (m !== 0) {
        idx = (w << 5) + 31 - Math.clz32(m & -m);
        break;
      }
      idx = w + 1;
      lvl++;
      if (lvl === levels.length || (idx >>> 5) >= levels[lvl]!.length) return -1;
    }
    while (lvl > 0) {
      lvl--;
      const m = levels[lvl]![idx]!;
      idx = (idx << 5) + 31 - Math.clz32(m & -m);
    }
    return idx;
  }
}
