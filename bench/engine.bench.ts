// `npm run bench:engine [-- --json] [--commands N] [--seed S] [--quick]`
//
// One run, one machine, one seeded flow (bench/flow.ts: market makers quoting and
// re-quoting ladders around a random-walk mid, IOC and market-ish takers, marketable GTC
// takers, cancels and modifies):
//   matching-only  perpx OrderBook vs the npm peer nodejs-order-book (bench/matching.ts)
//   engine         the same flow as engine commands with margin, fees, positions,
//                  liquidation index upkeep, mark price and funding sampling
//                  (bench/engine-mode.ts; clock +100 ms every 1,000 commands, index
//                  follows the mid every 5,000)
// Throughput passes run untimed per command (median of repeats); a separate latency pass
// stamps every command with performance.now() (its own cost is reported) into an HDR
// histogram. GC pauses come from PerformanceObserver('gc').

import os from 'node:os';
import { generateFlow } from './flow.ts';
import { runMatchingBench } from './matching.ts';
import { createEngineDriver } from './engine-mode.ts';
import { forceGc, GcLog, latencyOf, median, newHistogram } from './measure.ts';
import type { GcSummary, LatencyUs } from './measure.ts';

const TARGET_ENGINE_OPS = 1_000_000;
const TARGET_ENGINE_P999_US = 20;

interface EngineModeResult {
  opsPerSec: number;
  opsPerSecRuns: number[];
  executedPerFlowCommand: number;
  latency: LatencyUs;
  throughputGc: GcSummary;
  latencyGc: GcSummary;
  trades: number;
  rejects: number;
}

async function runEngineMode(seed: number, warmup: number, commands: number, repeats: number, log: (s: string) => void): Promise<EngineModeResult> {
  const flow = generateFlow({ seed, commands: warmup + commands });
  const gc = new GcLog();
  const runs: number[] = [];
  let throughputGc: GcSummary | null = null;
  let trades = 0;
  let rejects = 0;
  let ratio = 1;
  // One discarded pass first: each pass builds a fresh engine, and the first one still runs
  // partly unoptimized code (measured: pass 3 was ~1.5x pass 1 without this), which says
  // more about V8 warm-up than about a long-running engine.
  {
    const d = createEngineDriver(flow);
    d.run(0, flow.count);
  }
  for (let r = 0; r < repeats; r++) {
    const d = createEngineDriver(flow);
    d.run(0, warmup);
    forceGc();
    const before = d.executed;
    const t0 = performance.now();
    d.run(warmup, flow.count);
    const t1 = performance.now();
    // ops/s counts every engine command (flow commands + clock + index commands).
    const executed = d.executed - before;
    runs.push(executed / ((t1 - t0) / 1000));
    ratio = executed / commands;
    trades = d.sink.trades;
    rejects = d.sink.rejects;
    d.engine.validate();
    const g = await gc.summary(t0, t1);
    if (throughputGc === null || g.totalMs > throughputGc.totalMs) throughputGc = g;
    log(`engine pass ${r + 1}/${repeats}: ${(runs[r]! / 1e6).toFixed(3)} M cmds/s`);
  }
  const d = createEngineDriver(flow);
  d.run(0, warmup);
  forceGc();
  const h = newHistogram();
  const record = (ns: number) => h.recordValue(ns < 1 ? 1 : Math.round(ns));
  const t0 = performance.now();
  d.run(warmup, flow.count, record);
  const t1 = performance.now();
  const latencyGc = await gc.summary(t0, t1);
  gc.stop();
  return {
    opsPerSec: Math.round(median(runs)),
    opsPerSecRuns: runs.map(Math.round),
    executedPerFlowCommand: Number(ratio.toFixed(4)),
    latency: latencyOf(h),
    throughputGc: throughputGc!,
    latencyGc,
    trades,
    rejects,
  };
}

