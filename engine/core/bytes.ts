// Little-endian byte writer/reader for snapshots. Numbers are written as float64 (exact
// for every safe integer the engine holds); strings as u32 length + UTF-8.

const enc = new TextEncoder();
const dec = new TextDecoder();

export class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  num(x: number): void {
    this.ensure(8);
    this.view.setFloat64(this.len, x, true);
    this.len += 8;
  }

  u8(x: number): void {
    this.ensure(1);
    this.buf[this.len++] = x;
  }

  str(s: string): void {
    const b = enc.encode(s);
    this.ensure(4 + b.length);
    this.view.setUint32(this.len, b.length, true);
    this.len += 4;
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private off = 0;
  private readonly buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.off + n > this.buf.length) throw new Error(`snapshot truncated at byte ${this.off}`);
  }

  num(): number {
    this.need(8);
    const x = this.view.getFloat64(this.off, true);
    this.off += 8;
    return x;
  }

  int(): number {
    const x = this.num();
    if (!Number.isSafeInteger(x)) throw new Error(`snapshot holds a non-integer at byte ${this.off - 8}`);
    return x;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.off++]!;
  }

  str(): string {
    this.need(4);
    const n = this.view.getUint32(this.off, true);
    this.off += 4;
    this.need(n);
    const s = dec.decode(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    return s;
  }

  done(): boolean {
    return this.off === this.buf.length;
  }
}
