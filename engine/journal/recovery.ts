// Recovery: newest valid snapshot + replay of the journal tail.
//
// What it does, in order (every step logs one line through the injected log):
//  1. Deletes leftover *.tmp files (interrupted snapshot writes).
//  2. Tries snapshots newest first: checks header and payload CRC, restore()s into a fresh
//     machine and requires stateHash() to equal the hash in the header. A bad snapshot is
//     skipped with a log line and the next older one is tried (retention keeps the journal
//     segments every kept snapshot needs).
//  3. Replays every command after the snapshot, checking each record's CRC and that command
//     seqs go up by exactly one, across segment boundaries too. Each checkpoint record met
//     after the snapshot is checked against stateHash() of the replayed state.
//  4. A damaged record in the last segment with no valid record anywhere after it is a torn
//     tail (a crash mid-write): the file is truncated there, logging file, offset and bytes
//     dropped. Any other damage (in an earlier segment, or followed by a valid record), a seq
//     gap or a checkpoint mismatch throws RecoveryError naming file and offset: startup stops,
//     nothing is skipped silently.
//  5. Makes what it replayed durable: fsyncs every replayed segment and the directory. After a
//     process crash the tail may have been read from the page cache only (written, never
//     fsynced, never acknowledged). It is now part of the state new commands build on, and the
//     journal appends those in a new segment: without this fsync a later power loss could drop
//     the old tail and keep the new segment, a seq gap that stops startup (found by `perpx sim`,
//     seed 3 step 515). Truncating to the durable point is not an option: the page cache does
//     not say which bytes are durable.

import type { StateMachine } from '../core/state-machine.ts';
import { jsonCodec, type Codec } from './codec.ts';
import { RecoveryError } from './errors.ts';
import { joinPath, type FileIO } from './file-io.ts';
import {
  checkRecordAt,
  describeRecordStatus,
  parseSegmentFileName,
  parseSnapshotFileName,
  RECORD_BYTES_MAX_DEFAULT,
  RECORD_HEADER_BYTES,
  RECORD_KIND_CHECKPOINT,
  RECORD_KIND_COMMAND,
  recordKind,
  recordSeq,
  TEMP_SUFFIX,
} from './record.ts';
import { decodeSnapshot } from './snapshot-file.ts';

export interface RecoverOptions<C> {
  readonly dir: string;
  readonly io: FileIO;
  readonly createMachine: () => StateMachine<C>;
  readonly codec?: Codec<C>;
  readonly log?: (line: string) => void;
  readonly recordBytesMax?: number;
  /** false: report a torn tail but leave the file alone (inspection tools). Default true. */
  readonly repair?: boolean;
  /** Monotonic milliseconds, for the timings in the result. */
  readonly now?: () => number;
}

export interface SegmentRef {
  readonly firstSeq: number;
  readonly name: string;
}

export interface TruncatedTail {
  readonly file: string;
  readonly offsetBytes: number;
  readonly droppedBytes: number;
  readonly reason: string;
}

export interface RecoveryResult<C> {
  readonly machine: StateMachine<C>;
  /** Seq of the last command reflected in machine (0 = empty journal). */
  readonly lastSeq: number;
  readonly snapshotSeq: number;
  readonly snapshotFile: string | null;
  readonly snapshotsSkipped: number;
  readonly replayedCommands: number;
  readonly segmentsRead: number;
  readonly bytesRead: number;
  readonly truncated: TruncatedTail | null;
  readonly checkpointsVerified: number;
  /** Seq of the newest checkpoint (or snapshot header) the final state was checked against. */
  readonly verifiedAtSeq: number | null;
  readonly stateHash: string;
  readonly restoreMs: number;
  readonly replayMs: number;
  readonly elapsedMs: number;
  /** Segment files present after recovery, oldest first. */
  readonly segments: readonly SegmentRef[];
}

interface ChosenSnapshot<C> {
  machine: StateMachine<C>;
  seq: number;
  file: string | null;
  hash: string | null;
  skipped: number;
}

