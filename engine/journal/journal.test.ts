// Journal behaviour: group commit, ack-after-fsync, overload, fail-stop under injected faults,
// policies, snapshots and retention. Deterministic: SimDisk + seeded fault plans.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalError } from './errors.ts';
import { FaultyFileIO, type FaultPlan } from './faulty-io.ts';
import { createNodeFileIO, joinPath, type FileIO, type OpenMode } from './file-io.ts';
import { Journal, type JournalOptions } from './journal.ts';
import { describePolicy, parsePolicy } from './policy.ts';
import { parseSegmentFileName, parseSnapshotFileName } from './record.ts';
import { recover } from './recovery.ts';
import { seededRandom, type Random } from './random.ts';
import { SimDisk, type CrashOptions } from './sim-disk.ts';
import { LedgerMachine, type LedgerCommand, type LedgerResult } from './test-machine.ts';
import { captureLog, ledgerCommandArb, modelHashes, TEST_DIR } from './testkit.ts';

const createMachine = () => new LedgerMachine();
const deposit = (account: number, amount: number): LedgerCommand => ({ type: 'deposit', account, amount });

function open(io: FileIO, extra: Partial<JournalOptions<LedgerCommand>> = {}): Promise<Journal<LedgerCommand>> {
  return Journal.open<LedgerCommand>({ dir: TEST_DIR, io, createMachine, ...extra });
}

function turns(n: number): Promise<void> {
  let p = Promise.resolve();
  for (let i = 0; i < n; i++) p = p.then(() => new Promise<void>((r) => setImmediate(r)));
  return p;
}

/**
 * FileIO that crashes the SimDisk right before its Nth call: the journal sees ECRASHED from then
 * on (like a process that died at that instant) and `after` is the disk a reboot would find.
 */
class CrashAtOp implements FileIO {
  ops = 0;
  after: SimDisk | null = null;
  private readonly disk: SimDisk;
  private readonly crashAtOp: number;
  private readonly random: Random;
  private readonly crashOptions: CrashOptions;
  constructor(disk: SimDisk, crashAtOp: number, random: Random, crashOptions: CrashOptions) {
    this.disk = disk;
    this.crashAtOp = crashAtOp;
    this.random = random;
    this.crashOptions = crashOptions;
  }
  crashNow(): SimDisk {
    this.after ??= this.disk.crash(this.random, this.crashOptions);
    return this.after;
  }
  private tick(): void {
    if (++this.ops === this.crashAtOp) this.crashNow();
  }
  mkdirp(d: string) { this.tick(); return this.disk.mkdirp(d); }
  list(d: string) { this.tick(); return this.disk.list(d); }
  stat(p: string) { this.tick(); return this.disk.stat(p); }
  readFile(p: string) { this.tick(); return this.disk.readFile(p); }
  open(p: string, m: OpenMode) { this.tick(); return this.disk.open(p, m); }
  write(fd: number, b: Uint8Array, o: number, l: number) { this.tick(); return this.disk.write(fd, b, o, l); }
  fsync(fd: number) { this.tick(); return this.disk.fsync(fd); }
  close(fd: number) { this.tick(); return this.disk.close(fd); }
  truncate(p: string, s: number) { this.tick(); return this.disk.truncate(p, s); }
  rename(a: string, b: string) { this.tick(); return this.disk.rename(a, b); }
  unlink(p: string) { this.tick(); return this.disk.unlink(p); }
  fsyncDir(d: string) { this.tick(); return this.disk.fsyncDir(d); }
}

interface Outcome {
  acked: Map<number, unknown>;
  rejected: JournalError[];
}

/** Submits in bursts without waiting for durability; records which commands were acknowledged. */
async function drive(j: Journal<LedgerCommand>, commands: readonly LedgerCommand[], bursts: readonly number[]): Promise<Outcome> {
  const acked = new Map<number, unknown>();
  const rejected: JournalError[] = [];
  const all: Promise<void>[] = [];
  let i = 0;
  let b = 0;
  while (i < commands.length) {
    const n = Math.max(1, bursts[b++ % bursts.length]!);
    for (const c of commands.slice(i, i + n)) {
      all.push(
        j.submit(c).then(
          (ack) => void acked.set(ack.seq, ack.result),
          (err: JournalError) => void rejected.push(err),
        ),
      );
    }
    i += n;
    await turns(1 + (b % 3));
  }
  await Promise.all(all);
  return { acked, rejected };
}

