// Shared by the market/clock/load/resource end-to-end tests (chaos/test/*-faults.test.ts): a `perpx serve` child in a temp
// dir and a FaultContext for driving faults outside the experiment runner.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedServer } from '../../harness/embedded-server.ts';
import type { EmbeddedServer } from '../../harness/embedded-server.ts';
import type { FaultContext, FaultEvent } from '../fault.ts';
import { seededRng } from '../fault.ts';

export interface TestServer {
  server: EmbeddedServer;
  dir: string;
  close(): Promise<void>;
}

export async function startTestServer(config: Record<string, unknown> = {}, extraArgs: string[] = []): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'perpx-chaos-'));
  const server = await startEmbeddedServer({
    dataDir: join(dir, 'data'), logFile: join(dir, 'server.log'), fsync: 'none', extraArgs,
    config: { indexPrices: { BTCUSDT: '50000' }, ...config },
  });
  return {
    server, dir,
    async close() {
      await server.stop(5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function testContext(server: EmbeddedServer, seed = 1): FaultContext & { events: FaultEvent[] } {
  const t0 = Date.now();
  const events: FaultEvent[] = [];
  return {
    server, serverUrl: server.url, adminToken: server.adminToken, rng: seededRng(seed),
    nowS: () => (Date.now() - t0) / 1000,
    mark: (kind, detail) => { events.push({ tS: (Date.now() - t0) / 1000, kind, fault: 'test', detail }); },
    log: () => {},
    signal: new AbortController().signal,
    events,
  };
}
