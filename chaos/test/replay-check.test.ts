// The replay check is the chaos experiments' recovery proof, so it must be able to fail: with an
// intact capture of a real server's journal it passes; with a capture that lost its last
// commands (a planted gap between what the server made durable and what the offline replay
// sees) it reports the mismatch instead of passing.

import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedServer } from '../../harness/embedded-server.ts';
import type { EmbeddedServer } from '../../harness/embedded-server.ts';
import { createFundedAccounts } from '../../harness/accounts.ts';
import { startJournalCapture } from '../journal-capture.ts';
import { replayHashCheck } from '../replay-check.ts';
import { parseSegmentFileName } from '../../engine/journal/record.ts';

const dirs: string[] = [];
const servers: EmbeddedServer[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A server with a few dozen journaled commands (index price, accounts, deposits) and a capture of its journal. */
async function serverWithJournal(): Promise<{ server: EmbeddedServer; dir: string; capture: ReturnType<typeof startJournalCapture> }> {
  const dir = mkdtempSync(join(tmpdir(), 'perpx-replay-check-'));
  dirs.push(dir);
  const server = await startEmbeddedServer({ dataDir: join(dir, 'server-data'), logFile: join(dir, 'server.log'), fsync: 'fsync' });
  servers.push(server);
  const capture = startJournalCapture(join(dir, 'server-data'), join(dir, 'capture'));
  await createFundedAccounts(server.url, server.adminToken, { count: 12 });
  return { server, dir, capture };
}

function lastSegment(captureDir: string): string {
  const names = readdirSync(captureDir).filter((n) => parseSegmentFileName(n) !== null).sort((a, b) => parseSegmentFileName(a)! - parseSegmentFileName(b)!);
  expect(names.length).toBeGreaterThan(0);
  return join(captureDir, names.at(-1)!);
}

describe('replayHashCheck (real perpx serve)', () => {
  it('passes on an intact capture: running hash, fresh recovery and offline replay agree', async () => {
    const { server, dir, capture } = await serverWithJournal();
    const r = await replayHashCheck(server, { captureDir: capture.dir, configFile: join(dir, 'server-data-config.json'), logFile: join(dir, 'server.log'), stopCapture: () => capture.stop() });
    expect(r.ok, r.detail).toBe(true);
    expect(r.runningSeq).not.toBeNull();
    expect(r.recoveries).toBe(2);
    expect(r.recoveriesEqual).toBe(2);
  });

  it('fails when the capture lost the journal tail the fresh process recovered', async () => {
    const { server, dir, capture } = await serverWithJournal();
    const stopAndCut = (): void => {
      capture.stop();
      const seg = lastSegment(capture.dir);
      truncateSync(seg, statSync(seg).size - 200); // tears the last few records off the copy only
    };
    const r = await replayHashCheck(server, { captureDir: capture.dir, configFile: join(dir, 'server-data-config.json'), logFile: join(dir, 'server.log'), stopCapture: stopAndCut });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/MISMATCH/);
  });
});
