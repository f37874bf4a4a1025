// `perpx run [--quick] [--fsync POLICY] [--target URL --admin-token T] [--runs-dir DIR] [--id ID]`
// The default campaign (see campaign.ts); prints live progress and a summary table.

import { parseArgs } from 'node:util';
import { runCampaign } from './campaign.ts';
import { startLiveServer } from '../dashboards/live/server.ts';
import type { LiveServer } from '../dashboards/live/server.ts';
import type { Progress } from './load.ts';
import { startGeneratorExporter } from '../dashboards/generator-exporter.ts';
import type { GeneratorExporter } from '../dashboards/generator-exporter.ts';

export const RUN_HELP = `perpx run — the default campaign (also: npm start)

Starts an embedded perpx serve (journal under reports/runs/<id>/server-data), creates and
funds 24 accounts, runs the spike scenario (signed Binance order flow, 200 → 2,000 orders/s
within 2 s, ~100 s), checks the operation history against the server (lost or phantom
orders, fills, conservation, open interest), and writes reports/runs/<id>/report.html,
summary.md, results.json, history.ndjson and reports/runs/latest.

  --quick               a 12-second version (smoke test)
  --fsync POLICY        journal policy of the embedded server: fsync (default), interval:<ms>, none
  --api rest|ws         send the order flow over REST (default) or the WebSocket API (/ws-fapi/v1)
  --target URL          run against an already running perpx instead (needs --admin-token)
  --admin-token TOKEN   the server's PERPX_ADMIN_TOKEN (accounts are created through /admin/v1)
  --runs-dir DIR        where run directories go (default reports/runs)
  --id ID               run id (default: timestamp + scenario name)
  --metrics-port N      serve the load generator's health as Prometheus metrics on 127.0.0.1:N
                        during the run (dashboards/: job perpx-loadgen, default port there 9465)
  --no-cpu-profile      do not capture the automatic CPU profile of the worst latency window
                        (2 s windows from the spike onset; harness/profiling/README.md)
  --live                serve a live page on 127.0.0.1 while the run goes on (URL printed):
                        rate, latency percentiles, errors by code, server stages, fault
                        markers, updated every second; it stops when the run ends
  --live-port N         port of the live page (default: any free port; implies --live)
  --live-hold           keep the live page (and a link to the report) until Ctrl-C (implies --live)

Exit code: 0 pass; 1 a threshold or the checker failed; 3 the generator could not keep its
schedule (the run is invalid, the report says so first); 2 bad usage.`;

function line(p: Progress): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US').padStart(6);
  return `t=${String(p.second).padStart(4)}s ${p.phase.padEnd(10).slice(0, 10)} offered ${n(p.offeredRps)}/s achieved ${n(p.completedRps)}/s ` +
    `p99 ${p.p99Ms === null ? '    n/a' : `${p.p99Ms.toFixed(1).padStart(6)} ms`} errors ${p.errors}`;
}

