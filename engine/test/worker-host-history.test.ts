// Order and trade history survive a restart of the engine thread (found by the chaos
// crash-restart run: before, GET allOrders / order / userTrades forgot every order that closed
// before the restart). Each case places, fills and cancels orders through a WorkerHost, reads
// every history answer, restarts, and requires exactly the same answers:
//   - graceful close (final snapshot, empty tail);
//   - crash-like: the data directory copied while the host runs (what a SIGKILL leaves after
//     the acks), no snapshot: the whole journal is replayed;
//   - crash-like with snapshots every few commands: snapshot + replayed tail.

import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Command } from '../core/commands.ts';
import { commandLog, intentArb, T0, testConfig } from '../core/test-support.ts';
import type { ExchangeHost } from '../host/host.ts';
import { WorkerHost } from '../host/worker-host.ts';

const dirs: string[] = [];
const hosts: WorkerHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'perpx-worker-history-'));
  dirs.push(d);
  return d;
}
async function start(dataDir: string, snapshotEveryCommands: number): Promise<WorkerHost> {
  const h = await WorkerHost.start({ config: testConfig(), dataDir, policy: 'fsync', snapshotEveryCommands, telemetry: false });
  hosts.push(h);
  return h;
}
async function stop(h: WorkerHost): Promise<void> {
  hosts.splice(hosts.indexOf(h), 1);
  await h.close();
}

/** A fixed random workload (limit, market, stop, cancel, modify, index and time moves). */
function fixedCommandLog(): Command[] {
  return commandLog(fc.sample(intentArb, { numRuns: 400, seed: 11 }));
}

const ACCOUNTS = 6;
const SYMBOLS = 2;
const RANGE = { startTimeMs: 0, endTimeMs: 0, limit: 1000 };

interface Answers { allOrders: unknown[]; orders: unknown[]; userTrades: unknown[]; algo: unknown[]; terminal: number; trades: number }

async function historyAnswers(h: ExchangeHost): Promise<Answers> {
  const a: Answers = { allOrders: [], orders: [], userTrades: [], algo: [], terminal: 0, trades: 0 };
  for (let acc = 0; acc < ACCOUNTS; acc++) {
    for (let s = 0; s < SYMBOLS; s++) {
      const orders = await h.query({ type: 'allOrders', accountId: acc, symbolId: s, fromOrderId: 0, ...RANGE });
      a.allOrders.push(orders);
      for (const o of orders) {
        if (o.status === 'FILLED' || o.status === 'CANCELED' || o.status.startsWith('EXPIRED')) a.terminal++;
        a.orders.push(await h.query({ type: 'order', accountId: acc, symbolId: s, orderId: o.orderId, clientOrderId: '' }));
      }
      const trades = await h.query({ type: 'userTrades', accountId: acc, symbolId: s, fromId: 0, ...RANGE });
      a.trades += trades.length;
      a.userTrades.push(trades);
      a.algo.push(await h.query({ type: 'allAlgoOrders', accountId: acc, symbolId: s, fromAlgoId: 0, ...RANGE }));
    }
  }
  return a;
}

async function runWorkload(h: WorkerHost, log: readonly Command[]): Promise<void> {
  // In chunks, in order: the journal acknowledges each durable before the next chunk.
  for (let i = 0; i < log.length; i += 50) await Promise.all(log.slice(i, i + 50).map((c) => h.submit(c)));
}

describe('WorkerHost: order and trade history after a restart', () => {
  const log = fixedCommandLog();

  it('graceful close: the final snapshot carries the history', async () => {
    const dataDir = tempDir();
    const h = await start(dataDir, 1_000_000);
    await runWorkload(h, log);
    const before = await historyAnswers(h);
    expect(before.terminal).toBeGreaterThan(20); // the workload closed orders …
    expect(before.trades).toBeGreaterThan(20); // … and filled some
    await stop(h);
    const again = await start(dataDir, 1_000_000);
    expect(again.recoveryLine).toMatch(/replayed 0 commands/);
    expect(await historyAnswers(again)).toEqual(before);
  });

  it('crash without a snapshot: the replayed journal rebuilds the history', async () => {
    const dataDir = tempDir();
    const h = await start(dataDir, 1_000_000);
    await runWorkload(h, log);
    const before = await historyAnswers(h);
    const crashed = tempDir();
    cpSync(dataDir, crashed, { recursive: true }); // every ack was fsynced: this is what a SIGKILL leaves
    await stop(h);
    const again = await start(crashed, 1_000_000);
    expect(again.recoveryLine).toMatch(/snapshot none/);
    expect(again.recoveredSeq).toBe(log.length);
    expect(await historyAnswers(again)).toEqual(before);
  });

  it('crash after snapshots: snapshot history + replayed tail', async () => {
    // Deterministic split: the first part with snapshots every 37 commands and a final one at
    // seq CUT (graceful close), the rest with no snapshot, then a crash: recovery = the snapshot
    // at CUT + a replayed tail of every later command (orders closed on both sides of it).
    const CUT = 250;
    const dataDir = tempDir();
    const h = await start(dataDir, 37);
    await runWorkload(h, log.slice(0, CUT));
    await stop(h);
    const h2 = await start(dataDir, 1_000_000);
    await runWorkload(h2, log.slice(CUT));
    const before = await historyAnswers(h2);
    const crashed = tempDir();
    cpSync(dataDir, crashed, { recursive: true });
    await stop(h2);
    expect(readdirSync(crashed).filter((n) => n.startsWith('snap')).length).toBeGreaterThan(0);
    const again = await start(crashed, 1_000_000);
    expect(again.recoveryLine).toMatch(new RegExp(`recovery: snapshot \\S+ \\(seq ${CUT},.*replayed ${log.length - CUT} commands`));
    expect(await historyAnswers(again)).toEqual(before);
    // And it keeps working: a later restart still has everything.
    await stop(again);
    const third = await start(crashed, 37);
    expect(await historyAnswers(third)).toEqual(before);
  });
});
