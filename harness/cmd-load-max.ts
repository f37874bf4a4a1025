// `perpx load max --target URL [--scenario FILE] [options]`: capacity with autocannon (closed
// model), written as a report directory like `perpx load`. See load-max.ts for the method.

import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadScenarioFile, normalizeScenario } from './scenario.ts';
import type { NormalizedScenario } from './scenario.ts';
import { runLoadMax, LOAD_MAX_DEFAULTS } from './load-max.ts';
import { DEFAULT_RUNS_DIR, linkLatest } from './run-dir.ts';
import { writeReport } from '../reports/report.ts';

export const LOAD_MAX_HELP = `usage: perpx load max --target URL [--scenario FILE] [options]

Finds the target's capacity with autocannon (closed model): connections step up, a few
seconds each; every response's service time goes into per-second HDR slices, and the run is
written as a report directory (report.html with a capacity table, summary.md, results.json)
like perpx load. Capacity = the highest throughput of a step with error rate < 1% (and p99
within --max-p99). Closed-model latency is service time only (coordinated omission): use
perpx load (open model) for SLOs. Without --scenario the request is GET /fapi/v1/ping.

options:
  --target URL          base URL of the target
  --scenario FILE       scenario whose request flow to send (its profile is not used)
  --accounts FILE       JSON array of {apiKey, secretKey} for the binance-order flow
  --connections LIST    connection steps [${LOAD_MAX_DEFAULTS.connections.join(',')}]
  --step-duration S     seconds per step [${LOAD_MAX_DEFAULTS.stepDurationS}]
  --max-p99 MS          a step counts only if its p99 is at most this
  --runs-dir DIR        where run directories go (default ${DEFAULT_RUNS_DIR})
  --id ID               run id
  --json                print a JSON summary on stdout

exit: 0 a capacity was found and every scenario threshold passed, 1 otherwise
`;

// Every error here is the user's input: the CLI prints its message as one line and exits 1.
class UsageError extends Error {}

function positiveInt(text: string, name: string, hi: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < 1 || v > hi) throw new UsageError(`--${name} must be an integer in [1, ${hi}], got ${JSON.stringify(text)}`);
  return v;
}

export async function cmdLoadMax(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: false, strict: true, options: {
        target: { type: 'string' }, scenario: { type: 'string' }, accounts: { type: 'string' }, connections: { type: 'string' },
        'step-duration': { type: 'string' }, 'max-p99': { type: 'string' }, 'runs-dir': { type: 'string' }, id: { type: 'string' },
        json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!);
  }
  const v = parsed.values;
  if (v.help === true) {
    process.stdout.write(LOAD_MAX_HELP);
    return 0;
  }
  if (v.target === undefined) throw new UsageError('missing --target URL (e.g. http://127.0.0.1:8080)');
  let target: URL;
  try {
    target = new URL(v.target);
    if (target.protocol !== 'http:') throw new Error();
  } catch {
    throw new UsageError(`--target must be an http URL (autocannon speaks plain HTTP/1.1), got ${JSON.stringify(v.target)}`);
  }
  const connections = v.connections === undefined ? undefined : v.connections.split(',').map((c) => positiveInt(c, 'connections', 10_000));
  if (connections !== undefined && connections.some((c, i) => i > 0 && c <= connections[i - 1]!)) throw new UsageError('--connections must be ascending, e.g. 8,16,32');
  const stepDurationS = v['step-duration'] === undefined ? undefined : positiveInt(v['step-duration'], 'step-duration', 3600);
  let maxP99Ms: number | undefined;
  if (v['max-p99'] !== undefined) {
    maxP99Ms = Number(v['max-p99']);
    if (!(maxP99Ms > 0) || !Number.isFinite(maxP99Ms)) throw new UsageError(`--max-p99 must be a positive number of milliseconds, got ${JSON.stringify(v['max-p99'])}`);
  }
  const scenario: NormalizedScenario = v.scenario === undefined
    ? normalizeScenario({ name: 'ping', profile: { kind: 'constant', rate: 1, duration: 1 }, request: { factory: 'static', path: '/fapi/v1/ping', op: 'ping' } })
    : await loadScenarioFile(v.scenario).catch((e: Error) => Promise.reject(new UsageError(e.message)));
  if (v.accounts !== undefined) {
    if (scenario.request.factory !== 'binance-order') throw new UsageError('--accounts only applies to scenarios with the binance-order flow');
    const accounts = await readFile(v.accounts, 'utf8').then(JSON.parse).catch((e: Error) => Promise.reject(new UsageError(`--accounts ${v.accounts}: ${e.message.split('\n')[0]}`)));
    (scenario.request as { accounts?: unknown }).accounts = accounts;
  }
  // Fail early, with one line, when nothing listens there.
  await fetch(target).catch((e: Error) => Promise.reject(new UsageError(`cannot reach ${target.href}: ${(e.cause as Error | undefined)?.message ?? e.message}`)));
  const quiet = v.json === true;
  if (!quiet) process.stderr.write(`perpx load max: ${scenario.name} → ${target.href}\n`);
  const result = await runLoadMax({
    scenario, target: v.target.replace(/\/$/, ''),
    ...(connections === undefined ? {} : { connections }),
    ...(stepDurationS === undefined ? {} : { stepDurationS }),
    ...(maxP99Ms === undefined ? {} : { maxP99Ms }),
    ...(v.id === undefined ? {} : { id: v.id }),
    onStep: (s) => {
      if (!quiet) process.stderr.write(`  ${String(s.connections).padStart(5)} connections: ${Math.round(s.throughputRps).toLocaleString('en-US').padStart(8)} req/s  p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms  errors ${(s.errorRate * 100).toFixed(2)}%\n`);
    },
  });
  const runsDir = resolve(v['runs-dir'] ?? DEFAULT_RUNS_DIR);
  const dir = join(runsDir, result.id);
  const written = await writeReport(result, dir);
  await linkLatest(runsDir, dir);
  const cap = result.capacity;
  const ok = cap.capacityRps !== null && result.thresholds.every((t) => t.pass);
  if (quiet) {
    process.stdout.write(`${JSON.stringify({ id: result.id, dir, capacity: cap, thresholds: result.thresholds, verdict: written.analysis.verdict })}\n`);
  } else {
    process.stdout.write(`${cap.capacityRps === null ? `no capacity found (${cap.criterion})` : `capacity ≈ ${Math.round(cap.capacityRps).toLocaleString('en-US')} req/s at ${cap.capacityConnections} connections (${cap.criterion})`}\nreport: ${written.html}\n`);
  }
  return ok ? 0 : 1;
}
