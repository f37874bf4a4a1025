// The load generator's own health as a Prometheus endpoint, for the "Load generator health"
// dashboard row: `perpx load --metrics-port P` / `perpx run --metrics-port P` (or any
// runLoad caller: pass `exporter.onProgress` as onProgress) serves GET /metrics on
// 127.0.0.1:P while the run goes on. The numbers are the coordinator's once-a-second
// Progress (harness/load.ts), so nothing is added to the workers' hot path.
//
//   perpx_loadgen_offered_rps, _sent_rps, _completed_rps   gauges, last second
//   perpx_loadgen_in_flight, _backlog                      gauges, requests outstanding / waiting for a slot
//   perpx_loadgen_schedule_lag_max_seconds                 gauge, worst send lag in the last second
//   perpx_loadgen_corrected_p99_seconds                    gauge, latest fully completed second (absent until one)
//   perpx_loadgen_sent_total, _completed_total, _errors_total   counters
//   perpx_loadgen_up                                       1 while a run is going, 0 after it ended

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Progress } from '../harness/load.ts';

export interface GeneratorExporter {
  /** http://127.0.0.1:port */
  readonly url: string;
  readonly port: number;
  /** Feed every Progress here (compose with your own onProgress). */
  onProgress(p: Progress): void;
  /** Mark the run over (perpx_loadgen_up 0) but keep serving (a last scrape sees the end). */
  finish(): void;
  close(): Promise<void>;
}

interface State {
  up: number;
  last: Progress | null;
  sentTotal: number;
  completedTotal: number;
  errorsTotal: number;
}

export function renderGeneratorMetrics(s: State, scenario: string): string {
  const l = `{scenario="${scenario.replace(/["\\\n]/g, '_')}"}`;
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number | null): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    if (value !== null && Number.isFinite(value)) lines.push(`${name}${l} ${value}`);
  };
  const p = s.last;
  metric('perpx_loadgen_up', 'gauge', '1 while a load run is going', s.up);
  metric('perpx_loadgen_offered_rps', 'gauge', 'Arrivals per second the profile offered in the last second', p?.offeredRps ?? 0);
  metric('perpx_loadgen_sent_rps', 'gauge', 'Requests sent in the last second', p?.sentRps ?? 0);
  metric('perpx_loadgen_completed_rps', 'gauge', 'Responses received in the last second', p?.completedRps ?? 0);
  metric('perpx_loadgen_in_flight', 'gauge', 'Requests sent and not yet answered', p?.inFlight ?? 0);
  metric('perpx_loadgen_backlog', 'gauge', 'Arrivals due but waiting for a free in-flight slot', p?.backlog ?? 0);
  metric('perpx_loadgen_schedule_lag_max_seconds', 'gauge', 'Worst schedule lag (actual minus intended send) in the last second', (p?.lagMaxMs ?? 0) / 1000);
  metric('perpx_loadgen_corrected_p99_seconds', 'gauge', 'Corrected p99 latency of the latest fully completed second', p?.p99Ms === null || p === null ? null : p.p99Ms / 1000);
  metric('perpx_loadgen_sent_total', 'counter', 'Requests sent since the run started', s.sentTotal);
  metric('perpx_loadgen_completed_total', 'counter', 'Responses received since the run started', s.completedTotal);
  metric('perpx_loadgen_errors_total', 'counter', 'Failed, indeterminate and dropped requests since the run started', s.errorsTotal);
  return `${lines.join('\n')}\n`;
}

/** Serve the generator's metrics on 127.0.0.1:port (0 = any free port). */
export async function startGeneratorExporter(opts: { port?: number; host?: string; scenario?: string } = {}): Promise<GeneratorExporter> {
  const state: State = { up: 1, last: null, sentTotal: 0, completedTotal: 0, errorsTotal: 0 };
  const scenario = opts.scenario ?? 'load';
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?') === true)) {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(renderGeneratorMetrics(state, scenario));
    } else {
      res.writeHead(404).end();
    }
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  server.unref(); // never what keeps a finished (or failed) run's process alive
  return {
    url: `http://${host}:${port}`,
    port,
    onProgress(p) {
      state.last = p;
      state.sentTotal += p.sentRps;
      state.completedTotal += p.completedRps;
      state.errorsTotal = Math.max(state.errorsTotal, p.errors);
    },
    finish() {
      state.up = 0;
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