export async function cmdRun(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: {
      quick: { type: 'boolean' }, fsync: { type: 'string' }, api: { type: 'string' }, target: { type: 'string' }, 'admin-token': { type: 'string' },
      'runs-dir': { type: 'string' }, id: { type: 'string' }, help: { type: 'boolean', short: 'h' }, 'metrics-port': { type: 'string' },
      live: { type: 'boolean' }, 'no-cpu-profile': { type: 'boolean' }, 'live-port': { type: 'string' }, 'live-hold': { type: 'boolean' },
    }, strict: true }));
  } catch (e) {
    process.stderr.write(`perpx run: ${(e as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${RUN_HELP}\n`);
    return 0;
  }
  if (values.api !== undefined && values.api !== 'rest' && values.api !== 'ws') {
    process.stderr.write(`perpx run: --api must be rest or ws, got ${JSON.stringify(values.api)}\n`);
    return 2;
  }
  if (values.target !== undefined && values['admin-token'] === undefined) {
    process.stderr.write('perpx run: --target needs --admin-token\n');
    return 2;
  }
  const livePort = values['live-port'] === undefined ? 0 : Number(values['live-port']);
  if (!Number.isInteger(livePort) || livePort < 0 || livePort > 65535) {
    process.stderr.write(`perpx run: --live-port must be an integer 0-65535, got ${JSON.stringify(values['live-port'])}\n`);
    return 2;
  }
  let live: LiveServer | null = null;
  if (values.live === true || values['live-port'] !== undefined || values['live-hold'] === true) {
    try {
      live = await startLiveServer({ port: livePort });
    } catch (e) {
      process.stderr.write(`perpx run: cannot serve the live page on 127.0.0.1:${livePort}: ${(e as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`perpx run: live page at ${live.url}\n`);
  }
  let exporter: GeneratorExporter | null = null;
  if (values['metrics-port'] !== undefined) {
    const port = Number(values['metrics-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`perpx run: --metrics-port must be an integer 0-65535, got ${JSON.stringify(values['metrics-port'])}\n`);
      return 2;
    }
    try {
      exporter = await startGeneratorExporter({ port, scenario: values.quick === true ? 'spike-quick' : 'spike' });
    } catch (e) {
      await live?.close();
      process.stderr.write(`perpx run: cannot serve load generator metrics on 127.0.0.1:${port}: ${(e as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`perpx run: load generator metrics at ${exporter.url}/metrics\n`);
  }
  const abort = new AbortController();
  const onSigint = () => { process.stderr.write('\nperpx run: interrupted — finishing in-flight requests and writing the report\n'); abort.abort(); };
  process.once('SIGINT', onSigint);
  const r = await runCampaign({
    quick: values.quick === true,
    ...(values['no-cpu-profile'] === true ? { autoCpuProfile: false } : {}),
    ...(live === null ? {} : { live }),
    signal: abort.signal,
    onProgress: (p) => { exporter?.onProgress(p); process.stderr.write(`${line(p)}\n`); },
    ...(values.fsync === undefined ? {} : { fsync: values.fsync }),
    ...(values.api === 'ws' ? { api: 'ws' as const } : {}),
    ...(values.target === undefined ? {} : { target: values.target }),
    ...(values['admin-token'] === undefined ? {} : { adminToken: values['admin-token'] }),
    ...(values['runs-dir'] === undefined ? {} : { runsDir: values['runs-dir'] }),
    ...(values.id === undefined ? {} : { id: values.id }),
  }).catch(async (e: unknown) => {
    await live?.close();
    await exporter?.close();
    throw e;
  });
  process.off('SIGINT', onSigint);
  await exporter?.close();
  const res = r.result;
  const out: string[] = [''];
  if (!res.valid) out.push(`GENERATOR INVALID — the numbers blame the load generator, not the server: ${res.invalidReasons.join('; ')}`);
  out.push(`${r.exitCode === 0 ? 'PASS' : r.analysis.verdict === 'PASS' ? 'FAIL' : r.analysis.verdict}  ${res.scenario.name} against ${res.target}`);
  out.push('');
  out.push('  figure                          value');
  out.push(`  offered / achieved rate         ${Math.round(res.totals.offeredRps)} / ${Math.round(res.totals.achievedRps)} req/s`);
  out.push(`  corrected p50 / p99 / p99.9     ${res.latency.corrected.p50Ms.toFixed(2)} / ${res.latency.corrected.p99Ms.toFixed(2)} / ${res.latency.corrected.p999Ms.toFixed(2)} ms`);
  out.push(`  service   p50 / p99 / p99.9     ${res.latency.service.p50Ms.toFixed(2)} / ${res.latency.service.p99Ms.toFixed(2)} / ${res.latency.service.p999Ms.toFixed(2)} ms`);
  out.push(`  rejections (4xx) / timeouts     ${(res.totals.errorRate * 100).toFixed(2)}% / ${(res.totals.timeoutRate * 100).toFixed(3)}%`);
  for (const t of res.thresholds) out.push(`  threshold ${t.source.padEnd(22)} ${t.pass ? 'pass' : 'FAIL'} (actual ${t.actual === null ? 'n/a' : t.unit === 'ratio' ? `${(t.actual * 100).toFixed(3)}%` : t.actual.toFixed(2)})`);
  for (const c of res.checker ?? []) out.push(`  checker ${c.name.padEnd(24)}${c.ok ? 'pass' : `FAIL (${c.violations?.length ?? 0} violations)`} — ${c.detail ?? ''}`);
  out.push('');
  out.push(`report: ${r.files.html}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (live !== null) {
    if (values['live-hold'] === true) {
      process.stderr.write(`perpx run: the live page stays at ${live.url} (report at ${live.url}report) — Ctrl-C to stop\n`);
      await new Promise<void>((resolveHold) => process.once('SIGINT', () => resolveHold()));
    }
    await live.close();
  }
  return r.exitCode;
}
