// Real-process crash test: the journal server runs as a child process on a real temp dir; we
// stream commands, record every acknowledgement, SIGKILL it at a random moment, restart, and
// check (1) every acknowledged command is in the recovered state, with the acknowledged seq
// and result, and (2) the recovered state hash equals replaying exactly a prefix of what was
// sent, so nothing unacknowledged is half-applied. Rounds alternate policies; every policy
// keeps acknowledged commands across a process kill (the page cache survives it).
// The seed is printed on failure; PERPX_CRASH_SEED=<n> replays the same schedule.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { randomInt, seededRandom, type Random } from '../journal/random.ts';
import { LedgerMachine, type LedgerCommand, type LedgerResult } from '../journal/test-machine.ts';

const SERVER = fileURLToPath(new URL('../journal/journal-server.ts', import.meta.url));
const ROUNDS = 6;
/** Requests in flight per round: well under the server's pending bound, so none is shed. */
const IN_FLIGHT_MAX = 200;
/** Per-round bound on commands so a fast machine does not make rounds unbounded. */
const COMMANDS_PER_ROUND_MAX = 20_000;
const POLICIES = ['fsync', 'fsync', 'none', 'interval:5', 'fsync', 'fsync'];

interface Reply {
  type: string;
  id?: number;
  seq?: number;
  result?: LedgerResult;
  lastSeq?: number;
  stateHash?: string;
  code?: number;
  message?: string;
}

class Server {
  readonly child: ChildProcessWithoutNullStreams;
  readonly replies: Reply[] = [];
  stderr = '';
  private buf = '';
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(dir: string, policy: string) {
    this.child = spawn(process.execPath, [SERVER, '--dir', dir, '--policy', policy, '--snapshot-every', '700', '--segment-bytes', '40000'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (line.length > 0) this.replies.push(JSON.parse(line) as Reply);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => void (this.stderr += chunk));
    this.child.stdin.on('error', () => {}); // EPIPE after SIGKILL is expected
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  nextReply(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async ready(): Promise<Reply> {
    const t0 = Date.now();
    while (this.replies.length === 0) {
      if (Date.now() - t0 > 10_000) throw new Error(`server not ready after 10 s; stderr:\n${this.stderr}`);
      await Promise.race([this.nextReply(), new Promise((r) => setTimeout(r, 50))]);
    }
    const ready = this.replies.shift()!;
    if (ready.type !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(ready)}; stderr:\n${this.stderr}`);
    return ready;
  }

  send(id: number, cmd: LedgerCommand): void {
    this.child.stdin.write(`${JSON.stringify({ id, cmd })}\n`);
  }
}

function randomCommand(random: Random): LedgerCommand {
  const a = randomInt(random, 20);
  const b = randomInt(random, 20);
  const amount = randomInt(random, 50);
  switch (randomInt(random, 3)) {
    case 0:
      return { type: 'deposit', account: a, amount };
    case 1:
      return { type: 'withdraw', account: a, amount };
    default:
      return { type: 'transfer', from: a, to: b, amount };
  }
}

function replay(commands: readonly LedgerCommand[]): { hash: string; results: LedgerResult[] } {
  const m = new LedgerMachine();
  const results = commands.map((c) => m.apply(c));
  return { hash: m.stateHash(), results };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('journal server under SIGKILL (real process, real disk)', () => {
  it(`loses no acknowledged command across ${ROUNDS} kill/restart rounds`, async () => {
    const seed = Number(process.env.PERPX_CRASH_SEED ?? Date.now() % 0x7fffffff);
    const random = seededRandom(seed);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perpx-crash-'));
    dirs.push(dir);
    const history: LedgerCommand[] = []; // committed commands; history[i] has seq i + 1
    let sent: LedgerCommand[] = []; // sent in the previous round, in order (arrival order = seq order)
    let ackedSeqs: number[] = [];
    let ackedResults = new Map<number, LedgerResult>();
    let base = 0;
    const context = () => `seed ${seed} (PERPX_CRASH_SEED=${seed} replays), dir ${dir}`;
    let totalAcked = 0;

    for (let round = 0; round <= ROUNDS; round++) {
      const policy = POLICIES[round % POLICIES.length]!;
      const server = new Server(dir, policy);
      const ready = await server.ready();
      const lastSeq = ready.lastSeq!;
      // (1) every acknowledged command of the previous round survived, (2) exactly a prefix.
      const maxAcked = Math.max(base, ...ackedSeqs);
      expect(lastSeq, `round ${round}: recovered seq below an acknowledged one; ${context()}`).toBeGreaterThanOrEqual(maxAcked);
      expect(lastSeq, `round ${round}: recovered more than was sent; ${context()}`).toBeLessThanOrEqual(base + sent.length);
      history.push(...sent.slice(0, lastSeq - base));
      const model = replay(history);
      expect(ready.stateHash, `round ${round}: state is not a replay of a prefix; ${context()}`).toBe(model.hash);
      for (const [seq, result] of ackedResults) {
        expect(result, `round ${round}: acked result for seq ${seq} differs; ${context()}`).toEqual(model.results[seq - 1]);
      }
      base = lastSeq;
      if (round === ROUNDS) {
        server.child.stdin.end(); // clean shutdown at the end
        expect(await server.exited).toBe(0);
        break;
      }

      // Stream commands with a bounded window until the kill.
      sent = [];
      ackedSeqs = [];
      ackedResults = new Map();
      let killed = false;
      const killAfterMs = 80 + randomInt(random, 400);
      const killTimer = setTimeout(() => {
        killed = true;
        server.child.kill('SIGKILL');
      }, killAfterMs);
      let inFlight = 0;
      let handled = 0;
      while (!killed) {
        while (!killed && inFlight < IN_FLIGHT_MAX && sent.length < COMMANDS_PER_ROUND_MAX) {
          const cmd = randomCommand(random);
          server.send(sent.length, cmd);
          sent.push(cmd);
          inFlight++;
        }
        await Promise.race([server.nextReply(), server.exited]);
        for (; handled < server.replies.length; handled++) {
          const r = server.replies[handled]!;
          expect(r.type, `unexpected reply ${JSON.stringify(r)}; ${context()}`).toBe('ack');
          expect(r.seq, `ack seq is not arrival order; ${context()}`).toBe(base + r.id! + 1);
          ackedSeqs.push(r.seq!);
          ackedResults.set(r.seq!, r.result!);
          inFlight--;
        }
      }
      clearTimeout(killTimer);
      await server.exited;
      totalAcked += ackedSeqs.length;
      if (process.env.PERPX_CRASH_DEBUG) console.log(`round ${round} ${policy}: base ${base}, sent ${sent.length}, acked ${ackedSeqs.length}, kill at ${killAfterMs} ms; stderr tail: ${server.stderr.split('\n').slice(-3).join(' | ')}`);
    }
    expect(totalAcked, `too few acks to mean anything; ${context()}`).toBeGreaterThan(ROUNDS * 10);
  }, 60_000);
});
