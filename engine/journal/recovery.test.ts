// Recovery properties and error paths, on the in-memory SimDisk (deterministic, fast).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecoveryError } from './errors.ts';
import { joinPath } from './file-io.ts';
import { Journal } from './journal.ts';
import { parseSnapshotFileName, RECORD_KIND_COMMAND, segmentFileName, writeRecord } from './record.ts';
import { FaultyFileIO } from './faulty-io.ts';
import { seededRandom } from './random.ts';
import { recover } from './recovery.ts';
import { SimDisk } from './sim-disk.ts';
import { LedgerMachine, ledgerBinaryCodec, type LedgerCommand } from './test-machine.ts';
import { captureLog, ledgerCommandArb, listRecords, modelHashes, TEST_DIR, type RecordInfo } from './testkit.ts';

const createMachine = () => new LedgerMachine();

/** Submits commands in bursts (one burst = one batch, usually), awaiting each burst's acks. */
async function writeJournal(
  disk: SimDisk,
  commands: readonly LedgerCommand[],
  burstSizes: readonly number[],
  opts: { segmentBytesMax: number; checkpointEveryCommands: number; snapshotAfter?: number },
): Promise<Journal<LedgerCommand>> {
  const j = await Journal.open<LedgerCommand>({
    dir: TEST_DIR,
    io: disk,
    createMachine,
    segmentBytesMax: opts.segmentBytesMax,
    checkpointEveryCommands: opts.checkpointEveryCommands,
    snapshotEveryCommands: 0,
  });
  let i = 0;
  let b = 0;
  while (i < commands.length) {
    const n = Math.max(1, burstSizes[b++ % burstSizes.length]!);
    const burst = commands.slice(i, i + n).map((c) => j.submit(c));
    i += burst.length;
    await Promise.all(burst);
    if (opts.snapshotAfter !== undefined && i >= opts.snapshotAfter && j.stats.snapshotsTaken === 0) {
      j.snapshotNow();
      await j.flush();
    }
  }
  await j.close();
  return j;
}

/** The disk as a crash after `cutBytes` bytes of `file` would leave it: later segments never existed. */
async function cutAt(disk: SimDisk, records: readonly RecordInfo[], file: string, cutBytes: number): Promise<SimDisk> {
  const copy = disk.clone();
  await copy.truncate(joinPath(TEST_DIR, file), cutBytes);
  for (const name of new Set(records.map((r) => r.file))) {
    if (name > file) await copy.unlink(joinPath(TEST_DIR, name));
  }
  return copy;
}

/** Seq of the last command whose record lies wholly before the cut. */
function expectedSeqAt(records: readonly RecordInfo[], file: string, cutBytes: number): number {
  let seq = 0;
  for (const r of records) {
    if (r.file > file || (r.file === file && r.endBytes > cutBytes)) break;
    if (r.isCommand) seq = r.seq;
  }
  return seq;
}

