// Process faults on the embedded `perpx serve` child: SIGKILL then restart (recovery from the
// journal), SIGSTOP/SIGCONT (a frozen process: sockets stay open, nothing answers) and a
// graceful restart (SIGTERM: finish queued commands, final fsync and snapshot; then start).
// Each `clear` is idempotent and leaves the server running (continued, or restarted on the
// same port and data dir), so a failed experiment never leaves a stopped or dead server behind.

import type { EmbeddedServer } from '../../harness/embedded-server.ts';
import type { Fault, FaultContext } from '../fault.ts';

export function isRunning(server: EmbeddedServer): boolean {
  return server.child.exitCode === null && server.child.signalCode === null;
}

function needServer(ctx: FaultContext, what: string): EmbeddedServer {
  if (ctx.server === null) throw new Error(`${what} needs an embedded server (process faults cannot reach an external target)`);
  return ctx.server;
}

/** Restart if down and record the recovery line the server printed. */
async function ensureUp(ctx: FaultContext, server: EmbeddedServer): Promise<void> {
  if (isRunning(server)) return;
  const t0 = ctx.nowS();
  await server.restart();
  const recovered = server.startLines.find((l) => /recovered to seq/.test(l)) ?? 'restarted';
  ctx.mark('note', `restart #${server.starts - 1} listening after ${((ctx.nowS() - t0) * 1000).toFixed(0)} ms: ${recovered}`);
}

/** SIGKILL (no chance to flush anything), then, at clear, restart on the same port and data dir. */
export function sigkillFault(): Fault {
  return {
    name: 'sigkill',
    describe: 'SIGKILL the server process; restart it on the same port and journal when the fault clears',
    async inject(ctx) {
      const server = needServer(ctx, 'sigkill');
      await server.kill();
    },
    async clear(ctx) {
      await ensureUp(ctx, needServer(ctx, 'sigkill'));
    },
  };
}

/** SIGSTOP: the process freezes with its sockets open; SIGCONT at clear. */
export function pauseFault(): Fault {
  return {
    name: 'sigstop',
    describe: 'SIGSTOP the server process (frozen, connections stay open); SIGCONT when the fault clears',
    async inject(ctx) {
      needServer(ctx, 'sigstop').signal('SIGSTOP');
    },
    async clear(ctx) {
      const server = needServer(ctx, 'sigstop');
      server.signal('SIGCONT');
      await ensureUp(ctx, server); // it may have been killed meanwhile; never leave it down
    },
  };
}

/** SIGTERM and wait for the exit (queued commands finish, final fsync), restart at clear. */
export function gracefulRestartFault(graceMs = 10_000): Fault {
  return {
    name: 'sigterm',
    describe: 'SIGTERM the server (graceful: stop accepting, finish queued commands, final fsync and snapshot); restart when the fault clears',
    async inject(ctx) {
      const server = needServer(ctx, 'sigterm');
      if (!isRunning(server)) return;
      // Not server.stop(): that also closes the log stream the restarted child writes to.
      server.signal('SIGTERM');
      const timer = setTimeout(() => server.signal('SIGKILL'), graceMs);
      const code = await server.exited();
      clearTimeout(timer);
      ctx.mark('note', `graceful stop exited with ${String(code)}`);
    },
    async clear(ctx) {
      await ensureUp(ctx, needServer(ctx, 'sigterm'));
    },
  };
}