const defaultNow = (): number => performance.now();

async function removeTempFiles(io: FileIO, dir: string, names: string[], log: (line: string) => void): Promise<void> {
  for (const name of names) {
    if (!name.endsWith(TEMP_SUFFIX)) continue;
    await io.unlink(joinPath(dir, name));
    log(`recovery: removed interrupted temp file ${name}`);
  }
}

async function chooseSnapshot<C>(opts: RecoverOptions<C>, names: string[], log: (line: string) => void): Promise<ChosenSnapshot<C>> {
  const snaps = names
    .map((name) => ({ name, seq: parseSnapshotFileName(name) }))
    .filter((s): s is { name: string; seq: number } => s.seq !== null)
    .sort((a, b) => b.seq - a.seq);
  let skipped = 0;
  for (const snap of snaps) {
    try {
      const contents = decodeSnapshot(await opts.io.readFile(joinPath(opts.dir, snap.name)));
      if (contents.seq !== snap.seq) throw new Error(`header seq ${contents.seq} does not match file name`);
      const machine = opts.createMachine();
      machine.restore(contents.payload);
      const hash = machine.stateHash();
      if (hash !== contents.stateHash) {
        throw new Error(`state hash after restore ${hash} differs from header ${contents.stateHash}`);
      }
      return { machine, seq: snap.seq, file: snap.name, hash, skipped };
    } catch (err) {
      skipped++;
      log(`recovery: skipping snapshot ${snap.name}: ${(err as Error).message}; falling back to an older one`);
    }
  }
  return { machine: opts.createMachine(), seq: 0, file: null, hash: null, skipped };
}

/** True when some CRC-valid record with a plausible seq starts anywhere in bytes(from, end). */
function findValidRecordAfter(bytes: Uint8Array, from: number, end: number, recordBytesMax: number, minSeq: number): number {
  for (let p = from; p + RECORD_HEADER_BYTES < end; p++) {
    if (checkRecordAt(bytes, p, end, recordBytesMax) > 0 && recordSeq(bytes, p) >= minSeq) return p;
  }
  return -1;
}

interface ReplayCursor {
  /** Seq of the last command record read (applied or covered by the snapshot). */
  prevSeq: number;
  replayed: number;
  checkpointsVerified: number;
  verifiedAtSeq: number | null;
  bytesRead: number;
  truncated: TruncatedTail | null;
}

