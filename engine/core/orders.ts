// The engine's order records, struct-of-arrays. Index layout: resting orders of symbol s
// live at base[s] + (their book slot), so a fill callback reaches the record without a
// lookup; one scratch slot holds the order currently taking liquidity; conditional
// (trigger) orders sit in their own range with a free list.

export const OT_LIMIT = 0;
export const OT_MARKET = 1;
export const OT_STOP = 2;
export const OT_STOP_MARKET = 3;
export const OT_TAKE_PROFIT = 4;
export const OT_TAKE_PROFIT_MARKET = 5;

export const ST_NEW = 0;
export const ST_PARTIALLY_FILLED = 1;
export const ST_FILLED = 2;
export const ST_CANCELED = 3;
export const ST_EXPIRED = 4;
export const ST_EXPIRED_IN_MATCH = 5;

export const F_REDUCE_ONLY = 1;
export const F_WORKING_MARK = 2;
export const F_CONDITIONAL = 4; // waiting for its trigger
export const F_LIQUIDATION = 8;

const CLIENT_ID_PAGE_BITS = 14;
const CLIENT_ID_PAGE_MASK = (1 << CLIENT_ID_PAGE_BITS) - 1;

export class OrderTable {
  readonly capacity: number;
  readonly id: Float64Array;
  readonly account: Int32Array;
  readonly symbol: Uint8Array;
  readonly side: Uint8Array;
  readonly type: Uint8Array;
  readonly tif: Uint8Array;
  readonly stp: Uint8Array;
  readonly flags: Uint8Array;
  readonly status: Uint8Array;
  readonly price: Int32Array;
  readonly trigger: Int32Array;
  readonly origQty: Float64Array;
  readonly execQty: Float64Array;
  readonly cumQuote: Float64Array;
  readonly reserved: Float64Array;
  readonly timeMs: Float64Array;
  readonly updateMs: Float64Array;
  /** Client order ids in pages of 2^CLIENT_ID_PAGE_BITS, created on first write: a flat array of
   *  ~2M strings would cost ~60 ms of page faults at startup and be scanned by every major GC. */
  private readonly clientIdPages: (string[] | undefined)[];
  /** Per-account intrusive list of open orders (resting and conditional). */
  readonly accNext: Int32Array;
  readonly accPrev: Int32Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.id = new Float64Array(capacity);
    this.account = new Int32Array(capacity);
    this.symbol = new Uint8Array(capacity);
    this.side = new Uint8Array(capacity);
    this.type = new Uint8Array(capacity);
    this.tif = new Uint8Array(capacity);
    this.stp = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.status = new Uint8Array(capacity);
    this.price = new Int32Array(capacity);
    this.trigger = new Int32Array(capacity);
    this.origQty = new Float64Array(capacity);
    this.execQty = new Float64Array(capacity);
    this.cumQuote = new Float64Array(capacity);
    this.reserved = new Float64Array(capacity);
    this.timeMs = new Float64Array(capacity);
    this.updateMs = new Float64Array(capacity);
    this.clientIdPages = new Array<string[] | undefined>((capacity >>> CLIENT_ID_PAGE_BITS) + 1).fill(undefined);
    // Not pre-filled with NIL: linkOpen writes both links before anything reads them, and an
    // untouched typed array costs no page faults (startup allocates ~2M slots by default).
    this.accNext = new Int32Array(capacity);
    this.accPrev = new Int32Array(capacity);
  }

  getClientId(slot: number): string {
    const page = this.clientIdPages[slot >>> CLIENT_ID_PAGE_BITS];
    return page === undefined ? '' : page[slot & CLIENT_ID_PAGE_MASK]!;
  }

  setClientId(slot: number, clientId: string): void {
    const pageIndex = slot >>> CLIENT_ID_PAGE_BITS;
    let page = this.clientIdPages[pageIndex];
    if (page === undefined) {
      page = new Array<string>(1 << CLIENT_ID_PAGE_BITS).fill('');
      this.clientIdPages[pageIndex] = page;
    }
    page[slot & CLIENT_ID_PAGE_MASK] = clientId;
  }

  copy(from: number, to: number): void {
    this.id[to] = this.id[from]!;
    this.account[to] = this.account[from]!;
    this.symbol[to] = this.symbol[from]!;
    this.side[to] = this.side[from]!;
    this.type[to] = this.type[from]!;
    this.tif[to] = this.tif[from]!;
    this.stp[to] = this.stp[from]!;
    this.flags[to] = this.flags[from]!;
    this.status[to] = this.status[from]!;
    this.price[to] = this.price[from]!;
    this.trigger[to] = this.trigger[from]!;
    this.origQty[to] = this.origQty[from]!;
    this.execQty[to] = this.execQty[from]!;
    this.cumQuote[to] = this.cumQuote[from]!;
    this.reserved[to] = this.reserved[from]!;
    this.timeMs[to] = this.timeMs[from]!;
    this.updateMs[to] = this.updateMs[from]!;
    this.setClientId(to, this.getClientId(from));
  }
}
