// Toxics: the network faults the fault proxy (proxy.ts) applies, modelled on Toxiproxy's.
// Each toxic acts on one direction of every connection it is bound to: `upstream` is the
// client → server byte stream (requests), `downstream` server → client (responses). Its
// `probability` (Toxiproxy's "toxicity") is rolled once per connection, from the proxy's
// seeded Rng, when the connection opens or the toxic is added.

export type Direction = 'upstream' | 'downstream';

export type ToxicSpec =
  /** Delay every chunk by latencyMs ± jitterMs (uniform; order is kept). */
  | { type: 'latency'; latencyMs: number; jitterMs?: number }
  /** Pass at most bytesPerS bytes per second (paced in ~20 ms quanta). */
  | { type: 'bandwidth'; bytesPerS: number }
  /** Delay the FIN (end of stream) by delayMs after the data before it was sent. */
  | { type: 'slow-close'; delayMs: number }
  /** Blackhole: drop every byte, hold the connection; close it timeoutMs after binding (0 = hold until removed). */
  | { type: 'timeout'; timeoutMs: number }
  /** On the first data in this direction, wait timeoutMs, then reset both sockets (RST); the data is dropped. */
  | { type: 'reset-peer'; timeoutMs?: number }
  /** Split data into pieces of avgSizeBytes ± sizeVariationBytes, delayMs between pieces. */
  | { type: 'slicer'; avgSizeBytes: number; sizeVariationBytes?: number; delayMs: number }
  /** Pass the first `bytes` bytes (counted from binding), then close the connection. */
  | { type: 'limit-data'; bytes: number };

export type ToxicType = ToxicSpec['type'];

export interface Toxic {
  /** Unique within the proxy (default: `<type>_<direction>`). */
  readonly name: string;
  readonly direction: Direction;
  /** 0..1: share of connections the toxic applies to (default 1). */
  readonly probability: number;
  readonly spec: ToxicSpec;
}

export interface ToxicInput {
  name?: string;
  direction: Direction;
  probability?: number;
  spec: ToxicSpec;
}

/** Upper bounds: a typo must not hold a socket for a day. */
export const TOXIC_DELAY_MS_MAX = 600_000;

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bad toxic: ${what}`);
}

function ms(v: number | undefined, name: string): void {
  if (v === undefined) return;
  check(Number.isFinite(v) && v >= 0 && v <= TOXIC_DELAY_MS_MAX, `${name} must be 0..${TOXIC_DELAY_MS_MAX} ms, got ${v}`);
}

/** Validate and name a toxic; throws a one-line Error on bad input. */
export function makeToxic(input: ToxicInput): Toxic {
  const s = input.spec;
  check(input.direction === 'upstream' || input.direction === 'downstream', `direction must be upstream or downstream, got ${String(input.direction)}`);
  const probability = input.probability ?? 1;
  check(Number.isFinite(probability) && probability >= 0 && probability <= 1, `probability must be 0..1, got ${probability}`);
  switch (s.type) {
    case 'latency': ms(s.latencyMs, 'latencyMs'); ms(s.jitterMs, 'jitterMs'); break;
    case 'bandwidth': check(Number.isFinite(s.bytesPerS) && s.bytesPerS >= 1, `bytesPerS must be >= 1, got ${s.bytesPerS}`); break;
    case 'slow-close': ms(s.delayMs, 'delayMs'); break;
    case 'timeout': ms(s.timeoutMs, 'timeoutMs'); break;
    case 'reset-peer': ms(s.timeoutMs, 'timeoutMs'); break;
    case 'slicer':
      check(Number.isInteger(s.avgSizeBytes) && s.avgSizeBytes >= 1, `avgSizeBytes must be an integer >= 1, got ${s.avgSizeBytes}`);
      check(s.sizeVariationBytes === undefined || (Number.isInteger(s.sizeVariationBytes) && s.sizeVariationBytes >= 0 && s.sizeVariationBytes < s.avgSizeBytes), 'sizeVariationBytes must be an integer in [0, avgSizeBytes)');
      ms(s.delayMs, 'delayMs');
      break;
    case 'limit-data': check(Number.isInteger(s.bytes) && s.bytes >= 0, `bytes must be an integer >= 0, got ${s.bytes}`); break;
    default: check(false, `unknown type ${JSON.stringify((s as { type: unknown }).type)}`);
  }
  return { name: input.name ?? `${s.type}_${input.direction}`, direction: input.direction, probability, spec: s };
}

/** One line for logs and timelines, e.g. "latency 200±50 ms downstream (p=1)". */
export function describeToxic(t: Toxic): string {
  const s = t.spec;
  let what: string;
  switch (s.type) {
    case 'latency': what = `latency ${s.latencyMs}±${s.jitterMs ?? 0} ms`; break;
    case 'bandwidth': what = `bandwidth ${s.bytesPerS} B/s`; break;
    case 'slow-close': what = `slow close +${s.delayMs} ms`; break;
    case 'timeout': what = s.timeoutMs > 0 ? `blackhole, close after ${s.timeoutMs} ms` : 'blackhole (held open)'; break;
    case 'reset-peer': what = `reset peer after ${s.timeoutMs ?? 0} ms`; break;
    case 'slicer': what = `slicer ${s.avgSizeBytes}±${s.sizeVariationBytes ?? 0} B every ${s.delayMs} ms`; break;
    case 'limit-data': what = `limit data ${s.bytes} B`; break;
  }
  return `${what} ${t.direction}${t.probability < 1 ? ` (p=${t.probability})` : ''}`;
}
