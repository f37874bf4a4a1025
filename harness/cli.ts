#!/usr/bin/env node
// The perpx command line. Every failure caused by input ends in one line on stderr and a
// non-zero exit code, never a stack trace. Exit codes: 0 ok/pass, 1 failed (thresholds,
// checker, calibration tolerances) or bad input, 2 not available, 3 generator invalid,
// 130 interrupted twice.

import { parseArgs } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadScenarioFile } from './scenario.ts';
import type { NormalizedScenario } from './scenario.ts';
import { runToDirectory, DEFAULT_RUNS_DIR, linkLatest } from './run-dir.ts';
import type { Progress } from './load.ts';
import { runCalibration, formatCalibration, CALIBRATION_DEFAULTS } from './calibrate.ts';
import { exportK6 } from './k6-export.ts';
import { formatThresholdValue } from './thresholds.ts';
import { writeReport } from '../reports/report.ts';

class UsageError extends Error {}

const HELP: Record<string, string> = {
  main: `perpx — perpetual-futures exchange core and its load harness

usage: perpx <command> [options]      (perpx <command> --help for details)

commands:
  run          the default campaign: embedded perpx server, spike scenario, checker, report
  serve        the perpx server
  load         open-model load run against a target, ending in a report directory
  load max     capacity with autocannon (closed model), same report
  calibrate    prove the measurements against a target with known latency and capacity
  k6 export    write a k6 script with the same arrival profile, flow and thresholds
  sim          deterministic simulation: engine + journal + simulated disk, seeded crashes and disk faults, checked recoveries
  compare      regression gate: every key figure of a run vs a baseline (medians of repeats), exit 1 on a regression
  chaos        seeded fault-injection experiments (crash, pause, network, disk, ...) with checker and replay hash
  profile      the spike campaign under a profiler (cpu, heap, clinic doctor/flame/heapprofiler), into the report
`,
  run: `usage: perpx run [options]      (the default campaign; perpx run --help lists its options)
`,
  load: `usage: perpx load --target URL --scenario FILE [options]

Runs an open-model load test (arrival-rate profile from the scenario) and writes
<runs-dir>/<id>/ with report.html, summary.md, results.json, history.ndjson and points
<runs-dir>/latest at it. Prints live progress to stderr and a summary at the end.

options:
  --target URL       base URL of the target (http://host:port[/prefix]), or
                     ws://host:port/ws-fapi/v1 for the WebSocket API (binance-order flow, api "ws")
  --scenario FILE    scenario file (.json or .ts); may also be given as the positional argument
  --runs-dir DIR     where run directories go (default ${DEFAULT_RUNS_DIR})
  --id ID            run id (default <timestamp>-<scenario name>)
  --workers N        override the scenario's worker thread count
  --accounts FILE    JSON array of {apiKey, secretKey} for the binance-order flow
  --no-history       do not keep the operation history
  --json             print a JSON summary on stdout instead of the table
  --quiet            no live progress
  --metrics-port N   serve the generator's health as Prometheus metrics on 127.0.0.1:N during the run

exit: 0 all thresholds passed, 1 a threshold failed, 3 the generator could not keep its schedule

perpx load max --help: capacity with autocannon (closed model), same report
`,
  calibrate: `usage: perpx calibrate [options]

Runs the generator against a built-in target with a known latency distribution
(fixed + exponential delay), a known capacity and a stall, and compares the reported
percentiles and rate with the truth the target recorded.

options (defaults in brackets):
  --duration S        run length in seconds [${CALIBRATION_DEFAULTS.durationS}]
  --rate R            offered requests/s [${CALIBRATION_DEFAULTS.rateRps}]
  --workers N         load worker threads [${CALIBRATION_DEFAULTS.workers}]
  --max-in-flight N   in-flight requests per worker [${CALIBRATION_DEFAULTS.maxInFlightPerWorker}]
  --fixed-ms MS       fixed part of the delay [${CALIBRATION_DEFAULTS.fixedMs}]
  --exp-mean-ms MS    mean of the exponential part [${CALIBRATION_DEFAULTS.expMeanMs}]
  --capacity K        concurrent requests the target serves [${CALIBRATION_DEFAULTS.capacity}]
  --stall-at S        when the stall starts [${CALIBRATION_DEFAULTS.stallAtS}]
  --stall-ms MS       stall length, 0 for none [${CALIBRATION_DEFAULTS.stallMs}]
  --seed N            seed of the target's delays [${CALIBRATION_DEFAULTS.seed}]
  --report            also write a report directory under ${DEFAULT_RUNS_DIR}
  --json              print the comparison as JSON

exit: 0 within tolerances (percentiles 5%, rate 1%), 1 otherwise
`,
  k6: `usage: perpx k6 export <scenario> [--target URL] [--out FILE]

Writes a self-contained k6 script (ramping-arrival-rate stages from the scenario's profile,
the static or signed Binance order flow, thresholds) to stdout or FILE.

options:
  --target URL   default base URL baked into the script (k6 run -e PERPX_URL=... overrides)
  --out FILE     write to FILE instead of stdout
`,
};

