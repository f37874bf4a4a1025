// A `perpx serve` child process under the harness's control: started on a free port with its
// own data dir and a random admin token, its output kept in a log file, and stoppable,
// killable (SIGKILL, SIGSTOP/SIGCONT) and restartable on the same port and data dir, so a
// load generator aimed at `url` keeps aiming at the same server across a crash.
// Used by `perpx run` (campaign.ts), the chaos experiments and the profilers.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVE_SCRIPT = fileURLToPath(new URL('../engine/gateway/serve.ts', import.meta.url));
// Generous: a start under a loaded 2-core box (recovery + worker + journal open) took up to 26 s here.
const START_TIMEOUT_MS = 60_000;

export interface EmbeddedServerOptions {
  /** Journal and key store directory (kept across restarts). */
  dataDir: string;
  /** Server stdout+stderr are appended here (across restarts). */
  logFile: string;
  /** Journal policy: fsync | interval:<ms> | none. */
  fsync?: string;
  /** Extra JSON merged into the server config file (written next to the data dir). */
  config?: Record<string, unknown>;
  /** Extra `perpx serve` arguments (e.g. ['--in-process']). */
  extraArgs?: string[];
  /** Extra node flags before the script (e.g. ['--cpu-prof', '--cpu-prof-dir=...']). */
  nodeArgs?: string[];
  /** Extra environment for the child. */
  env?: Record<string, string>;
  /** Use this admin token instead of a random one. */
  adminToken?: string;
  /** Listen port for the first start (0 = any free port; restarts reuse the chosen one). */
  port?: number;
  /** Disable the per-key rate limiter (load runs) — default true. */
  noRateLimit?: boolean;
  log?: (line: string) => void;
}

export interface EmbeddedServer {
  readonly url: string;
  readonly port: number;
  readonly adminToken: string;
  /** The current child (changes on restart). */
  readonly child: ChildProcess;
  readonly pid: number;
  /** How many times the server was started (1 after the first start). */
  readonly starts: number;
  /** Lines the server printed at its last start that mention recovery, the policy or a warning. */
  readonly startLines: string[];
  /** Resolves with the exit code (or signal name) of the current child. */
  exited(): Promise<number | string | null>;
  /** Send a signal to the current child (SIGKILL, SIGSTOP, SIGCONT, SIGTERM...). */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same port and data dir (after a kill or a stop); resolves when listening. */
  restart(): Promise<void>;
  /** SIGTERM (graceful: queued commands finish) and wait; SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<number | string | null>;
}

/** Start `perpx serve` as a child process; resolves once it prints its listening line. */
export async function startEmbeddedServer(opts: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const adminToken = opts.adminToken ?? randomBytes(24).toString('hex');
  mkdirSync(opts.dataDir, { recursive: true });
  const configFile = join(dirname(opts.dataDir), `${basenameOf(opts.dataDir)}-config.json`);
  writeFileSync(configFile, JSON.stringify(opts.config ?? {}, null, 2));
  const out: WriteStream = createWriteStream(opts.logFile, { flags: 'a' });
  let port = opts.port ?? 0;
  let child!: ChildProcess;
  let exitedP!: Promise<number | string | null>;
  let starts = 0;
  let url = '';
  let startLines: string[] = [];

  const launch = async (): Promise<void> => {
    const args = [
      ...(opts.nodeArgs ?? []), SERVE_SCRIPT, '--port', String(port), '--host', '127.0.0.1', '--data', opts.dataDir,
      '--fsync', opts.fsync ?? 'fsync', '--config', configFile,
      ...(opts.noRateLimit === false ? [] : ['--no-rate-limit']), ...(opts.extraArgs ?? []),
    ];
    const c = spawn(process.execPath, args, { env: { ...process.env, ...opts.env, PERPX_ADMIN_TOKEN: adminToken }, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    starts++;
    let text = '';
    const onData = (d: Buffer): void => {
      out.write(d);
      if (text.length < 1 << 20) text += d.toString();
    };
    c.stdout!.on('data', onData);
    c.stderr!.on('data', onData);
    exitedP = new Promise((res) => c.on('exit', (code, sig) => res(code ?? sig)));
    url = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => { clearInterval(poll); rej(new Error(`perpx serve did not start within ${START_TIMEOUT_MS / 1000} s:\n${text.slice(-2000)}`)); }, START_TIMEOUT_MS);
      const poll = setInterval(() => {
        const m = /listening on (http:\/\/\S+)/.exec(text);
        if (m !== null) {
          clearTimeout(timer);
          clearInterval(poll);
          res(m[1]!);
        }
      }, 10);
      void exitedP.then((code) => {
        clearTimeout(timer);
        clearInterval(poll);
        rej(new Error(`perpx serve exited (${String(code)}) before listening:\n${text.slice(-2000)}`));
      });
    });
    port = Number(new URL(url).port);
    startLines = text.split('\n').filter((l) => /fsync policy|recover|WARNING|no-fsync/i.test(l));
    for (const l of startLines) opts.log?.(`server: ${l}`);
  };

  await launch();
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  const server: EmbeddedServer = {
    get url() { return url; },
    get port() { return port; },
    adminToken,
    get child() { return child; },
    get pid() { return child.pid ?? -1; },
    get starts() { return starts; },
    get startLines() { return startLines; },
    exited: () => exitedP,
    signal(sig) { if (isRunning()) child.kill(sig); },
    async kill() {
      if (isRunning()) child.kill('SIGKILL');
      await exitedP;
    },
    async restart() {
      if (isRunning()) throw new Error('restart: the server is still running (kill or stop it first)');
      await launch();
    },
    async stop(graceMs = 15_000) {
      if (isRunning()) {
        child.kill('SIGCONT'); // a paused server cannot handle SIGTERM
        child.kill('SIGTERM');
        const timer = setTimeout(() => { if (isRunning()) child.kill('SIGKILL'); }, graceMs);
        const code = await exitedP;
        clearTimeout(timer);
        out.end();
        return code;
      }
      out.end();
      return exitedP;
    },
  };
  return server;
}

function basenameOf(p: string): string {
  const parts = p.split(/[\\/]/).filter((s) => s.length > 0);
  return parts.at(-1) ?? 'server';
}

/** POST a form to the admin API; throws with the server's answer on a non-2xx status. */
export async function adminPost(url: string, token: string, path: string, params: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/admin/v1/${path}`, {
    method: 'POST', headers: { 'x-perpx-admin': token, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString(),
  });
  const body = await res.json() as Record<string, unknown>;
  if (!res.ok) throw new Error(`admin ${path} → ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** GET from the admin API. */
export async function adminGet<T = Record<string, unknown>>(url: string, token: string, path: string): Promise<T> {
  const res = await fetch(`${url}/admin/v1/${path}`, { headers: { 'x-perpx-admin': token } });
  const body = await res.json() as T;
  if (!res.ok) throw new Error(`admin ${path} → ${res.status} ${JSON.stringify(body)}`);
  return body;
}
