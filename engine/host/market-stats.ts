// Rolling 24 h ticker statistics of one symbol in 1,440 one-minute buckets (fixed memory).
// A bucket remembers which absolute minute it holds, so stale buckets are ignored without
// a sweep. Quote volume is a BigInt: a day of notional can pass 2^53 collateral units.

import type { Ticker24hView } from './host.ts';

const MINUTE_MS = 60_000;
export const TICKER_BUCKETS = 1_440; // 24 h of minutes

export class TickerWindow {
  readonly symbolId: number;
  private readonly minute = new Float64Array(TICKER_BUCKETS).fill(-1);
  private readonly open = new Float64Array(TICKER_BUCKETS);
  private readonly high = new Float64Array(TICKER_BUCKETS);
  private readonly low = new Float64Array(TICKER_BUCKETS);
  private readonly close = new Float64Array(TICKER_BUCKETS);
  private readonly volume = new Float64Array(TICKER_BUCKETS);
  private readonly quote = new BigInt64Array(TICKER_BUCKETS);
  private readonly count = new Float64Array(TICKER_BUCKETS);
  private readonly firstId = new Float64Array(TICKER_BUCKETS);
  private readonly lastId = new Float64Array(TICKER_BUCKETS);
  lastTicks = 0;
  lastQtyLots = 0;

  constructor(symbolId: number) {
    this.symbolId = symbolId;
  }

  add(timeMs: number, tradeId: number, priceTicks: number, qtyLots: number, quoteUnits: number): void {
    const m = Math.floor(timeMs / MINUTE_MS);
    const b = m % TICKER_BUCKETS;
    if (this.minute[b] !== m) {
      this.minute[b] = m;
      this.open[b] = priceTicks;
      this.high[b] = priceTicks;
      this.low[b] = priceTicks;
      this.volume[b] = 0;
      this.quote[b] = 0n;
      this.count[b] = 0;
      this.firstId[b] = tradeId;
    }
    if (priceTicks > this.high[b]!) this.high[b] = priceTicks;
    if (priceTicks < this.low[b]!) this.low[b] = priceTicks;
    this.close[b] = priceTicks;
    this.volume[b] = this.volume[b]! + qtyLots;
    this.quote[b] = this.quote[b]! + BigInt(quoteUnits);
    this.count[b] = this.count[b]! + 1;
    this.lastId[b] = tradeId;
    this.lastTicks = priceTicks;
    this.lastQtyLots = qtyLots;
  }

  /** The used buckets as plain rows (snapshot of the projections); importState reverses it. */
  exportState(): { lastTicks: number; lastQtyLots: number; buckets: (number | string)[][] } {
    const buckets: (number | string)[][] = [];
    for (let b = 0; b < TICKER_BUCKETS; b++) {
      if (this.minute[b]! < 0) continue;
      buckets.push([b, this.minute[b]!, this.open[b]!, this.high[b]!, this.low[b]!, this.close[b]!, this.volume[b]!,
        this.quote[b]!.toString(), this.count[b]!, this.firstId[b]!, this.lastId[b]!]);
    }
    return { lastTicks: this.lastTicks, lastQtyLots: this.lastQtyLots, buckets };
  }

  importState(state: { lastTicks: number; lastQtyLots: number; buckets: (number | string)[][] }): void {
    this.lastTicks = state.lastTicks;
    this.lastQtyLots = state.lastQtyLots;
    for (const row of state.buckets) {
      const b = row[0] as number;
      if (!Number.isInteger(b) || b < 0 || b >= TICKER_BUCKETS || row.length !== 11) throw new Error(`bad ticker bucket ${JSON.stringify(row)}`);
      this.minute[b] = row[1] as number;
      this.open[b] = row[2] as number;
      this.high[b] = row[3] as number;
      this.low[b] = row[4] as number;
      this.close[b] = row[5] as number;
      this.volume[b] = row[6] as number;
      this.quote[b] = BigInt(row[7] as string);
      this.count[b] = row[8] as number;
      this.firstId[b] = row[9] as number;
      this.lastId[b] = row[10] as number;
    }
  }

  /** Statistics of the 24 h ending at nowMs (whole minutes). */
  view(nowMs: number): Ticker24hView {
    const nowMinute = Math.floor(nowMs / MINUTE_MS);
    const fromMinute = nowMinute - TICKER_BUCKETS + 1;
    let first = -1;
    let last = -1;
    let high = 0;
    let low = 0;
    let volume = 0;
    let quote = 0n;
    let count = 0;
    for (let b = 0; b < TICKER_BUCKETS; b++) {
      const m = this.minute[b]!;
      if (m < fromMinute || m > nowMinute) continue;
      if (first < 0 || m < this.minute[first]!) first = b;
      if (last < 0 || m > this.minute[last]!) last = b;
      if (count === 0 || this.high[b]! > high) high = this.high[b]!;
      if (count === 0 || this.low[b]! < low) low = this.low[b]!;
      volume += this.volume[b]!;
      quote += this.quote[b]!;
      count += this.count[b]!;
    }
    return {
      symbolId: this.symbolId,
      openTicks: first < 0 ? 0 : this.open[first]!,
      highTicks: high,
      lowTicks: low,
      lastTicks: this.lastTicks,
      lastQtyLots: this.lastQtyLots,
      volumeLots: volume,
      quoteVolumeUnits: quote.toString(),
      count,
      firstId: first < 0 ? -1 : this.firstId[first]!,
      lastId: last < 0 ? -1 : this.lastId[last]!,
      openTimeMs: fromMinute * MINUTE_MS,
      closeTimeMs: nowMs,
    };
  }
}
