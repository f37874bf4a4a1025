// Child-process entry for clinic.ts: runs one clinic tool's programmatic API (collect, then
// visualize) around `perpx serve`. It lives in its own process because clinic's collect()
// inherits stdio, writes trace files into the working directory and installs SIGINT
// handlers: here stdout/stderr go to the run's clinic log and the cwd is the clinic dir.
//
//   node clinic-runner.ts '{"tool":"doctor","dest":"/abs/dir","argv":["/abs/serve.ts","--port","1234",...]}'
//
// IPC: the parent sends "stop" → SIGINT to the server (a descendant of this process; 0x
// spawns it itself, so it is found in /proc by its command line). The runner answers
// {kind:"done", html, dataDir} or {kind:"error", message} and exits.

import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';

type Tool = 'doctor' | 'flame' | 'heapprofiler';

interface ClinicTool {
  collect(args: string[], cb: (err: Error | null, dataDir: string) => void): void;
  visualize(dataDir: string, outputFile: string, cb: (err: Error | null) => void): void;
}

const PACKAGE: Record<Tool, string> = { doctor: '@clinic/doctor', flame: '@clinic/flame', heapprofiler: '@clinic/heap-profiler' };

const require = createRequire(import.meta.url);
const opts = JSON.parse(process.argv[2] ?? '{}') as { tool: Tool; dest: string; argv: string[]; needle: string };
const send = (m: unknown): void => { process.send?.(m); };

/** Processes under `root` (any depth) whose command line contains `needle`. */
function descendants(root: number, needle: string): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* exited */ }
  }
  const out: number[] = [];
  for (const pid of parent.keys()) {
    let p: number | undefined = pid;
    while (p !== undefined && p > 1 && p !== root) p = parent.get(p);
    if (p !== root || pid === root) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) out.push(pid);
    } catch { /* exited */ }
  }
  return out;
}

process.on('message', (m) => {
  if (m !== 'stop') return;
  for (const pid of descendants(process.pid, opts.needle)) {
    try { process.kill(pid, 'SIGINT'); } catch { /* gone */ }
  }
});

const Ctor = require(PACKAGE[opts.tool]) as new (o: Record<string, unknown>) => ClinicTool;
const tool = new Ctor({ dest: opts.dest, name: 'server', debug: false });
tool.collect([process.execPath, ...opts.argv], (err, dataDir) => {
  if (err !== null && err !== undefined) {
    send({ kind: 'error', message: `collect: ${err.message}` });
    process.exit(1);
  }
  const html = `${dataDir.replace(/\/$/, '')}.html`;
  tool.visualize(dataDir, html, (err2) => {
    if (err2 !== null && err2 !== undefined) send({ kind: 'error', message: `visualize: ${err2.message}` });
    else send({ kind: 'done', html, dataDir });
    // Let the IPC message flush before exiting.
    setTimeout(() => process.exit(0), 100);
  });
});