/** Results the model gives for each seq, to compare with acknowledged results. */
function modelResults(commands: readonly LedgerCommand[]): LedgerResult[] {
  const m = new LedgerMachine();
  return commands.map((c) => m.apply(c));
}

describe('journal: crash at any I/O boundary (simulation)', () => {
  it('every acknowledged command survives; nothing unacknowledged is half-applied', async () => {
    // Proves: with policy fsync, crashing the disk before any single I/O call of a run (journal
    // writes, fsyncs, rotations, snapshot writes, pruning), with unsynced bytes torn at random,
    // recovers a state equal to replaying exactly a prefix of the sequenced commands, and that
    // prefix contains every acknowledged command with the result that was acknowledged.
    await fc.assert(
      fc.asyncProperty(
        fc.array(ledgerCommandArb(), { minLength: 1, maxLength: 80 }),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 150, max: 1200 }),
        fc.constantFrom(0, 7, 20),
        fc.integer({ min: 0, max: 0x7fffffff }),
        async (commands, bursts, crashAtOp, segmentBytesMax, snapshotEveryCommands, seed) => {
          const disk = new SimDisk();
          const io = new CrashAtOp(disk, crashAtOp, seededRandom(seed), {
            keepUnsyncedProbability: 0.6,
            garbageProbability: 0.4,
            keepUnsyncedDirProbability: 0.3,
          });
          const j = await open(io, { segmentBytesMax, snapshotEveryCommands, snapshotsKeep: 1, checkpointEveryCommands: 5 }).catch(() => null);
          if (j === null) return; // crashed during the very first recovery: nothing to check
          const { acked, rejected } = await drive(j, commands, bursts);
          expect(acked.size + rejected.length).toBe(commands.length);
          if (rejected.length > 0) expect(j.failed?.code).toBe(-1001);
          const after = io.crashNow();
          const r = await recover({ dir: TEST_DIR, io: after, createMachine });
          const maxAcked = Math.max(0, ...acked.keys());
          expect(r.lastSeq).toBeGreaterThanOrEqual(maxAcked);
          expect(r.lastSeq).toBeLessThanOrEqual(commands.length);
          expect(r.stateHash).toBe(modelHashes(commands)[r.lastSeq]);
          const results = modelResults(commands);
          for (const [seq, result] of acked) expect(result).toEqual(results[seq - 1]);
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);
});

describe('journal: group commit and acknowledgements', () => {
  it('batches concurrent submits into one write + one fsync and acks in seq order', async () => {
    const disk = new SimDisk();
    const j = await open(disk, { writeCommandsMax: 1000 });
    const order: number[] = [];
    const ps = Array.from({ length: 200 }, (_, i) => j.submit(deposit(i % 4, 1)).then((a) => void order.push(a.seq)));
    await Promise.all(ps);
    expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(j.stats.batches).toBe(1);
    expect(j.stats.fsyncs).toBe(1);
    expect(disk.fsyncCalls).toBe(1);
    expect(j.stats.batchCommandsMax).toBe(200);
    await j.close();
  });

  it('splits a crowd into writes of writeCommandsMax; one fsync covers what was written before it started', async () => {
    // Proves the overlap rule: the fsync started after the first write covers only that write;
    // (200 ms of fsync latency: the two later writes finish inside it even on a loaded box.)
    // the rest is written while it runs and acknowledged only after a later fsync.
    const disk = new SimDisk();
    const io = new FaultyFileIO(disk, seededRandom(1), { fsyncLatencyUs: 200_000 });
    const j = await open(io, { writeCommandsMax: 100 });
    const ackedAtFsyncs: number[] = [];
    await Promise.all(Array.from({ length: 300 }, () => j.submit(deposit(0, 1)).then(() => void ackedAtFsyncs.push(j.stats.fsyncs))));
    expect(j.stats.batches).toBe(3);
    expect(j.stats.batchCommandsMax).toBe(100);
    expect(j.stats.fsyncs).toBe(2);
    expect(ackedAtFsyncs.slice(0, 100).every((f) => f === 1)).toBe(true);
    expect(ackedAtFsyncs.slice(100).every((f) => f === 2)).toBe(true);
    await j.close();
  });

  it('holds acks until the fsync covering them completes', async () => {
    // Proves ack-after-fsync: with 30 ms of injected fsync latency the command is applied at
    // once (apply-before-fsync) but its ack arrives only after the fsync.
    const disk = new SimDisk();
    const io = new FaultyFileIO(disk, seededRandom(1), { fsyncLatencyUs: 30_000 });
    const j = await open(io);
    let ackedAt = -1;
    const t0 = performance.now();
    const p = j.submit(deposit(1, 5)).then(() => void (ackedAt = performance.now() - t0));
    expect(j.machine.stateHash()).not.toBe(new LedgerMachine().stateHash()); // applied already
    await turns(3);
    expect(ackedAt).toBe(-1);
    expect(disk.fsyncCalls).toBe(0);
    await p;
    expect(disk.fsyncCalls).toBe(1);
    expect(ackedAt).toBeGreaterThanOrEqual(25);
    await j.close();
  });

  it('callback API passes seq, result and context, and survives a throwing callback', async () => {
    const { lines, log } = captureLog();
    const j = await open(new SimDisk(), { log });
    const seen: [number, unknown, string][] = [];
    const cb = (err: JournalError | null, seq: number, result: unknown, ctx: string) => {
      expect(err).toBeNull();
      seen.push([seq, result, ctx]);
      if (ctx === 'boom') throw new Error('client bug');
    };
    expect(j.trySubmit(deposit(0, 3), cb, 'a')).toBeNull();
    expect(j.trySubmit(deposit(0, 4), cb, 'boom')).toBeNull();
    expect(j.trySubmit(deposit(0, 5), cb, 'c')).toBeNull();
    await j.flush();
    expect(seen).toEqual([
      [1, { ok: true, balance: 3 }, 'a'],
      [2, { ok: true, balance: 7 }, 'boom'],
      [3, { ok: true, balance: 12 }, 'c'],
    ]);
    expect(lines.some((l) => l.includes('ack callback for seq 2 threw: client bug'))).toBe(true);
    await j.close();
  });
});

describe('journal: bounded queues', () => {
  it('rejects with -1008 when the pending queue is full, without consuming a seq', async () => {
    const j = await open(new SimDisk(), { pendingCommandsMax: 8 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => j.submit(deposit(0, 1))));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const bad = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok.length).toBe(8);
    expect(bad.length).toBe(12);
    for (const r of bad) expect((r.reason as JournalError).code).toBe(-1008);
    expect(j.stats.overloadRejections).toBe(12);
    expect((await j.submit(deposit(0, 1))).seq).toBe(9);
    await j.close();
  });

  it('rejects when the staging buffer is full, and rejects records over recordBytesMax', async () => {
    const j = await open(new SimDisk(), { recordBytesMax: 90, stagingBytesMax: 200 });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => j.submit(deposit(0, 1))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    const big = { type: 'deposit', account: 0, amount: 1, memo: 'x'.repeat(200) } as unknown as LedgerCommand;
    await expect(j.submit(big)).rejects.toMatchObject({ code: -1102, name: 'JournalRecordTooLarge' });
    expect((await j.submit(deposit(0, 1))).seq).toBe(4);
    await j.close();
  });
});

describe('journal: fail-stop on write/fsync failure', () => {
  const faultArb: fc.Arbitrary<FaultPlan> = fc.oneof(
    fc.record({ failWriteAtCall: fc.record({ call: fc.integer({ min: 1, max: 8 }), code: fc.constantFrom('EIO' as const, 'ENOSPC' as const) }) }),
    fc.record({ failFsyncAtCall: fc.record({ call: fc.integer({ min: 1, max: 8 }), code: fc.constantFrom('EIO' as const, 'ENOSPC' as const) }) }),
    fc.record({
      writeErrorProbability: fc.double({ min: 0, max: 0.2, noNaN: true }),
      fsyncErrorProbability: fc.double({ min: 0, max: 0.2, noNaN: true }),
      shortWriteProbability: fc.double({ min: 0, max: 0.5, noNaN: true }),
      errorCode: fc.constantFrom('EIO' as const, 'ENOSPC' as const),
    }),
  );

  it('never acknowledges what was not persisted, rejects everything after the failure', async () => {
    // Proves: for random fault plans, once a journal write or fsync fails every pending and
    // later command is rejected with JournalStopped (-1001), and every command that was
    // acknowledged is on disk even if all unsynced bytes are then lost.
    await fc.assert(
      fc.asyncProperty(
        fc.array(ledgerCommandArb(), { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 5 }),
        faultArb,
        fc.integer({ min: 0, max: 0x7fffffff }),
        async (commands, bursts, plan, seed) => {
          const disk = new SimDisk();
          const io = new FaultyFileIO(disk, seededRandom(seed), { ...plan, appliesTo: (p) => p.endsWith('.log') });
          const { lines, log } = captureLog();
          const j = await open(io, { log, segmentBytesMax: 400 });
          const { acked, rejected } = await drive(j, commands, bursts);
          const injectedError = io.injected.some((f) => f.what === 'EIO' || f.what === 'ENOSPC');
          if (injectedError) {
            expect(j.failed).toBeInstanceOf(JournalError);
            expect(j.failed!.code).toBe(-1001);
            expect(j.failed!.message).toMatch(/(write to|fsync of) journal-\d+\.log failed: (EIO|ENOSPC)/);
            expect(lines.some((l) => l.startsWith('journal: FAIL-STOP'))).toBe(true);
            for (const e of rejected) expect(e).toBe(j.failed);
            await expect(j.submit(deposit(0, 1))).rejects.toBe(j.failed);
          } else {
            expect(rejected).toEqual([]);
          }
          await j.close();
          const after = disk.crash(seededRandom(seed), { keepUnsyncedProbability: 0 });
          const r = await recover({ dir: TEST_DIR, io: after, createMachine });
          expect(r.lastSeq).toBeGreaterThanOrEqual(Math.max(0, ...acked.keys()));
          expect(r.stateHash).toBe(modelHashes(commands)[r.lastSeq]);
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);

  it.each([
    ['write', 'EIO'],
    ['write', 'ENOSPC'],
    ['fsync', 'EIO'],
    ['fsync', 'ENOSPC'],
  ] as const)('%s %s: clear error, pending rejected, restart recovers the acknowledged prefix', async (op, code) => {
    const disk = new SimDisk();
    const plan: FaultPlan = op === 'write' ? { failWriteAtCall: { call: 3, code } } : { failFsyncAtCall: { call: 3, code } };
    const io = new FaultyFileIO(disk, seededRandom(7), plan);
    const j = await open(io);
    for (let i = 0; i < 2; i++) await j.submit(deposit(0, 10)); // batches 1 and 2 are durable
    const third = Array.from({ length: 5 }, () => j.submit(deposit(1, 1)));
    const settled = await Promise.allSettled(third);
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    const err = (settled[0] as PromiseRejectedResult).reason as JournalError;
    expect(err.name).toBe('JournalStopped');
    expect(err.message).toContain(code);
    expect(err.message).toContain('5 unacknowledged command(s) (seq 3..7) rejected; acknowledged through seq 2');
    await expect(j.submit(deposit(0, 1))).rejects.toMatchObject({ code: -1001 });
    await j.close();
    // "Restart": the disk loses whatever was not fsynced.
    const restarted = await open(disk.crash(seededRandom(3), { keepUnsyncedProbability: 0 }));
    expect(restarted.recovery.lastSeq).toBe(2);
    expect((await restarted.submit(deposit(2, 2))).seq).toBe(3);
    await restarted.close();
  });

  it('short writes are completed, not mistaken for failures', async () => {
    const disk = new SimDisk();
    const io = new FaultyFileIO(disk, seededRandom(11), { shortWriteProbability: 0.8 });
    const j = await open(io);
    await Promise.all(Array.from({ length: 50 }, (_, i) => j.submit(deposit(i % 3, 2))));
    expect(io.injected.some((f) => f.what.startsWith('short write'))).toBe(true);
    expect(j.failed).toBeNull();
    await j.close();
    expect((await recover({ dir: TEST_DIR, io: disk, createMachine })).stateHash).toBe(j.machine.stateHash());
  });

  it('a torn write then crash is truncated at recovery with the offset logged', async () => {
    const disk = new SimDisk();
    const io = new FaultyFileIO(disk, seededRandom(5), { tornWriteCrashAtCall: 4, appliesTo: (p) => p.endsWith('.log') });
    const j = await open(io);
    let acked = 0;
    for (let i = 0; i < 6; i++) {
      await j.submit(deposit(0, 1)).then(() => acked++, () => {});
    }
    expect(acked).toBe(3);
    const { lines, log } = captureLog();
    const r = await recover({ dir: TEST_DIR, io: disk.crash(seededRandom(1), { keepUnsyncedProbability: 1 }), createMachine, log });
    expect(r.lastSeq).toBe(3);
    if (r.truncated !== null) expect(lines.join('\n')).toMatch(/torn record at journal-0+1\.log offset \d+/);
  });

  it('an apply that throws (contract violation) fail-stops instead of journaling a half-applied command', async () => {
    class Throwing extends LedgerMachine {
      override apply(c: LedgerCommand) {
        if (c.type === 'withdraw') throw new Error('engine bug');
        return super.apply(c);
      }
    }
    const j = await Journal.open<LedgerCommand>({ dir: TEST_DIR, io: new SimDisk(), createMachine: () => new Throwing() });
    const first = j.submit(deposit(0, 1));
    await expect(j.submit({ type: 'withdraw', account: 0, amount: 1 })).rejects.toMatchObject({ name: 'JournalStopped' });
    await expect(first).rejects.toMatchObject({ message: expect.stringContaining('apply of seq 2 failed: engine bug') });
  });
});

describe('journal: policies', () => {
  it('parses and describes policies; non-default ones warn at open', async () => {
    expect(parsePolicy('fsync')).toEqual({ kind: 'fsync' });
    expect(parsePolicy('interval:5')).toEqual({ kind: 'interval', intervalMs: 5 });
    expect(() => parsePolicy('interval:0')).toThrow(/unknown durability policy/);
    expect(() => parsePolicy('sometimes')).toThrow(/use fsync, none or interval/);
    expect(describePolicy({ kind: 'fsync' })).not.toContain('WARNING');
    expect(describePolicy({ kind: 'none' })).toContain('WARNING');
    for (const policy of ['none', 'interval:3']) {
      const { lines, log } = captureLog();
      const j = await open(new SimDisk(), { policy, log });
      expect(lines.some((l) => l.includes('non-default durability policy') && l.includes('WARNING'))).toBe(true);
      expect(j.describePolicy()).toContain('WARNING');
      await j.close();
    }
  });

  it('none: acks after write with no fsync until close', async () => {
    const disk = new SimDisk();
    const j = await open(disk, { policy: 'none' });
    await Promise.all(Array.from({ length: 30 }, () => j.submit(deposit(0, 1))));
    expect(disk.fsyncCalls).toBe(0);
    expect(j.stats.ackedSeq).toBe(30);
    await j.close();
    expect(disk.fsyncCalls).toBe(1);
  });

  it('interval: acks after write, fsyncs within the interval', async () => {
    const disk = new SimDisk();
    const j = await open(disk, { policy: 'interval:5' });
    await Promise.all(Array.from({ length: 30 }, () => j.submit(deposit(0, 1))));
    expect(j.stats.ackedSeq).toBe(30);
    const t0 = performance.now();
    while (j.stats.durableSeq < 30 && performance.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 2));
    expect(j.stats.durableSeq).toBe(30);
    expect(disk.fsyncCalls).toBeGreaterThanOrEqual(1);
    await j.close();
  });
});

describe('journal: snapshots and retention', () => {
  it('snapshots every N commands, keeps K, prunes covered segments, recovers from each kept snapshot', async () => {
    const disk = new SimDisk();
    const { lines, log } = captureLog();
    const j = await open(disk, { snapshotEveryCommands: 25, snapshotsKeep: 2, segmentBytesMax: 300, log });
    for (let i = 0; i < 200; i++) await j.submit(deposit(i % 5, 1 + (i % 4)));
    await j.close();
    const names = await disk.list(TEST_DIR);
    const snaps = names.map(parseSnapshotFileName).filter((s): s is number => s !== null).sort((a, b) => a - b);
    const segs = names.map(parseSegmentFileName).filter((s): s is number => s !== null).sort((a, b) => a - b);
    expect(snaps.length).toBe(2);
    expect(j.stats.snapshotsTaken).toBeGreaterThanOrEqual(7);
    expect(j.stats.snapshotPauseMsMax).toBeGreaterThan(0);
    expect(segs[0]!).toBeLessThanOrEqual(snaps[0]! + 1); // oldest kept snapshot's tail is there
    expect(segs[0]!).toBeGreaterThan(1); // and older segments are gone
    expect(lines.some((l) => l.startsWith('journal: pruned'))).toBe(true);
    expect(names.some((n) => n.endsWith('.tmp'))).toBe(false);
    const r = await recover({ dir: TEST_DIR, io: disk.clone(), createMachine });
    expect(r.snapshotSeq).toBe(snaps[1]);
    expect(r.stateHash).toBe(j.machine.stateHash());
  });

  it('snapshots by elapsed time with an injected clock', async () => {
    let nowMs = 0;
    const disk = new SimDisk();
    const j = await open(disk, { snapshotEveryCommands: 0, snapshotEveryMs: 1000, now: () => nowMs });
    await j.submit(deposit(0, 1));
    expect(j.stats.snapshotsTaken).toBe(0);
    nowMs = 1500;
    await j.submit(deposit(0, 1));
    await j.close();
    expect(j.stats.snapshotsTaken).toBe(1);
    expect(await disk.list(TEST_DIR)).toContain('snapshot-00000000000000000002.snap');
  });

  it('a failed snapshot write is logged and the journal keeps acknowledging', async () => {
    const disk = new SimDisk();
    const io = new FaultyFileIO(disk, seededRandom(2), {
      appliesTo: (p) => p.includes('.snap'),
      failWriteAtCall: { call: 1, code: 'ENOSPC' },
    });
    const { lines, log } = captureLog();
    const j = await open(io, { snapshotEveryCommands: 10, log });
    for (let i = 0; i < 35; i++) await j.submit(deposit(1, 1));
    await j.close();
    expect(j.failed).toBeNull();
    expect(j.stats.snapshotFailures).toBe(1);
    expect(j.stats.snapshotsWritten).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => /snapshot snapshot-\d+\.snap failed: ENOSPC/.test(l))).toBe(true);
    expect((await disk.list(TEST_DIR)).some((n) => n.endsWith('.tmp'))).toBe(false);
    expect((await recover({ dir: TEST_DIR, io: disk, createMachine })).stateHash).toBe(j.machine.stateHash());
  });
});

describe('journal: real file system', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it.each([false, true])('round-trips through node:fs (blocking=%s) and truncates a torn tail', async (blocking) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perpx-journal-'));
    dirs.push(dir);
    const io = createNodeFileIO({ blocking });
    const j = await Journal.open<LedgerCommand>({ dir, io, createMachine, snapshotEveryCommands: 40, segmentBytesMax: 1000 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => j.submit(deposit(i % 7, 3))));
    for (let i = 0; i < 50; i++) await j.submit({ type: 'transfer', from: i % 7, to: (i + 3) % 7, amount: 2 });
    await j.close();
    const segs = fs.readdirSync(dir).filter((n) => n.startsWith('journal-')).sort();
    const last = joinPath(dir, segs[segs.length - 1]!);
    const sizeBytes = fs.statSync(last).size;
    fs.appendFileSync(last, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]));
    const { lines, log } = captureLog();
    const r = await recover({ dir, io, createMachine, log });
    expect(r.lastSeq).toBe(150);
    expect(r.stateHash).toBe(j.machine.stateHash());
    expect(fs.statSync(last).size).toBe(sizeBytes);
    expect(lines.some((l) => l.includes(`torn record at ${segs[segs.length - 1]} offset ${sizeBytes}`))).toBe(true);
  });
});