function num(value: string | undefined, name: string, lo: number, hi: number, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(value)}`);
  }
  return v;
}

function parse<T extends Record<string, { type: 'string' | 'boolean' }>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!);
  }
}

function progressLine(p: Progress): string {
  const n = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(7);
  return `t=${String(p.second).padStart(4)}s ${p.phase.padEnd(11).slice(0, 11)} offered ${n(p.offeredRps)}/s  sent ${n(p.sentRps)}/s  done ${n(p.completedRps)}/s  ` +
    `p99 ${p.p99Ms === null ? '    n/a' : `${p.p99Ms.toFixed(1).padStart(7)} ms`}  in-flight ${String(p.inFlight).padStart(5)}  errors ${p.errors}`;
}

async function cmdLoad(args: string[]): Promise<number> {
  if (args[0] === 'max') return (await import('./cmd-load-max.ts')).cmdLoadMax(args.slice(1));
  const { values, positionals } = parse(args, {
    target: { type: 'string' }, scenario: { type: 'string' }, 'runs-dir': { type: 'string' }, id: { type: 'string' },
    workers: { type: 'string' }, accounts: { type: 'string' }, 'no-history': { type: 'boolean' }, json: { type: 'boolean' }, quiet: { type: 'boolean' },
    'metrics-port': { type: 'string' },
  });
  if (values.help === true) return help('load');
  const file = values.scenario ?? positionals[0];
  if (file === undefined) throw new UsageError('missing --scenario FILE');
  if (values.target === undefined) throw new UsageError('missing --target URL (e.g. http://127.0.0.1:8080)');
  if (positionals.length > (values.scenario === undefined ? 1 : 0)) throw new UsageError(`unexpected argument ${JSON.stringify(positionals.at(-1))}`);
  try {
    const u = new URL(values.target);
    if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error();
  } catch {
    throw new UsageError(`--target must be an http(s) URL, or ws(s)://host:port/ws-fapi/v1 for the WebSocket API, got ${JSON.stringify(values.target)}`);
  }
  const scenario: NormalizedScenario = await loadScenarioFile(file).catch((e: Error) => Promise.reject(new UsageError(e.message)));
  const workers = num(values.workers, 'workers', 1, 32, true);
  if (workers !== undefined) scenario.workers = workers;
  if (values.accounts !== undefined) {
    if (scenario.request.factory !== 'binance-order') throw new UsageError('--accounts only applies to scenarios with the binance-order flow');
    const accounts = await readFile(values.accounts, 'utf8').then(JSON.parse).catch((e: Error) => Promise.reject(new UsageError(`--accounts ${values.accounts}: ${e.message.split('\n')[0]}`)));
    (scenario.request as { accounts?: unknown }).accounts = accounts;
  }
  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nperpx load: interrupted — finishing in-flight requests and writing the report (Ctrl-C again to quit now)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const quiet = values.quiet === true;
  if (!quiet) process.stderr.write(`perpx load: ${scenario.name} → ${values.target} (${scenario.workers} workers)\n`);
  const metricsPort = num(values['metrics-port'], 'metrics-port', 0, 65535, true);
  const exporter = metricsPort === undefined ? null : await (await import('../dashboards/generator-exporter.ts')).startGeneratorExporter({ port: metricsPort, scenario: scenario.name });
  if (exporter !== null && !quiet) process.stderr.write(`perpx load: generator metrics at ${exporter.url}/metrics\n`);
  const out = await runToDirectory({
    scenario, target: values.target, signal: abort.signal, history: values['no-history'] !== true,
    ...(values['runs-dir'] === undefined ? {} : { runsDir: values['runs-dir'] }),
    ...(values.id === undefined ? {} : { id: values.id }),
    ...(quiet && exporter === null ? {} : { onProgress: (p: Progress) => { exporter?.onProgress(p); if (!quiet) process.stderr.write(`${progressLine(p)}\n`); } }),
  });
  process.off('SIGINT', onSigint);
  await exporter?.close();
  const r = out.result;
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify({
      id: r.id, dir: out.dir, verdict: out.analysis.verdict, valid: r.valid, invalidReasons: r.invalidReasons, totals: r.totals,
      latency: r.latency, thresholds: r.thresholds, saturation: out.analysis.saturation, findings: out.analysis.findings,
    })}\n`);
  } else {
    const lines: string[] = [];
    if (!r.valid) lines.push(`GENERATOR INVALID: ${r.invalidReasons.join('; ')}`);
    lines.push(`${out.analysis.verdict}  ${r.scenario.name}: offered ${Math.round(r.totals.offeredRps)}/s, achieved ${Math.round(r.totals.achievedRps)}/s, ` +
      `errors ${(r.totals.errorRate * 100).toFixed(3)}%, corrected p99 ${r.latency.corrected.p99Ms.toFixed(2)} ms, service p99 ${r.latency.service.p99Ms.toFixed(2)} ms`);
    for (const t of r.thresholds) lines.push(`  ${t.pass ? 'pass' : 'FAIL'}  ${t.source.padEnd(28)} actual ${formatThresholdValue(t.actual, t.unit)}`);
    for (const f of out.analysis.findings.slice(0, 5)) lines.push(`  - ${f.severity}: ${f.title}`);
    lines.push(`report: ${out.files.html}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return out.exitCode;
}

