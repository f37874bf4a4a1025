// The engine thread's snapshot payload: the engine's own snapshot bytes, then the projections
// (projections-snapshot.ts). The journal's header hash stays the engine's stateHash(): the
// projections are derived data, never part of the determinism checks.
//
//   0  magic "PXHSNAP1" (8 bytes)
//   8  u64 engineBytes
//  16  engine snapshot (engineBytes), then the projections section (the rest)
//
// A payload without the magic is an engine-only snapshot (written before this format): it
// restores the engine and no history.

const MAGIC = 'PXHSNAP1';
const HEADER_BYTES = 16;

export interface HostSnapshotParts {
  engine: Uint8Array;
  /** null: an engine-only snapshot. */
  projections: Uint8Array | null;
}

export function encodeHostSnapshot(engine: Uint8Array, projections: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafeSlow(HEADER_BYTES + engine.length + projections.length); // every byte is written below
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  out.writeBigUInt64LE(BigInt(engine.length), 8);
  out.set(engine, HEADER_BYTES);
  out.set(projections, HEADER_BYTES + engine.length);
  return out;
}

export function decodeHostSnapshot(bytes: Uint8Array): HostSnapshotParts {
  if (bytes.length < HEADER_BYTES) return { engine: bytes, projections: null };
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC.charCodeAt(i)) return { engine: bytes, projections: null };
  }
  const engineBytes = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getBigUint64(8, true));
  if (engineBytes > bytes.length - HEADER_BYTES) throw new Error(`host snapshot: engine part of ${engineBytes} bytes exceeds the payload`);
  return {
    engine: bytes.subarray(HEADER_BYTES, HEADER_BYTES + engineBytes),
    projections: bytes.subarray(HEADER_BYTES + engineBytes),
  };
}
