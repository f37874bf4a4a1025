// The diff-depth computation, pure. A diff-depth stream compares two windows of the book
// (the best N levels per side, read from the host with their update id = host seq) and
// reports every level whose quantity differs, plus every price an event touched in
// between, with its quantity in the newer window (0 = gone). Why the touched prices: a
// level that changed and changed back between two windows is equal in both, yet a client
// whose REST snapshot was taken in between holds the intermediate quantity. Every change
// of a level happens through an event at its price except an order leaving it by a modify,
// and a level can only regain quantity through an event at its price — so "equal in both
// windows and untouched" means "unchanged throughout", and snapshot + diffs is exact.

/** [priceTicks, qtyLots], best first (bids descending, asks ascending). */
export type Levels = [number, number][];

function before(a: number, b: number, descending: boolean): boolean {
  return descending ? a > b : a < b;
}

/** Quantity at a price in a window (binary search), 0 when absent. */
export function qtyAt(levels: Levels, priceTicks: number, descending: boolean): number {
  let lo = 0;
  let hi = levels.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const p = levels[mid]![0];
    if (p === priceTicks) return levels[mid]![1];
    if (before(p, priceTicks, descending)) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/**
 * Changes that turn window `prev` into window `next` for one side, plus every touched
 * price (its quantity in `next`), best first, each price once.
 */
export function diffSide(prev: Levels, next: Levels, touched: Iterable<number>, descending: boolean): Levels {
  const out = new Map<number, number>();
  let i = 0;
  let j = 0;
  while (i < prev.length || j < next.length) {
    const a = i < prev.length ? prev[i]! : null;
    const b = j < next.length ? next[j]! : null;
    if (b === null || (a !== null && before(a[0], b[0], descending))) {
      out.set(a![0], 0);
      i++;
    } else if (a === null || before(b[0], a[0], descending)) {
      out.set(b[0], b[1]);
      j++;
    } else {
      if (a[1] !== b[1]) out.set(b[0], b[1]);
      i++;
      j++;
    }
  }
  for (const p of touched) if (!out.has(p)) out.set(p, qtyAt(next, p, descending));
  const rows = Array.from(out);
  rows.sort(descending ? (x, y) => y[0] - x[0] : (x, y) => x[0] - y[0]);
  return rows;
}

/** A local book side (price → qty) after applying levels; qty 0 removes. For clients and tests. */
export function applyLevels(side: Map<number, number>, levels: Levels): void {
  for (const [p, q] of levels) {
    if (q === 0) side.delete(p);
    else side.set(p, q);
  }
}

/** A window of a local side: best `limit` levels. */
export function windowOf(side: Map<number, number>, limit: number, descending: boolean): Levels {
  const rows = Array.from(side);
  rows.sort(descending ? (x, y) => y[0] - x[0] : (x, y) => x[0] - y[0]);
  return rows.slice(0, limit);
}