async function cmdCalibrate(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    duration: { type: 'string' }, rate: { type: 'string' }, workers: { type: 'string' }, 'max-in-flight': { type: 'string' },
    'fixed-ms': { type: 'string' }, 'exp-mean-ms': { type: 'string' }, capacity: { type: 'string' }, 'stall-at': { type: 'string' },
    'stall-ms': { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, report: { type: 'boolean' },
  });
  if (values.help === true) return help('calibrate');
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const opts = {
    durationS: num(values.duration, 'duration', 2, 3600),
    rateRps: num(values.rate, 'rate', 1, 100_000),
    workers: num(values.workers, 'workers', 1, 32, true),
    maxInFlightPerWorker: num(values['max-in-flight'], 'max-in-flight', 1, 16_384, true),
    fixedMs: num(values['fixed-ms'], 'fixed-ms', 0, 10_000),
    expMeanMs: num(values['exp-mean-ms'], 'exp-mean-ms', 0, 10_000),
    capacity: num(values.capacity, 'capacity', 1, 100_000, true),
    stallAtS: num(values['stall-at'], 'stall-at', 0, 3600),
    stallMs: num(values['stall-ms'], 'stall-ms', 0, 60_000),
    seed: num(values.seed, 'seed', 0, 2 ** 32 - 1, true),
  };
  const durationS = opts.durationS ?? CALIBRATION_DEFAULTS.durationS;
  if ((opts.stallMs ?? CALIBRATION_DEFAULTS.stallMs) > 0 && (opts.stallAtS ?? CALIBRATION_DEFAULTS.stallAtS) >= durationS) throw new UsageError('--stall-at must be inside the run (< --duration)');
  if (values.json !== true) process.stderr.write(`perpx calibrate: ${durationS} s against the built-in target…\n`);
  const report = await runCalibration({ ...opts, historyDir: null });
  if (values.report === true) {
    const dir = resolve(DEFAULT_RUNS_DIR, report.result.id);
    await writeReport(report.result, dir);
    await writeFile(resolve(dir, 'calibration.txt'), `${formatCalibration(report)}\n`);
    await linkLatest(resolve(DEFAULT_RUNS_DIR), dir);
    if (values.json !== true) process.stderr.write(`report: ${dir}/report.html\n`);
  }
  if (values.json === true) {
    const { result: _result, ...rest } = report;
    process.stdout.write(`${JSON.stringify(rest)}\n`);
  } else {
    process.stdout.write(`${formatCalibration(report)}\n`);
  }
  return report.pass ? 0 : 1;
}

