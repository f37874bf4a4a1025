// Run `perpx serve` under one clinic.js tool (doctor, flame, heapprofiler) through clinic's
// programmatic packages, in a runner child (clinic-runner.ts) so that clinic's inherited
// stdio, trace files and signal handlers stay out of the harness. The server gets a fixed
// free port, a random admin token and the same journal/config layout as the embedded server,
// so the default campaign can aim at it with `target` + `adminToken`.
//
//   const s = await startClinicServer('doctor', { dir: '<run>/clinic', dataDir, configFile });
//   ... load against s.url ...
//   const out = await s.stop();   // { ok: true, html } or { ok: false, failure }

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVE_SCRIPT } from '../embedded-server.ts';

export type ClinicTool = 'doctor' | 'flame' | 'heapprofiler';
export const CLINIC_TOOLS: readonly ClinicTool[] = ['doctor', 'flame', 'heapprofiler'];

const RUNNER = fileURLToPath(new URL('./clinic-runner.ts', import.meta.url));
const EXIT_SHIM = fileURLToPath(new URL('./clinic-exit-shim.ts', import.meta.url));
const START_TIMEOUT_MS = 90_000;
/** collect + visualize after the stop (flame's 0x processing of a 100 s run is the slowest). */
const FINISH_TIMEOUT_MS = 300_000;

export interface ClinicServerOptions {
  /** Clinic output directory (data dir and HTML go here; the runner's log too). */
  dir: string;
  /** The server's journal directory. */
  dataDir: string;
  /** Server config JSON (merged like the embedded server's). */
  config?: Record<string, unknown>;
  fsync?: string;
  log?: (line: string) => void;
}

export type ClinicOutcome = { ok: true; html: string; dataDir: string } | { ok: false; failure: string };

export interface ClinicServer {
  readonly url: string;
  readonly adminToken: string;
  readonly logFile: string;
  /** SIGINT the server, wait for clinic to collect and render; never throws. */
  stop(): Promise<ClinicOutcome>;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export async function startClinicServer(tool: ClinicTool, opts: ClinicServerOptions): Promise<ClinicServer> {
  mkdirSync(opts.dir, { recursive: true });
  mkdirSync(opts.dataDir, { recursive: true });
  const configFile = join(opts.dir, 'server-config.json');
  writeFileSync(configFile, JSON.stringify(opts.config ?? {}, null, 2));
  const port = await freePort();
  const adminToken = randomBytes(24).toString('hex');
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(opts.dir, `${tool}.log`);
  const fd = openSync(logFile, 'a');
  // flame (0x) reads V8's --prof log, which needs no flush; the others need the shim.
  const argv = [...(tool === 'flame' ? [] : ['--import', EXIT_SHIM]), SERVE_SCRIPT, '--port', String(port), '--host', '127.0.0.1', '--data', opts.dataDir, '--fsync', opts.fsync ?? 'fsync', '--config', configFile, '--no-rate-limit'];
  const child = spawn(process.execPath, [RUNNER, JSON.stringify({ tool, dest: opts.dir, argv, needle: SERVE_SCRIPT })], {
    cwd: opts.dir, stdio: ['ignore', fd, fd, 'ipc'],
    env: { ...process.env, PERPX_ADMIN_TOKEN: adminToken, NO_INSIGHT: '1', ...(tool === 'doctor' ? { PERPX_CLINIC_WORKER_NAMES: '1' } : {}) },
  });
  closeSync(fd);
  let outcome: ClinicOutcome | null = null;
  child.on('message', (m: { kind: string; html?: string; dataDir?: string; message?: string }) => {
    outcome = m.kind === 'done' ? { ok: true, html: m.html!, dataDir: m.dataDir! } : { ok: false, failure: m.message ?? 'unknown clinic failure' };
  });
  const exited = new Promise<number | string | null>((res) => child.on('exit', (code, sig) => res(code ?? sig)));
  let alive = true;
  void exited.then(() => { alive = false; });

  // Up when /healthz answers (clinic's preloads make the start slower than a plain serve).
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (!alive) throw new Error(`clinic ${tool}: the server exited before listening (see ${logFile})`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`clinic ${tool}: the server did not answer /healthz within ${START_TIMEOUT_MS / 1000} s (see ${logFile})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  opts.log?.(`perpx profile: clinic ${tool} is collecting from a perpx serve on ${url}`);

  return {
    url, adminToken, logFile,
    async stop() {
      if (alive) child.send('stop');
      const timer = setTimeout(() => { if (alive) child.kill('SIGKILL'); }, FINISH_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      if (outcome !== null) return outcome;
      return { ok: false, failure: `clinic ${tool} runner exited (${String(code)}) without a report; see ${logFile}` };
    },
  };
}