function argValue(args: string[], name: string): number | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const quick = args.includes('--quick');
  const seed = argValue(args, '--seed') ?? 1;
  const commands = argValue(args, '--commands') ?? (quick ? 200_000 : 1_000_000);
  const warmup = quick ? 50_000 : 200_000;
  const log = (s: string) => { if (!json) console.error(s); };
  if (!Number.isInteger(commands) || commands <= 0) {
    console.error('perpx bench:engine: --commands must be a positive integer');
    process.exit(2);
  }

  const m = await runMatchingBench({ seed, commands, warmupCommands: warmup, repeats: quick ? 1 : 3, peerRepeats: 1, peerMemory: false, memoryOrders: 1_000_000, log });
  const e = await runEngineMode(seed, warmup, commands, quick ? 1 : 3, log);
  const lat = (l: LatencyUs) => ({ p50: l.p50Us, p99: l.p99Us, p999: l.p999Us, max: l.maxUs });
  const out = {
    perpx: {
      matching: { ops_per_s: m.perpx.opsPerSec, latency_us: lat(m.perpx.latency!), gc: m.perpx.latencyGc },
      engine: { ops_per_s: e.opsPerSec, latency_us: lat(e.latency), gc: e.latencyGc, ops_per_s_runs: e.opsPerSecRuns, trades: e.trades, rejects: e.rejects },
      bytes_per_resting_order: m.memory === null ? null : m.memory.perpx.bytesPerOrder,
    },
    peer: { name: 'nodejs-order-book', version: m.peer?.version ?? null, ops_per_s: m.peer?.opsPerSec ?? null, latency_us: m.peer?.latency ? lat(m.peer.latency) : null },
    ratio_matching_vs_peer: m.speedup,
    node: process.version,
    commands,
    warmup_commands: warmup,
    seed,
    flow_digest: m.flow.digest,
    timer_overhead_ns: m.timerOverheadNs,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', loadavg: os.loadavg().map((x) => Number(x.toFixed(2))) },
    targets: {
      matching_ops_per_s: { target: 2_500_000, met: m.perpx.opsPerSec >= 2_500_000 },
      matching_vs_peer: { target: 10, met: (m.speedup ?? 0) >= 10 },
      engine_ops_per_s: { target: TARGET_ENGINE_OPS, met: e.opsPerSec >= TARGET_ENGINE_OPS },
      engine_p999_us: { target: TARGET_ENGINE_P999_US, met: e.latency.p999Us <= TARGET_ENGINE_P999_US },
      bytes_per_resting_order: { target: 200, met: m.memory !== null && m.memory.perpx.bytesPerOrder <= 200 },
    },
  };
  if (json) {
    console.log(JSON.stringify(out));
    return;
  }
  const f = (x: number) => (x / 1e6).toFixed(2);
  console.log(`perpx bench:engine — node ${process.version}, ${out.machine.cpus} cpus (${out.machine.model}), load ${out.machine.loadavg.join(' ')}`);
  console.log(`flow seed ${seed} digest ${m.flow.digest}: ${commands.toLocaleString()} commands after ${warmup.toLocaleString()} warm-up`);
  console.log('');
  console.log('mode                 M ops/s   p50 µs   p99 µs   p99.9 µs   max µs');
  const row = (name: string, ops: number, l: LatencyUs) => console.log(`${name.padEnd(20)} ${f(ops).padStart(7)} ${l.p50Us.toFixed(2).padStart(8)} ${l.p99Us.toFixed(2).padStart(8)} ${l.p999Us.toFixed(2).padStart(10)} ${l.maxUs.toFixed(0).padStart(8)}`);
  row('perpx matching', m.perpx.opsPerSec, m.perpx.latency!);
  row('perpx engine', e.opsPerSec, e.latency);
  if (m.peer?.latency) row(`peer ${m.peer.name}`, m.peer.opsPerSec, m.peer.latency);
  console.log('');
  console.log(`matching vs peer: ${m.speedup}×   heap per resting order: ${out.perpx.bytes_per_resting_order} B   timer cost p50 ${m.timerOverheadNs.p50} ns (included in latencies)`);
  console.log(`GC during engine latency pass: ${e.latencyGc.count} pauses, ${e.latencyGc.totalMs} ms total, max ${e.latencyGc.maxMs} ms`);
  for (const [k, v] of Object.entries(out.targets)) console.log(`target ${k.padEnd(26)} ${String(v.target).padStart(10)}  ${v.met ? 'met' : 'MISSED'}`);
}

await main();