async function cmdK6(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { target: { type: 'string' }, out: { type: 'string' } });
  if (values.help === true || positionals.length === 0) {
    if (values.help === true) return help('k6');
    throw new UsageError('usage: perpx k6 export <scenario> [--target URL] [--out FILE]');
  }
  if (positionals[0] !== 'export') throw new UsageError(`unknown k6 sub-command ${JSON.stringify(positionals[0])} (only "export")`);
  if (positionals.length !== 2) throw new UsageError('usage: perpx k6 export <scenario> [--target URL] [--out FILE]');
  const scenario = await loadScenarioFile(positionals[1]!).catch((e: Error) => Promise.reject(new UsageError(e.message)));
  let script: string;
  try {
    script = exportK6(scenario, values.target === undefined ? {} : { target: values.target });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.out === undefined) process.stdout.write(script);
  else await writeFile(values.out, script);
  return 0;
}

function help(topic: string): number {
  process.stdout.write(HELP[topic] ?? HELP.main!);
  return 0;
}

let commandName = 'perpx';

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  commandName = cmd === 'load' || cmd === 'calibrate' || cmd === 'k6' ? `perpx ${cmd}` : 'perpx';
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return help(rest[0] ?? 'main');
    case 'run':
      return (await import('./cmd-run.ts')).cmdRun(rest);
    case 'chaos':
      return (await import('../chaos/cmd-chaos.ts')).cmdChaos(rest);
    case 'serve':
      // engine/gateway/serve.ts reads process.argv itself (and skips the word "serve").
      await import('../engine/gateway/serve.ts');
      return new Promise<number>(() => {}); // runs until SIGTERM/SIGINT
    case 'load':
      return cmdLoad(rest);
    case 'calibrate':
      return cmdCalibrate(rest);
    case 'compare':
      return (await import('../reports/cmd-compare.ts')).cmdCompare(rest);
    case 'k6':
      return cmdK6(rest);
    case 'sim':
      return (await import('../chaos/sim/cmd-sim.ts')).cmdSim(rest);
    case 'profile':
      return (await import('./profiling/cmd-profile.ts')).cmdProfile(rest);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)} (try perpx --help)`);
  }
}

function isEntryPoint(): boolean {
  // Through the npm bin link argv[1] is the symlink: compare real paths.
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

const isEntry = isEntryPoint();
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      const msg = e instanceof Error ? e.message : String(e);
      // parseArgs appends advice after the first sentence; one line is the contract.
      const line = msg.split('\n')[0]!.replace(/^(Unknown option '[^']*'\.).*$/, '$1');
      process.stderr.write(`${commandName}: ${line}\n`);
      process.exitCode = 1;
    },
  );
}
