// The recovery proof: the state the running server reached (after every crash and recovery of
// the experiment) must be exactly the state a fresh process rebuilds from the journal. Read the
// running server's state hash, SIGKILL it, start a fresh process on the same data dir and
// compare with its recovery line ("recovered to seq N, state hash H"). The server is idle here
// (the load has ended and the checker has read everything), so every applied command is durable
// and the two hashes must be equal; a mismatch is retried once in case a straggler was in flight.
//
// Note: GET /admin/v1/stateHash's `seq` field reads 0 on the worker-thread host (the query
// answers from a host object whose counter the journal path never advances), so the seq
// reported here is the recovered one.

import { adminGet } from '../harness/embedded-server.ts';
import type { EmbeddedServer } from '../harness/embedded-server.ts';

export interface ReplayCheck {
  ok: boolean;
  runningHash: string;
  replaySeq: number;
  replayHash: string;
  attempts: number;
  detail: string;
}

const ATTEMPTS_MAX = 2;
const RECOVERED = /recovered to seq (\d+), state hash (\S+)/;

/** Parses the server's recovery line from its start output. */
export function parseRecoveryLine(lines: readonly string[]): { seq: number; hash: string } | null {
  for (const l of lines) {
    const m = RECOVERED.exec(l);
    if (m !== null) return { seq: Number(m[1]), hash: m[2]! };
  }
  return null;
}

export async function replayHashCheck(server: EmbeddedServer, log: (line: string) => void): Promise<ReplayCheck> {
  let c: ReplayCheck | null = null;
  for (let attempt = 1; attempt <= ATTEMPTS_MAX; attempt++) {
    const running = await adminGet<{ seq: number; stateHash: string }>(server.url, server.adminToken, 'stateHash');
    await server.kill();
    await server.restart();
    const rec = parseRecoveryLine(server.startLines);
    if (rec === null) throw new Error(`replay check: the restarted server printed no recovery line (${server.startLines.join(' | ')})`);
    c = { ok: rec.hash === running.stateHash, runningHash: running.stateHash, replaySeq: rec.seq, replayHash: rec.hash, attempts: attempt, detail: '' };
    if (c.ok) break;
    log(`chaos: replay check attempt ${attempt}: running hash ${running.stateHash}, recovered ${rec.hash} at seq ${rec.seq}`);
  }
  c!.detail = c!.ok
    ? `the running server's state hash equals the hash a fresh process recovered from the journal at seq ${c!.replaySeq} (${c!.replayHash})`
    : `MISMATCH: running ${c!.runningHash}, fresh replay at seq ${c!.replaySeq} ${c!.replayHash} (${c!.attempts} attempts)`;
  return c!;
}
