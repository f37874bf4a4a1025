// The recovery proof. At the end of an experiment: read the running server's state hash, SIGKILL
// it and start a fresh process on the same data dir. Then replay the captured journal offline
// (chaos/offline-replay.ts, a fresh Engine, no snapshots) and require
//   - the running server's hash to equal the offline replay's hash at some seq at or just before
//     the seq the fresh process recovered to (the server journals clock ticks on its own, so the
//     running state is located by hash rather than by a seq the worker host does not report:
//     GET /admin/v1/stateHash's `seq` field reads 0 there);
//   - every recovery of the run (each start's journal line "last seq N; state hash H") to equal
//     the offline replay's hash at N.

import { readFileSync } from 'node:fs';
import { adminGet } from '../harness/embedded-server.ts';
import type { EmbeddedServer } from '../harness/embedded-server.ts';
import { lastCommandSeq, offlineReplay } from './offline-replay.ts';

/** How far before the recovered seq the running hash is looked for (clock ticks between the read and the kill). */
const RUNNING_WINDOW_SEQS = 500;

export interface ReplayCheck {
  ok: boolean;
  runningHash: string;
  /** The seq at which the offline replay reached the running server's hash (null: nowhere in the window). */
  runningSeq: number | null;
  replaySeq: number;
  replayHash: string;
  recoveries: number;
  recoveriesEqual: number;
  /** Starts whose "recovered to seq N, state hash H" line disagreed with the journal's own recovery line. */
  mislabelledStarts: number;
  detail: string;
}

const JOURNAL_RECOVERY = /last seq (\d+); state hash ([0-9a-f]+)/;
const SERVE_RECOVERY = /recovered to seq (\d+), state hash (\S+)/;

/** The journal's recovery result from a start's output (falls back to serve's summary line). */
export function parseRecoveryLine(lines: readonly string[]): { seq: number; hash: string } | null {
  for (const re of [JOURNAL_RECOVERY, SERVE_RECOVERY]) {
    for (const l of lines) {
      const m = re.exec(l);
      if (m !== null) return { seq: Number(m[1]), hash: m[2]! };
    }
  }
  return null;
}

/** Every start's recovery in a server log: the journal's line and serve's summary line. */
export function recoveriesInLog(text: string): { seq: number; hash: string; serveHash: string | null }[] {
  const out: { seq: number; hash: string; serveHash: string | null }[] = [];
  for (const line of text.split('\n')) {
    const j = JOURNAL_RECOVERY.exec(line);
    if (j !== null) { out.push({ seq: Number(j[1]), hash: j[2]!, serveHash: null }); continue; }
    const s = SERVE_RECOVERY.exec(line);
    if (s !== null && out.length > 0 && out.at(-1)!.serveHash === null && out.at(-1)!.seq === Number(s[1])) out.at(-1)!.serveHash = s[2]!;
  }
  return out;
}

export async function replayHashCheck(server: EmbeddedServer, o: { captureDir: string; configFile: string; logFile: string; stopCapture: () => void }): Promise<ReplayCheck> {
  const running = await adminGet<{ stateHash: string }>(server.url, server.adminToken, 'stateHash');
  await server.kill();
  o.stopCapture(); // the final copy: everything the killed process wrote
  // The fresh process recovers while this one replays the captured journal offline (they
  // overlap on 2 cores). The replay keeps hashes at every earlier start's seq and over the last
  // RUNNING_WINDOW_SEQS commands of the capture, where the fresh process's seq must fall.
  const earlierStarts = recoveriesInLog(readFileSync(o.logFile, 'utf8'));
  const restarted = server.restart();
  restarted.catch(() => {}); // awaited below, after the replay
  const lastSeq = lastCommandSeq(o.captureDir);
  const replay = offlineReplay(o.captureDir, o.configFile, new Set(earlierStarts.map((s) => s.seq)), { fromSeq: Math.max(0, lastSeq - RUNNING_WINDOW_SEQS), toSeq: lastSeq });
  await restarted;
  const rec = parseRecoveryLine(server.startLines);
  if (rec === null) throw new Error(`replay check: the restarted server printed no recovery line (${server.startLines.join(' | ')})`);
  const starts = recoveriesInLog(readFileSync(o.logFile, 'utf8'));
  let runningSeq: number | null = null;
  for (const [seq, hash] of replay.hashes) if (hash === running.stateHash && seq >= rec.seq - RUNNING_WINDOW_SEQS && (runningSeq === null || seq > runningSeq)) runningSeq = seq;
  const equal = starts.filter((s) => replay.hashes.get(s.seq) === s.hash).length;
  const mislabelled = starts.filter((s) => s.serveHash !== null && s.serveHash !== s.hash).length;
  const finalOk = replay.hashes.get(rec.seq) === rec.hash;
  const ok = runningSeq !== null && finalOk && equal === starts.length && replay.stoppedBecause === null;
  const parts = [
    runningSeq !== null
      ? `the running server's state hash equals an offline replay of the journal at seq ${runningSeq}`
      : `MISMATCH: the running server's hash ${running.stateHash} is not the offline replay's at any seq in [${rec.seq - RUNNING_WINDOW_SEQS}, ${rec.seq}]`,
    finalOk ? `a fresh process recovered seq ${rec.seq} with the replay's hash ${rec.hash.slice(0, 16)}…` : `MISMATCH: the fresh process recovered seq ${rec.seq} with ${rec.hash}, the replay has ${replay.hashes.get(rec.seq) ?? 'nothing'}`,
    `${equal} of ${starts.length} recoveries during the run equal the replay at their seq`,
    `${replay.commands} commands replayed`,
  ];
  if (replay.stoppedBecause !== null) parts.push(`replay stopped: ${replay.stoppedBecause}`);
  if (mislabelled > 0) parts.push(`note: in ${mislabelled} starts serve's "recovered to seq N, state hash H" line carried a hash other than the journal's recovery hash at N (a clock tick applied before the line was printed)`);
  return { ok, runningHash: running.stateHash, runningSeq, replaySeq: rec.seq, replayHash: rec.hash, recoveries: starts.length, recoveriesEqual: equal, mislabelledStarts: mislabelled, detail: parts.join('; ') };
}
