// Journal benchmark: `npm run bench:journal` (human table) or `npm run bench:journal -- --json`
// (exactly one JSON object on stdout; progress goes to stderr).
//
// Method
// - Throughput and ack latency: for each policy (fsync, interval:5, none) and 1, 16, 256
//   producers, a fresh journal on a temp dir (real node:fs). Each producer is closed-loop: it
//   submits one command, awaits its acknowledgement, submits the next (one outstanding
//   command per producer, like a client waiting for its order's response). Warm-up, then a
//   fixed window, REPEATS times with the policies interleaved back to back; throughput = acks in the window / window; latency = submit → ack, recorded
//   in µs in an HDR histogram. The state machine applies every command (full engine path).
//   Snapshots run during the windows (every SNAPSHOT_EVERY_COMMANDS), so their pause counts.
// - Replay and cold start: a journal of a snapshot + COLD_START_TAIL_COMMANDS commands is
//   built, then a fresh child process (cold JIT) runs recover(); cold_start_ms is recover()'s
//   wall time there (restore + read + CRC + decode + apply + final hash), replay_cmds_per_s is
//   tail commands / replay time. A JSON-codec replay is measured too, for comparison.
// Options: --json, --subject <module exporting benchSubject>, --window-ms <n> (default 1000),
// --throughput-only, and for experiments --io blocking|async, --write-commands-max <n>;
// --cold-start-child <dir> is internal. Every run's data lives in os.tmpdir() and is removed.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Histogram } from 'hdr-histogram-js';
import type { Codec } from '../engine/journal/codec.ts';
import { jsonCodec } from '../engine/journal/codec.ts';
import { createNodeFileIO } from '../engine/journal/file-io.ts';
import { Journal } from '../engine/journal/journal.ts';
import { describePolicy, parsePolicy, policyName } from '../engine/journal/policy.ts';
import { seededRandom } from '../engine/journal/random.ts';
import { recover } from '../engine/journal/recovery.ts';
import { defaultSubject, type BenchSubject } from './journal-subject.ts';

const POLICIES = ['fsync', 'interval:5', 'none'] as const;
const PRODUCER_COUNTS = [1, 16, 256] as const;
const WARMUP_MS = 300;
const WINDOW_MS_DEFAULT = 1000;
/** Each (policy, producers) cell is measured this many times, policies interleaved back to back. */
const REPEATS = 3;
const SNAPSHOT_EVERY_COMMANDS = 100_000;
const COLD_START_PREFIX_COMMANDS = 200_000;
const COLD_START_TAIL_COMMANDS = 1_000_000;
const JSON_REPLAY_COMMANDS = 300_000;
/** Bench journals may run ahead of the disk this far (bounded, like production). */
const BENCH_PENDING_COMMANDS_MAX = 65_536;

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    subject: { type: 'string' },
    'window-ms': { type: 'string' },
    'cold-start-child': { type: 'string' },
    'write-commands-max': { type: 'string' },
    'throughput-only': { type: 'boolean', default: false },
    io: { type: 'string', default: 'async' },
  },
});

const progress = (line: string): void => void process.stderr.write(`[bench:journal] ${line}\n`);

async function loadSubject(): Promise<BenchSubject<unknown>> {
  if (args.subject === undefined) return defaultSubject;
  const mod = (await import(pathToFileURL(path.resolve(args.subject)).href)) as { benchSubject?: BenchSubject<unknown> };
  if (mod.benchSubject === undefined) throw new Error(`${args.subject} does not export benchSubject`);
  return mod.benchSubject;
}

function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `perpx-bench-${tag}-`));
}

function newHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

interface RunResult {
  hist: Histogram;
  throughput_cmds_per_s: number;
  ack_latency_us: { p50: number; p99: number; p99_9: number; max: number };
  acks: number;
  fsyncs: number;
  fsyncs_per_s: number;
  commands_per_batch_avg: number;
  snapshot_pause_ms_max: number;
  overload_rejections: number;
}

interface RunState {
  stop: boolean;
  measuring: boolean;
  acks: number;
  rejected: number;
}

