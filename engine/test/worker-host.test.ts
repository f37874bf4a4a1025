// The engine thread behind a WorkerHost: commands cross the SPSC ring, are journaled with
// group commit and acknowledged only when durable; a restart recovers the same state hash
// and sequence; queries and subscriptions cross the thread boundary; overload answers -1008
// at once instead of queueing without bound.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { limitOrder } from '../core/commands.ts';
import type { Command } from '../core/commands.ts';
import { setupCommands, testConfig } from '../core/test-support.ts';
import { HostError } from '../host/host.ts';
import type { AppliedCommand } from '../host/host.ts';
import { WorkerHost } from '../host/worker-host.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'perpx-worker-host-'));
  dirs.push(d);
  return d;
}

describe('WorkerHost (engine thread + journal)', () => {
  it('acknowledges durable commands and recovers the same state after a restart', async () => {
    const dataDir = tempDir();
    const host = await WorkerHost.start({ config: testConfig(), dataDir, policy: 'fsync' });
    expect(host.recoveredSeq).toBe(0);
    const applied: AppliedCommand[] = [];
    const unsubscribe = host.subscribe((a) => applied.push(a));
    const cmds: Command[] = [...setupCommands()];
    for (let i = 0; i < 40; i++) cmds.push(limitOrder(i % 2, 0, i % 4 < 2 ? 'BUY' : 'SELL', 20_000 + (i % 7) - 3, 1 + (i % 5)));
    const results = await Promise.all(cmds.map((c) => host.submit(c)));
    expect(results.map((r) => r.seq)).toEqual(cmds.map((_, i) => i + 1));
    expect(results.some((r) => r.events.some((e) => e.type === 'trade'))).toBe(true);
    const totals = await host.query({ type: 'totals' });
    expect(totals.ledgerUnits).toBe(totals.depositsUnits - totals.withdrawalsUnits);
    const { stateHash, seq } = await host.query({ type: 'stateHash' });
    // Queries on the engine thread report the journal's seq, not 0.
    expect(seq).toBe(cmds.length);
    expect((await host.query({ type: 'status' })).seq).toBe(cmds.length);
    unsubscribe();
    expect(applied.map((a) => a.seq)).toEqual(results.map((r) => r.seq));
    await host.close();

    const again = await WorkerHost.start({ config: testConfig(), dataDir, policy: 'fsync' });
    expect(again.recoveredSeq).toBe(cmds.length);
    expect(again.recoveredStateHash).toBe(stateHash);
    expect(again.recoveryLine).toMatch(/recovery/);
    expect((await again.query({ type: 'stateHash' })).seq).toBe(cmds.length);
    const next = await again.submit({ type: 'createAccount' });
    expect(next.seq).toBe(cmds.length + 1);
    expect((await again.query({ type: 'stateHash' })).seq).toBe(cmds.length + 1);
    await again.close();
  });

  it('sheds load with -1008 at once when its pending table is full', async () => {
    const host = await WorkerHost.start({ config: testConfig(), dataDir: tempDir(), policy: 'none', pendingMax: 8 });
    const settled = await Promise.allSettled(Array.from({ length: 50 }, () => host.submit({ type: 'createAccount' })));
    const rejected = settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason as HostError);
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.every((e) => e instanceof HostError && e.code === -1008)).toBe(true);
    expect(settled.filter((s) => s.status === 'fulfilled').length).toBe(8);
    await host.close();
  });
});
