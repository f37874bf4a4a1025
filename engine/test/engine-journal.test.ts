// The real engine behind the journal: random risky engine sessions (the engine property
// tests' generator) written through group commit onto the simulated disk, a power loss at a
// random moment (unsynced bytes torn, garbage after), then recovery. Proves, for the engine
// itself rather than a stand-in: every acknowledged command survives, recovery lands on
// exactly a prefix of the command log, and the recovered state hash equals replaying that
// prefix on a fresh engine. Also: snapshot + tail = full replay.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command } from '../core/commands.ts';
import { Engine } from '../core/engine.ts';
import { commandLog, intentArb, testConfig } from '../core/test-support.ts';
import { Journal } from '../journal/journal.ts';
import { seededRandom } from '../journal/random.ts';
import { recover } from '../journal/recovery.ts';
import { SimDisk } from '../journal/sim-disk.ts';
import { binaryCommandCodec } from '../wire/command-codec.ts';

const DIR = '/sim/engine-journal';
const RUNS = process.env.PERPX_DEEP === '1' ? 300 : 40;


/** State hash after each prefix of the log: hashes[n] = after n commands. */
function prefixHashes(log: readonly Command[]): string[] {
  const e = new Engine(testConfig());
  const out = [e.stateHash()];
  for (const c of log) { e.apply(c); out.push(e.stateHash()); }
  return out;
}

describe('engine + journal', () => {
  it('a power loss keeps every acknowledged command and recovers an exact prefix', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(intentArb, { minLength: 1, maxLength: 120, size: 'max' }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom('fsync', 'none', 'interval:1'),
      async (intents, seed, crashAt, policy) => {
        const log = commandLog(intents);
        const hashes = prefixHashes(log);
        const disk = new SimDisk();
        const j = await Journal.open<Command>({ dir: DIR, io: disk, createMachine: () => new Engine(testConfig()), codec: binaryCommandCodec, policy, snapshotEveryCommands: 50, segmentBytesMax: 4096, log: () => {} });
        const crashIndex = Math.floor(crashAt * log.length);
        let acked = 0;
        const pending: Promise<unknown>[] = [];
        for (let i = 0; i < log.length; i++) {
          if (i === crashIndex) break;
          pending.push(j.submit(log[i]!).then(() => { acked = Math.max(acked, i + 1); }, () => {}));
          if (i % 7 === 6) await Promise.all(pending.splice(0));
        }
        await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 1))]);
        const ackedBeforeCrash = acked;
        const after = disk.crash(seededRandom(seed));
        const r = await recover<Command>({ dir: DIR, io: after, createMachine: () => new Engine(testConfig()), codec: binaryCommandCodec, log: () => {} });
        // Only the fsync policy promises acknowledged commands survive a power loss.
        if (policy === 'fsync') expect(r.lastSeq).toBeGreaterThanOrEqual(ackedBeforeCrash);
        expect(r.lastSeq).toBeLessThanOrEqual(log.length);
        expect(r.stateHash).toBe(hashes[r.lastSeq]);
        expect((r.machine as Engine).stateHash()).toBe(hashes[r.lastSeq]);
      }), { numRuns: RUNS });
  });

  it('snapshot + tail replay equals full replay for the engine', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(intentArb, { minLength: 2, maxLength: 150, size: 'max' }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      async (intents, where) => {
        const log = commandLog(intents);
        const disk = new SimDisk();
        const j = await Journal.open<Command>({ dir: DIR, io: disk, createMachine: () => new Engine(testConfig()), codec: binaryCommandCodec, snapshotEveryCommands: 0, log: () => {} });
        const cut = Math.floor(where * log.length);
        for (let i = 0; i < log.length; i++) {
          await j.submit(log[i]!);
          if (i + 1 === cut) { j.snapshotNow(); await j.flush(); }
        }
        const liveHash = (j.machine as Engine).stateHash();
        await j.close();
        const r = await recover<Command>({ dir: DIR, io: disk, createMachine: () => new Engine(testConfig()), codec: binaryCommandCodec, log: () => {} });
        expect(r.lastSeq).toBe(log.length);
        expect(r.stateHash).toBe(liveHash);
        if (cut > 0) expect(r.snapshotSeq).toBe(cut);
      }), { numRuns: RUNS });
  });
});