async function replaySegment<C>(
  opts: RecoverOptions<C>,
  codec: Codec<C>,
  machine: StateMachine<C>,
  snapSeq: number,
  seg: SegmentRef,
  isLast: boolean,
  cur: ReplayCursor,
  log: (line: string) => void,
): Promise<void> {
  const recordBytesMax = opts.recordBytesMax ?? RECORD_BYTES_MAX_DEFAULT;
  const filePath = joinPath(opts.dir, seg.name);
  const bytes = await opts.io.readFile(filePath);
  const end = bytes.length;
  cur.bytesRead += end;
  let o = 0;
  while (o < end) {
    const payloadBytes = checkRecordAt(bytes, o, end, recordBytesMax);
    if (payloadBytes < 0) {
      const reason = describeRecordStatus(payloadBytes);
      if (!isLast) throw new RecoveryError(seg.name, o, `${reason} in a segment that is not the last (corruption before the tail)`);
      const next = findValidRecordAfter(bytes, o + 1, end, recordBytesMax, cur.prevSeq);
      if (next >= 0) {
        throw new RecoveryError(
          seg.name,
          o,
          `${reason}, but a valid record (seq ${recordSeq(bytes, next)}) follows at offset ${next}: mid-file corruption, not a torn tail`,
        );
      }
      cur.truncated = { file: seg.name, offsetBytes: o, droppedBytes: end - o, reason };
      if (opts.repair !== false) {
        await opts.io.truncate(filePath, o);
        const fd = await opts.io.open(filePath, 'append');
        await opts.io.fsync(fd);
        await opts.io.close(fd);
      }
      log(
        `recovery: torn record at ${seg.name} offset ${o} (${reason}); ` +
          `${opts.repair !== false ? 'truncated' : 'would truncate'} ${end - o} bytes after seq ${cur.prevSeq}`,
      );
      return;
    }
    const seq = recordSeq(bytes, o);
    const kind = recordKind(bytes, o);
    if (o === 0 && seq !== seg.firstSeq) {
      throw new RecoveryError(seg.name, o, `first record has seq ${seq}, file name says ${seg.firstSeq}`);
    }
    if (kind === RECORD_KIND_COMMAND) {
      if (seq !== cur.prevSeq + 1) {
        throw new RecoveryError(seg.name, o, `sequence gap: expected seq ${cur.prevSeq + 1}, found ${seq}`);
      }
      cur.prevSeq = seq;
      if (seq > snapSeq) {
        const command = codec.decode(bytes.subarray(o + RECORD_HEADER_BYTES + 1, o + RECORD_HEADER_BYTES + payloadBytes));
        if (machine.replay !== undefined) machine.replay(command);
        else machine.apply(command);
        cur.replayed++;
      }
    } else if (kind === RECORD_KIND_CHECKPOINT) {
      if (seq !== cur.prevSeq) {
        throw new RecoveryError(seg.name, o, `checkpoint seq ${seq} does not follow command seq ${cur.prevSeq}`);
      }
      if (seq > snapSeq) verifyCheckpoint(machine, bytes, o, payloadBytes, seg.name, cur);
    } else {
      throw new RecoveryError(seg.name, o, `unknown record kind ${kind} (seq ${seq})`);
    }
    o += RECORD_HEADER_BYTES + payloadBytes;
  }
}

function verifyCheckpoint<C>(
  machine: StateMachine<C>,
  bytes: Uint8Array,
  o: number,
  payloadBytes: number,
  file: string,
  cur: ReplayCursor,
): void {
  const start = o + RECORD_HEADER_BYTES + 1;
  const recorded = Buffer.from(bytes.buffer, bytes.byteOffset + start, payloadBytes - 1).toString('latin1');
  const actual = machine.stateHash();
  if (actual !== recorded) {
    throw new RecoveryError(
      file,
      o,
      `state hash mismatch at checkpoint seq ${cur.prevSeq}: replay gives ${actual}, journal recorded ${recorded} (non-deterministic apply or codec?)`,
    );
  }
  cur.checkpointsVerified++;
  cur.verifiedAtSeq = cur.prevSeq;
}

function listSegments(names: string[]): SegmentRef[] {
  return names
    .map((name) => ({ name, firstSeq: parseSegmentFileName(name) }))
    .filter((s): s is SegmentRef => s.firstSeq !== null)
    .sort((a, b) => a.firstSeq - b.firstSeq);
}

/** Step 5: fsync the replayed segments and the directory (entries of segments and the chosen snapshot). */
async function syncReplayed<C>(opts: RecoverOptions<C>, replayed: readonly SegmentRef[], log: (line: string) => void): Promise<void> {
  for (const seg of replayed) {
    const fd = await opts.io.open(joinPath(opts.dir, seg.name), 'append');
    try {
      await opts.io.fsync(fd);
    } finally {
      await opts.io.close(fd);
    }
  }
  await opts.io.fsyncDir(opts.dir);
  log(`recovery: fsynced ${replayed.length} replayed segment(s) and the directory before accepting commands`);
}