async function producer(j: Journal<unknown>, subject: BenchSubject<unknown>, seed: number, hist: Histogram, st: RunState): Promise<void> {
  const random = seededRandom(seed);
  for (let i = 0; !st.stop; i++) {
    const cmd = subject.command(i, random);
    const t0 = performance.now();
    try {
      await j.submit(cmd);
    } catch {
      st.rejected++;
      continue;
    }
    if (st.measuring) {
      hist.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
      st.acks++;
    }
  }
}

async function throughputRun(subject: BenchSubject<unknown>, policy: string, producers: number, windowMs: number): Promise<RunResult> {
  const dir = tempDir('tp');
  try {
    const j = await Journal.open<unknown>({
      dir,
      io: createNodeFileIO({ blocking: args.io === 'blocking' }),
      createMachine: subject.createMachine,
      codec: subject.codec,
      policy,
      snapshotEveryCommands: SNAPSHOT_EVERY_COMMANDS,
      pendingCommandsMax: BENCH_PENDING_COMMANDS_MAX,
      ...(args['write-commands-max'] !== undefined ? { writeCommandsMax: Number(args['write-commands-max']) } : {}),
    });
    const hist = newHistogram();
    const st: RunState = { stop: false, measuring: false, acks: 0, rejected: 0 };
    const running = Array.from({ length: producers }, (_, p) => producer(j, subject, 1000 + p, hist, st));
    await sleep(WARMUP_MS);
    const fsyncs0 = j.stats.fsyncs;
    const batches0 = j.stats.batches;
    const acked0 = j.stats.ackedSeq;
    st.measuring = true;
    const t0 = performance.now();
    await sleep(windowMs);
    st.measuring = false;
    const elapsedMs = performance.now() - t0;
    const fsyncs = j.stats.fsyncs - fsyncs0;
    const batches = j.stats.batches - batches0;
    const ackedInWindow = j.stats.ackedSeq - acked0;
    st.stop = true;
    await Promise.all(running);
    await j.close();
    return {
      hist,
      throughput_cmds_per_s: Math.round((st.acks / elapsedMs) * 1000),
      ack_latency_us: {
        p50: hist.getValueAtPercentile(50),
        p99: hist.getValueAtPercentile(99),
        p99_9: hist.getValueAtPercentile(99.9),
        max: hist.maxValue,
      },
      acks: st.acks,
      fsyncs,
      fsyncs_per_s: Math.round((fsyncs / elapsedMs) * 1000),
      commands_per_batch_avg: batches > 0 ? Math.round((ackedInWindow / batches) * 10) / 10 : 0,
      snapshot_pause_ms_max: round3(j.stats.snapshotPauseMsMax),
      overload_rejections: st.rejected,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface CellReport {
  throughput_cmds_per_s: number;
  throughput_cmds_per_s_runs: number[];
  ack_latency_us: { p50: number; p99: number; p99_9: number; max: number };
  fsyncs_per_s: number;
  commands_per_batch_avg: number;
  snapshot_pause_ms_max: number;
  overload_rejections: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function summarize(runs: readonly RunResult[]): CellReport {
  const hist = newHistogram();
  for (const r of runs) hist.add(r.hist);
  const tps = runs.map((r) => r.throughput_cmds_per_s);
  const mid = runs.find((r) => r.throughput_cmds_per_s === median(tps)) ?? runs[0]!;
  return {
    throughput_cmds_per_s: Math.round(median(tps)),
    throughput_cmds_per_s_runs: tps,
    ack_latency_us: {
      p50: hist.getValueAtPercentile(50),
      p99: hist.getValueAtPercentile(99),
      p99_9: hist.getValueAtPercentile(99.9),
      max: hist.maxValue,
    },
    fsyncs_per_s: Math.round(median(runs.map((r) => r.fsyncs_per_s))),
    commands_per_batch_avg: mid.commands_per_batch_avg,
    snapshot_pause_ms_max: Math.max(...runs.map((r) => r.snapshot_pause_ms_max)),
    overload_rejections: runs.reduce((a, r) => a + r.overload_rejections, 0),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Fills a journal as fast as the journal takes it (policy none), returns the journal's stats. */
async function fillJournal(
  dir: string,
  subject: BenchSubject<unknown>,
  codec: Codec<unknown>,
  prefix: number,
  tail: number,
): Promise<{ snapshotPauseMs: number }> {
  const j = await Journal.open<unknown>({
    dir,
    io: createNodeFileIO(),
    createMachine: subject.createMachine,
    codec,
    policy: 'none',
    snapshotEveryCommands: 0,
    pendingCommandsMax: BENCH_PENDING_COMMANDS_MAX,
    stagingBytesMax: 16 << 20,
  });
  const random = seededRandom(42);
  const noop = (): void => {};
  const submitN = async (n: number): Promise<void> => {
    for (let i = 0; i < n; ) {
      const err = j.trySubmit(subject.command(i, random), noop, null);
      if (err === null) i++;
      else if (err.code === -1008) await j.flush();
      else throw err;
    }
    await j.flush();
  };
  await submitN(prefix);
  if (prefix > 0) {
    j.snapshotNow();
    await j.flush();
  }
  await submitN(tail);
  await j.close();
  return { snapshotPauseMs: j.stats.snapshotPauseMsMax };
}

interface ColdStartReport {
  elapsedMs: number;
  restoreMs: number;
  replayMs: number;
  replayed: number;
  snapshotSeq: number;
  bytesRead: number;
}

/** Child-process side: recover the dir and print one JSON line. */
async function coldStartChild(dir: string): Promise<void> {
  const subject = await loadSubject();
  const codec = process.env.PERPX_BENCH_CODEC === 'json' ? jsonCodec<unknown>() : subject.codec;
  const r = await recover<unknown>({ dir, io: createNodeFileIO(), createMachine: subject.createMachine, codec, repair: false });
  const report: ColdStartReport = {
    elapsedMs: r.elapsedMs,
    restoreMs: r.restoreMs,
    replayMs: r.replayMs,
    replayed: r.replayedCommands,
    snapshotSeq: r.snapshotSeq,
    bytesRead: r.bytesRead,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function runColdStart(dir: string, codec: 'subject' | 'json'): ColdStartReport & { processMs: number } {
  const self = fileURLToPath(import.meta.url);
  const childArgs = [self, '--cold-start-child', dir, ...(args.subject !== undefined ? ['--subject', args.subject] : [])];
  const t0 = performance.now();
  const out = spawnSync(process.execPath, childArgs, {
    encoding: 'utf8',
    env: { ...process.env, PERPX_BENCH_CODEC: codec },
    maxBuffer: 1 << 20,
  });
  const processMs = performance.now() - t0;
  if (out.status !== 0) throw new Error(`cold-start child failed (${out.status}): ${out.stderr}`);
  return { ...(JSON.parse(out.stdout.trim()) as ColdStartReport), processMs };
}

async function main(): Promise<void> {
  if (args['cold-start-child'] !== undefined) return coldStartChild(args['cold-start-child']);
  const subject = await loadSubject();
  const windowMs = args['window-ms'] !== undefined ? Number(args['window-ms']) : WINDOW_MS_DEFAULT;
  const started = performance.now();
  progress(`subject: ${subject.name}; node ${process.version}; ${os.cpus().length} cpus; tmp ${os.tmpdir()}`);

  // The disk here is shared and noisy (fsync 0.2 ms to 100 ms): every producer count runs all
  // policies back to back, REPEATS times; a cell reports the median throughput, latency from
  // the merged histogram, and fsync/none ratios are medians of back-to-back pairs.
  const cells = new Map<string, RunResult[]>();
  const ratios: Record<string, number[]> = {};
  for (const policy of POLICIES) {
    if (policy !== 'fsync') progress(describePolicy(parsePolicy(policy)));
  }
  for (const n of PRODUCER_COUNTS) {
    ratios[String(n)] = [];
    for (let rep = 0; rep < REPEATS; rep++) {
      const tp: Record<string, number> = {};
      for (const policy of POLICIES) {
        const r = await throughputRun(subject, policy, n, windowMs);
        const key = `${policy}/${n}`;
        cells.set(key, [...(cells.get(key) ?? []), r]);
        tp[policy] = r.throughput_cmds_per_s;
        progress(
          `${policy.padEnd(10)} producers=${String(n).padStart(3)} run ${rep + 1}/${REPEATS} ${String(r.throughput_cmds_per_s).padStart(8)} cmds/s  ` +
            `ack p50=${r.ack_latency_us.p50}us p99=${r.ack_latency_us.p99}us p99.9=${r.ack_latency_us.p99_9}us  ` +
            `fsyncs=${r.fsyncs} cmds/batch=${r.commands_per_batch_avg}`,
        );
      }
      ratios[String(n)]!.push(tp.fsync! / tp.none!);
    }
  }
  let pauseMax = 0;
  const policies: Record<string, { policy: string; describe: string; producers: Record<string, CellReport> }> = {};
  for (const policy of POLICIES) {
    const byProducers: Record<string, CellReport> = {};
    for (const n of PRODUCER_COUNTS) {
      const runs = cells.get(`${policy}/${n}`)!;
      const cell = summarize(runs);
      pauseMax = Math.max(pauseMax, cell.snapshot_pause_ms_max);
      byProducers[String(n)] = cell;
    }
    policies[parsePolicy(policy).kind] = { policy: policyName(parsePolicy(policy)), describe: describePolicy(parsePolicy(policy)), producers: byProducers };
  }
  if (args['throughput-only']) return;

  progress(`building snapshot (${COLD_START_PREFIX_COMMANDS} commands) + ${COLD_START_TAIL_COMMANDS}-command tail ...`);
  const coldDir = tempDir('cold');
  const jsonDir = tempDir('json');
  let cold: ColdStartReport & { processMs: number };
  let jsonReplay: ColdStartReport & { processMs: number };
  try {
    const fill = await fillJournal(coldDir, subject, subject.codec, COLD_START_PREFIX_COMMANDS, COLD_START_TAIL_COMMANDS);
    pauseMax = Math.max(pauseMax, fill.snapshotPauseMs);
    cold = runColdStart(coldDir, 'subject');
    progress(
      `cold start: ${cold.elapsedMs.toFixed(0)} ms recover() (restore ${cold.restoreMs.toFixed(1)} ms, replay ${cold.replayed} cmds in ` +
        `${cold.replayMs.toFixed(0)} ms, ${(cold.bytesRead / 1e6).toFixed(1)} MB); ${cold.processMs.toFixed(0)} ms spawn-to-exit`,
    );
    if (cold.replayed !== COLD_START_TAIL_COMMANDS) throw new Error(`cold start replayed ${cold.replayed}, expected ${COLD_START_TAIL_COMMANDS}`);
    await fillJournal(jsonDir, subject, jsonCodec<unknown>(), 0, JSON_REPLAY_COMMANDS);
    jsonReplay = runColdStart(jsonDir, 'json');
  } finally {
    fs.rmSync(coldDir, { recursive: true, force: true });
    fs.rmSync(jsonDir, { recursive: true, force: true });
  }
  const replayPerS = Math.round((cold.replayed / cold.replayMs) * 1000);
  const jsonReplayPerS = Math.round((jsonReplay.replayed / jsonReplay.replayMs) * 1000);
  progress(`replay: ${replayPerS} cmds/s (subject codec), ${jsonReplayPerS} cmds/s (JSON codec)`);

  const ratio = (n: number): number => round3(median(ratios[String(n)]!));
  const report = {
    policies,
    replay_cmds_per_s: replayPerS,
    cold_start_ms: Math.round(cold.elapsedMs),
    snapshot_pause_ms_max: round3(pauseMax),
    replay_cmds_per_s_json_codec: jsonReplayPerS,
    cold_start_process_ms: Math.round(cold.processMs),
    fsync_over_none_throughput: { '1': ratio(1), '16': ratio(16), '256': ratio(256) },
    targets: {
      fsync_ge_half_of_none_at_16_producers: ratio(16) >= 0.5,
      fsync_ge_half_of_none_at_256_producers: ratio(256) >= 0.5,
      replay_ge_1m_cmds_per_s: replayPerS >= 1_000_000,
      cold_start_le_2000_ms: cold.elapsedMs <= 2000,
    },
    subject: subject.name,
    producer_model: 'closed loop: one outstanding command per producer',
    window_ms: windowMs,
    repeats: REPEATS,
    node: process.version,
    bench_ms: Math.round(performance.now() - started),
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  }
}

await main();