describe('recovery: crash after any prefix of the journal bytes', () => {
  it('recovers exactly the state of the last fully written record; replay hash = live hash', async () => {
    // Proves: for random command sequences, cutting the journal at every record boundary and at
    // a random offset inside every record recovers exactly the commands whose records are
    // whole, truncates a torn tail with a log line naming file and offset, and a journal
    // reopened on the result continues at the next seq.
    await fc.assert(
      fc.asyncProperty(
        fc.array(ledgerCommandArb(), { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 150, max: 1500 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 0x7fffffff }),
        async (commands, bursts, segmentBytesMax, checkpointEveryCommands, cutSeed) => {
          const disk = new SimDisk();
          const live = await writeJournal(disk, commands, bursts, { segmentBytesMax, checkpointEveryCommands });
          const hashes = modelHashes(commands);
          expect(live.machine.stateHash()).toBe(hashes[commands.length]);
          const records = await listRecords(disk, TEST_DIR);
          expect(records.filter((r) => r.isCommand).length).toBe(commands.length);

          const cuts: { file: string; cutBytes: number; torn: boolean }[] = [];
          let rnd = cutSeed;
          for (const r of records) {
            if (r.offsetBytes === 0) cuts.push({ file: r.file, cutBytes: 0, torn: false });
            cuts.push({ file: r.file, cutBytes: r.endBytes, torn: false });
            rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
            const inside = r.offsetBytes + 1 + (rnd % (r.endBytes - r.offsetBytes - 1));
            cuts.push({ file: r.file, cutBytes: inside, torn: true });
          }
          for (const cut of cuts) {
            const crashed = await cutAt(disk, records, cut.file, cut.cutBytes);
            const { lines, log } = captureLog();
            const r = await recover({ dir: TEST_DIR, io: crashed, createMachine, log });
            const want = expectedSeqAt(records, cut.file, cut.cutBytes);
            expect(r.lastSeq).toBe(want);
            expect(r.stateHash).toBe(hashes[want]);
            if (cut.torn) {
              expect(r.truncated).toMatchObject({ file: cut.file });
              expect(lines.some((l) => l.includes(`torn record at ${cut.file} offset`))).toBe(true);
            } else {
              expect(r.truncated).toBeNull();
            }
          }
          // Reopen after a torn cut in the middle of the last record and keep going.
          const last = cuts[cuts.length - 1]!;
          const crashed = await cutAt(disk, records, last.file, last.cutBytes);
          const j = await Journal.open<LedgerCommand>({ dir: TEST_DIR, io: crashed, createMachine });
          const extra: LedgerCommand = { type: 'deposit', account: 1, amount: 7 };
          const ack = await j.submit(extra);
          const want = expectedSeqAt(records, last.file, last.cutBytes);
          expect(ack.seq).toBe(want + 1);
          await j.close();
          const again = await recover({ dir: TEST_DIR, io: crashed, createMachine });
          expect(again.lastSeq).toBe(want + 1);
          expect(again.stateHash).toBe(modelHashes([...commands.slice(0, want), extra])[want + 1]);
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);
});

describe('recovery: snapshot + tail', () => {
  it('snapshot at a random point + tail replay = full replay = live state', async () => {
    // Proves: restoring the snapshot taken after k commands and replaying the rest gives the
    // same hash as replaying the whole journal with no snapshot, and as the live machine.
    await fc.assert(
      fc.asyncProperty(
        fc.array(ledgerCommandArb(), { minLength: 1, maxLength: 80 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.integer({ min: 150, max: 3000 }),
        async (commands, bursts, k, segmentBytesMax) => {
          const snapshotAfter = 1 + (k % commands.length);
          const disk = new SimDisk();
          const live = await writeJournal(disk, commands, bursts, { segmentBytesMax, checkpointEveryCommands: 0, snapshotAfter });
          const withSnapshot = await recover({ dir: TEST_DIR, io: disk.clone(), createMachine });
          expect(withSnapshot.snapshotFile).not.toBeNull();
          expect(withSnapshot.replayedCommands).toBe(commands.length - withSnapshot.snapshotSeq);

          // Retention pruned the segments the snapshot covers, so the full replay reads a
          // second journal of the same commands written without a snapshot.
          const noSnapshot = new SimDisk();
          await writeJournal(noSnapshot, commands, bursts, { segmentBytesMax, checkpointEveryCommands: 0 });
          expect((await noSnapshot.list(TEST_DIR)).some((n) => parseSnapshotFileName(n) !== null)).toBe(false);
          const full = await recover({ dir: TEST_DIR, io: noSnapshot, createMachine });
          expect(full.replayedCommands).toBe(commands.length);
          expect(withSnapshot.stateHash).toBe(full.stateHash);
          expect(full.stateHash).toBe(live.machine.stateHash());
          expect(full.stateHash).toBe(modelHashes(commands)[commands.length]);
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);

  it('skips a corrupt newest snapshot with a log line and falls back to the older one', async () => {
    // Proves: retention keeps what the older snapshot needs, so a damaged newest snapshot costs
    // only replay time; the skip is logged, never silent.
    const disk = new SimDisk();
    const j = await Journal.open<LedgerCommand>({
      dir: TEST_DIR, io: disk, createMachine, snapshotEveryCommands: 40, snapshotsKeep: 2, segmentBytesMax: 500,
    });
    for (let i = 0; i < 200; i++) await j.submit({ type: 'deposit', account: i % 5, amount: 1 + (i % 9) });
    await j.close();
    const snaps = (await disk.list(TEST_DIR)).filter((n) => parseSnapshotFileName(n) !== null).sort();
    expect(snaps.length).toBe(2);
    const newest = joinPath(TEST_DIR, snaps[1]!);
    const bytes = await disk.readFile(newest);
    bytes[bytes.length - 3] ^= 0x40;
    const fd = await disk.open(newest, 'truncate');
    await disk.write(fd, bytes, 0, bytes.length);
    await disk.close(fd);
    const { lines, log } = captureLog();
    const r = await recover({ dir: TEST_DIR, io: disk, createMachine, log });
    expect(r.snapshotFile).toBe(snaps[0]);
    expect(r.snapshotsSkipped).toBe(1);
    expect(lines.some((l) => l.includes(`skipping snapshot ${snaps[1]}`) && l.includes('checksum'))).toBe(true);
    expect(r.stateHash).toBe(j.machine.stateHash());
  });

  it('stops with a clear error when no valid snapshot covers the pruned journal start', async () => {
    const disk = new SimDisk();
    const j = await Journal.open<LedgerCommand>({
      dir: TEST_DIR, io: disk, createMachine, snapshotEveryCommands: 30, snapshotsKeep: 1, segmentBytesMax: 300,
    });
    for (let i = 0; i < 120; i++) await j.submit({ type: 'deposit', account: 0, amount: 1 });
    await j.close();
    const names = await disk.list(TEST_DIR);
    expect(names).not.toContain(segmentFileName(1)); // pruned
    for (const n of names) if (parseSnapshotFileName(n) !== null) await disk.unlink(joinPath(TEST_DIR, n));
    await expect(recover({ dir: TEST_DIR, io: disk, createMachine })).rejects.toThrow(/journal starts at seq \d+ but the newest valid snapshot covers only seqs 1\.\.0/);
  });
});

describe('recovery: damage that must stop startup', () => {
  async function journalOf(n: number, segmentBytesMax: number): Promise<SimDisk> {
    const disk = new SimDisk();
    const j = await Journal.open<LedgerCommand>({ dir: TEST_DIR, io: disk, createMachine, segmentBytesMax, snapshotEveryCommands: 0 });
    for (let i = 0; i < n; i++) await j.submit({ type: 'transfer', from: i % 3, to: (i + 1) % 3, amount: 1 });
    await j.close();
    return disk;
  }

  async function flipByte(disk: SimDisk, file: string, offset: number): Promise<void> {
    const p = joinPath(TEST_DIR, file);
    const bytes = await disk.readFile(p);
    bytes[offset] ^= 0xff;
    const fd = await disk.open(p, 'truncate');
    await disk.write(fd, bytes, 0, bytes.length);
    await disk.close(fd);
  }

  it('mid-file checksum mismatch in the last segment: error names file and offset', async () => {
    const disk = await journalOf(20, 1 << 20);
    const records = await listRecords(disk, TEST_DIR);
    const victim = records[7]!;
    await flipByte(disk, victim.file, victim.offsetBytes + 20);
    const err = await recover({ dir: TEST_DIR, io: disk, createMachine }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecoveryError);
    expect((err as RecoveryError).file).toBe(victim.file);
    expect((err as RecoveryError).offsetBytes).toBe(victim.offsetBytes);
    expect((err as Error).message).toMatch(/checksum mismatch.*valid record \(seq 9\) follows/);
    // Nothing was truncated: the file is untouched for the operator.
    expect((await disk.stat(joinPath(TEST_DIR, victim.file)))!.sizeBytes).toBe(records[records.length - 1]!.endBytes);
  });

  it('damage at the end of a segment that is not the last: error, not truncation', async () => {
    const disk = await journalOf(30, 200);
    const records = await listRecords(disk, TEST_DIR);
    const firstFile = records[0]!.file;
    const lastOfFirst = records.filter((r) => r.file === firstFile).pop()!;
    await flipByte(disk, firstFile, lastOfFirst.endBytes - 1);
    await expect(recover({ dir: TEST_DIR, io: disk, createMachine })).rejects.toThrow(
      new RegExp(`segment that is not the last.*file ${firstFile}, offset ${lastOfFirst.offsetBytes}`),
    );
  });

  it('a missing middle segment is a sequence gap naming the next file', async () => {
    const disk = await journalOf(30, 200);
    const files = [...new Set((await listRecords(disk, TEST_DIR)).map((r) => r.file))];
    expect(files.length).toBeGreaterThan(2);
    await disk.unlink(joinPath(TEST_DIR, files[1]!));
    await expect(recover({ dir: TEST_DIR, io: disk, createMachine })).rejects.toThrow(
      new RegExp(`sequence gap between segments.*file ${files[2]}, offset 0`),
    );
  });

  it.each([
    [[1, 2, 4, 5], 'sequence gap: expected seq 3, found 4', 2],
    [[1, 2, 2, 3], 'sequence gap: expected seq 3, found 2', 2],
  ])('seqs %j inside one segment: error names the offset of the bad record', async (seqs, message, badIndex) => {
    const disk = new SimDisk();
    await disk.mkdirp(TEST_DIR);
    const out = new Uint8Array(4096);
    const offsets: number[] = [];
    let o = 0;
    for (const seq of seqs) {
      offsets.push(o);
      o = writeRecord(out, o, seq, RECORD_KIND_COMMAND, Buffer.from(JSON.stringify({ type: 'deposit', account: 0, amount: 1 })));
    }
    const fd = await disk.open(joinPath(TEST_DIR, segmentFileName(1)), 'append');
    await disk.write(fd, out, 0, o);
    await disk.close(fd);
    const err = (await recover({ dir: TEST_DIR, io: disk, createMachine }).catch((e: unknown) => e)) as RecoveryError;
    expect(err).toBeInstanceOf(RecoveryError);
    expect(err.message).toContain(message);
    expect(err.offsetBytes).toBe(offsets[badIndex]);
  });

  it('a zero-filled tail (extended but unwritten blocks) is a torn tail', async () => {
    const disk = await journalOf(5, 1 << 20);
    const file = joinPath(TEST_DIR, segmentFileName(1));
    const sizeBytes = (await disk.stat(file))!.sizeBytes;
    await disk.truncate(file, sizeBytes + 4096);
    const { lines, log } = captureLog();
    const r = await recover({ dir: TEST_DIR, io: disk, createMachine, log });
    expect(r.lastSeq).toBe(5);
    expect(r.truncated).toMatchObject({ offsetBytes: sizeBytes, droppedBytes: 4096 });
    expect(lines.join('\n')).toContain(`torn record at ${segmentFileName(1)} offset ${sizeBytes}`);
    expect((await disk.stat(file))!.sizeBytes).toBe(sizeBytes);
  });

  it('a checkpoint that replay does not reproduce stops startup with the offset', async () => {
    // A machine whose apply differs from the one that wrote the journal (non-determinism).
    class Drifting extends LedgerMachine {
      override apply(c: LedgerCommand) {
        return super.apply(c.type === 'deposit' ? { ...c, amount: c.amount + 1 } : c);
      }
    }
    const disk = new SimDisk();
    const j = await Journal.open<LedgerCommand>({ dir: TEST_DIR, io: disk, createMachine, checkpointEveryCommands: 5, snapshotEveryCommands: 0 });
    for (let i = 0; i < 12; i++) await j.submit({ type: 'deposit', account: 2, amount: 3 });
    await j.close();
    await expect(recover({ dir: TEST_DIR, io: disk, createMachine: () => new Drifting() })).rejects.toThrow(
      /state hash mismatch at checkpoint seq \d+.*offset \d+/,
    );
  });

  it('logs the verified state hash after a clean shutdown', async () => {
    const disk = await journalOf(10, 1 << 20);
    const { lines, log } = captureLog();
    const r = await recover({ dir: TEST_DIR, io: disk, createMachine, log });
    expect(r.verifiedAtSeq).toBe(10);
    expect(lines.at(-1)).toMatch(new RegExp(`state hash ${r.stateHash} matches the checksum recorded at seq 10`));
  });

  it('replays with a binary codec too', async () => {
    const disk = new SimDisk();
    const j = await Journal.open<LedgerCommand>({ dir: TEST_DIR, io: disk, createMachine, codec: ledgerBinaryCodec });
    const cmds: LedgerCommand[] = [
      { type: 'deposit', account: 3, amount: 50 },
      { type: 'transfer', from: 3, to: 4, amount: 20 },
      { type: 'withdraw', account: 4, amount: 25 },
    ];
    const acks = await Promise.all(cmds.map((c) => j.submit(c)));
    expect(acks.map((a) => a.result)).toEqual([
      { ok: true, balance: 50 },
      { ok: true, balance: 30 },
      { ok: false, reason: 'insufficient_funds' },
    ]);
    await j.close();
    const r = await recover({ dir: TEST_DIR, io: disk, createMachine, codec: ledgerBinaryCodec });
    expect(r.stateHash).toBe(modelHashes(cmds)[3]);
  });
});

describe('recovery: a process crash, then a power loss', () => {
  it('the replayed unsynced tail is made durable before new commands: no seq gap, every acknowledged command survives', async () => {
    // Regression for `perpx sim --seed 3 --steps 515`: recovery replayed a tail that was only
    // in the page cache, the journal appended new acknowledged commands in a new segment, and
    // a power loss then dropped the old tail but kept the new segment: a seq gap at startup.
    const disk = new SimDisk();
    const io = new FaultyFileIO(disk, seededRandom(1), { failFsyncAtCall: { call: 3, code: 'EIO' }, appliesTo: (p) => p.endsWith('.log') });
    const first = await Journal.open<LedgerCommand>({ dir: TEST_DIR, io, createMachine });
    for (let i = 0; i < 2; i++) await first.submit({ type: 'deposit', account: 0, amount: 10 }); // seqs 1, 2 durable
    const unacked = await Promise.allSettled(Array.from({ length: 5 }, () => first.submit({ type: 'deposit', account: 1, amount: 1 })));
    expect(unacked.every((s) => s.status === 'rejected')).toBe(true); // seqs 3..7 written, their fsync failed
    await first.close();

    // Process crash: the page cache survives, so recovery replays seqs 3..7 from unsynced bytes.
    const { lines, log } = captureLog();
    const survivor = disk.clone();
    const second = await Journal.open<LedgerCommand>({ dir: TEST_DIR, io: survivor, createMachine, log });
    expect(second.recovery.lastSeq).toBe(7);
    const acked = await second.submit({ type: 'deposit', account: 2, amount: 4 });
    expect(acked.seq).toBe(8);

    // Power loss that keeps nothing unsynced: seq 8 was acknowledged, so 1..8 must all come back.
    const r = await recover({ dir: TEST_DIR, io: survivor.crash(seededRandom(2), { keepUnsyncedProbability: 0 }), createMachine });
    expect(r.lastSeq).toBe(8);
    expect(r.stateHash).toBe(second.machine.stateHash());
    expect(lines.join('\n')).toMatch(/fsynced 1 replayed segment\(s\) and the directory/);
  });
});
