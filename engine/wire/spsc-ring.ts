// A single-producer single-consumer byte ring on a SharedArrayBuffer (LMAX-style hand-off
// between a gateway thread and the engine thread). Messages are [u32 length][payload]
// aligned to 4 bytes; a length of WRAP tells the reader to continue at offset 0.
//
// Batching is the point: the producer writes many messages and publishes the head once
// (one Atomics.store, one notify only if the consumer said it is going to sleep); the
// consumer reads everything up to the head and releases the space once. Both counters
// are free-running 32-bit positions; capacity is a power of two, so masking gives the
// offset and unsigned subtraction gives the fill level across wrap-around.

const HEAD = 0; // written by the producer: end of published data
const TAIL = 1; // written by the consumer: end of consumed data
const SLEEPING = 2; // consumer sets 1 before Atomics.wait on HEAD
const HEADER_INTS = 16; // pad to a cache line so the data does not share it
const WRAP = 0xffffffff;

export interface RingBuffers {
  sab: SharedArrayBuffer;
  capacityBytes: number;
}

export function createRing(capacityBytes: number): RingBuffers {
  if (!(Number.isInteger(capacityBytes) && capacityBytes >= 64 && (capacityBytes & (capacityBytes - 1)) === 0 && capacityBytes <= 1 << 30)) {
    throw new Error(`ring capacity must be a power of two in [64, 2^30]: ${capacityBytes}`);
  }
  return { sab: new SharedArrayBuffer(HEADER_INTS * 4 + capacityBytes), capacityBytes };
}

class RingSide {
  protected readonly ctl: Int32Array;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  protected readonly mask: number;
  readonly capacityBytes: number;

  constructor(r: RingBuffers) {
    this.ctl = new Int32Array(r.sab, 0, HEADER_INTS);
    this.bytes = new Uint8Array(r.sab, HEADER_INTS * 4, r.capacityBytes);
    this.view = new DataView(r.sab, HEADER_INTS * 4, r.capacityBytes);
    this.mask = r.capacityBytes - 1;
    this.capacityBytes = r.capacityBytes;
  }
}

export class RingProducer extends RingSide {
  private head: number; // local, unpublished write position
  private published: number;

  constructor(r: RingBuffers) {
    super(r);
    this.head = Atomics.load(this.ctl, HEAD) >>> 0;
    this.published = this.head;
  }

  /**
   * Reserve room for a message of up to maxBytes. Returns the byte offset to write the
   * payload at, or -1 if the ring is full (the caller sheds load or retries later).
   */
  reserve(maxBytes: number): number {
    const need = 4 + ((maxBytes + 3) & ~3);
    if (need + 4 > this.capacityBytes) throw new Error(`message of ${maxBytes} bytes can never fit a ${this.capacityBytes}-byte ring`);
    const tail = Atomics.load(this.ctl, TAIL) >>> 0;
    let off = this.head & this.mask;
    const contiguous = this.capacityBytes - off;
    const wrapCost = contiguous < need ? contiguous : 0;
    if (((this.head - tail) >>> 0) + wrapCost + need > this.capacityBytes) return -1;
    if (wrapCost > 0) {
      this.view.setUint32(off, WRAP, true);
      this.head = (this.head + contiguous) >>> 0;
      off = 0;
    }
    return off + 4;
  }

  /** Complete the message reserved at payloadOffset with its actual length. */
  commit(payloadOffset: number, lengthBytes: number): void {
    this.view.setUint32(payloadOffset - 4, lengthBytes, true);
    this.head = (this.head + 4 + ((lengthBytes + 3) & ~3)) >>> 0;
  }

  /** Make everything committed visible to the consumer; wake it if it sleeps. */
  publish(): void {
    if (this.head === this.published) return;
    this.published = this.head;
    Atomics.store(this.ctl, HEAD, this.head | 0);
    if (Atomics.load(this.ctl, SLEEPING) === 1) Atomics.notify(this.ctl, HEAD);
  }

  /** Bytes in flight (published or not) not yet consumed. */
  usedBytes(): number {
    return (this.head - (Atomics.load(this.ctl, TAIL) >>> 0)) >>> 0;
  }
}

export class RingConsumer extends RingSide {
  private tail: number;

  constructor(r: RingBuffers) {
    super(r);
    this.tail = Atomics.load(this.ctl, TAIL) >>> 0;
  }

  /**
   * Visit every published message: visit(payloadOffset, lengthBytes). Returns the count.
   * Space is released once, after the batch (at most maxMessages).
   */
  drain(visit: (offset: number, length: number) => void, maxMessages = 1 << 30): number {
    const head = Atomics.load(this.ctl, HEAD) >>> 0;
    let tail = this.tail;
    let n = 0;
    while (tail !== head && n < maxMessages) {
      const off = tail & this.mask;
      const len = this.view.getUint32(off, true);
      if (len === WRAP) {
        tail = (tail + (this.capacityBytes - off)) >>> 0;
        continue;
      }
      visit(off + 4, len);
      tail = (tail + 4 + ((len + 3) & ~3)) >>> 0;
      n++;
    }
    if (tail !== this.tail) {
      this.tail = tail;
      Atomics.store(this.ctl, TAIL, tail | 0);
    }
    return n;
  }

  hasData(): boolean {
    return (Atomics.load(this.ctl, HEAD) >>> 0) !== this.tail;
  }

  /** Block (worker threads only) until data arrives or timeoutMs passes. */
  waitForData(timeoutMs: number): void {
    Atomics.store(this.ctl, SLEEPING, 1);
    const head = Atomics.load(this.ctl, HEAD);
    if ((head >>> 0) === this.tail) Atomics.wait(this.ctl, HEAD, head, timeoutMs);
    Atomics.store(this.ctl, SLEEPING, 0);
  }

  /** Non-blocking wait for the main/event-loop thread. */
  async waitForDataAsync(timeoutMs: number): Promise<void> {
    Atomics.store(this.ctl, SLEEPING, 1);
    const head = Atomics.load(this.ctl, HEAD);
    if ((head >>> 0) === this.tail) {
      const r = Atomics.waitAsync(this.ctl, HEAD, head, timeoutMs);
      if (r.async) await r.value;
    }
    Atomics.store(this.ctl, SLEEPING, 0);
  }
}