export async function recover<C>(opts: RecoverOptions<C>): Promise<RecoveryResult<C>> {
  const now = opts.now ?? defaultNow;
  const log = opts.log ?? (() => {});
  const codec = opts.codec ?? jsonCodec<C>();
  const t0 = now();
  await opts.io.mkdirp(opts.dir);
  const names = await opts.io.list(opts.dir);
  await removeTempFiles(opts.io, opts.dir, names, log);
  const snap = await chooseSnapshot(opts, names, log);
  const tRestored = now();
  const segments = listSegments(names);

  // The tail starts in the last segment whose first seq is <= snapshot seq + 1.
  let startIdx = -1;
  for (let i = 0; i < segments.length; i++) if (segments[i]!.firstSeq <= snap.seq + 1) startIdx = i;
  if (segments.length > 0 && startIdx < 0) {
    throw new RecoveryError(
      segments[0]!.name,
      0,
      `journal starts at seq ${segments[0]!.firstSeq} but the newest valid snapshot covers only seqs 1..${snap.seq}` +
        `${snap.skipped > 0 ? ` (${snap.skipped} snapshot(s) were unreadable)` : ''}`,
    );
  }
  const cur: ReplayCursor = {
    prevSeq: startIdx >= 0 ? segments[startIdx]!.firstSeq - 1 : snap.seq,
    replayed: 0,
    checkpointsVerified: 0,
    verifiedAtSeq: snap.file !== null ? snap.seq : null,
    bytesRead: 0,
    truncated: null,
  };
  for (let i = Math.max(startIdx, 0); i < segments.length && startIdx >= 0; i++) {
    const seg = segments[i]!;
    if (seg.firstSeq !== cur.prevSeq + 1) {
      throw new RecoveryError(seg.name, 0, `sequence gap between segments: expected seq ${cur.prevSeq + 1}, file starts at ${seg.firstSeq}`);
    }
    await replaySegment(opts, codec, snap.machine, snap.seq, seg, i === segments.length - 1, cur, log);
  }
  const tReplayed = now();
  if (opts.repair !== false) await syncReplayed(opts, segments.slice(Math.max(startIdx, 0)), log);
  if (cur.prevSeq < snap.seq) {
    log(
      `recovery: journal ends at seq ${cur.prevSeq}, before snapshot seq ${snap.seq} ` +
        `(unsynced journal tail lost under a non-fsync policy?); state comes from the snapshot`,
    );
  }
  const lastSeq = Math.max(cur.prevSeq, snap.seq);
  const stateHash = snap.machine.stateHash();
  const verified =
    cur.verifiedAtSeq === null
      ? 'not checked: no checkpoint or snapshot recorded a hash'
      : cur.verifiedAtSeq === lastSeq
        ? `matches the checksum recorded at seq ${lastSeq}`
        : cur.checkpointsVerified === 0
          ? `not checked at seq ${lastSeq}: no checkpoint after the snapshot (snapshot hash at seq ${cur.verifiedAtSeq} matched)`
          : `not checked at seq ${lastSeq}: newest checkpoint at seq ${cur.verifiedAtSeq} matched (${cur.checkpointsVerified} verified during replay)`;
  const result: RecoveryResult<C> = {
    machine: snap.machine,
    lastSeq,
    snapshotSeq: snap.seq,
    snapshotFile: snap.file,
    snapshotsSkipped: snap.skipped,
    replayedCommands: cur.replayed,
    segmentsRead: startIdx >= 0 ? segments.length - startIdx : 0,
    bytesRead: cur.bytesRead,
    truncated: cur.truncated,
    checkpointsVerified: cur.checkpointsVerified,
    verifiedAtSeq: cur.verifiedAtSeq,
    stateHash,
    restoreMs: tRestored - t0,
    replayMs: tReplayed - tRestored,
    elapsedMs: now() - t0,
    segments,
  };
  log(
    `recovery: snapshot ${snap.file ?? 'none'} (seq ${snap.seq}, ${result.restoreMs.toFixed(1)} ms); ` +
      `replayed ${cur.replayed} commands from ${result.segmentsRead} segment(s) in ${result.replayMs.toFixed(1)} ms; ` +
      `last seq ${lastSeq}; state hash ${stateHash} ${verified}`,
  );
  return result;
}
