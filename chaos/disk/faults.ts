// Disk faults through the journal's file interface on the engine thread (the server must run
// with --chaos): slow fsync, EIO on write, ENOSPC on fsync. A failed write or fsync makes the
// journal fail-stop (every later command answers -1001 / HTTP 503; nothing unpersisted is ever
// acknowledged); clearing a fault removes it and, when the journal fail-stopped, restarts the
// server (SIGKILL + start on the same journal): a fail-stopped journal only recovers that way.
// So clear is idempotent: a second clear finds a healthy journal and does nothing.

import type { Fault, FaultContext } from '../fault.ts';
import type { DiskChaosPlan } from '../../engine/host/chaos-io.ts';
import { chaosCall } from './chaos-admin.ts';

function seedOf(ctx: FaultContext): number {
  return Math.floor(ctx.rng() * 2 ** 31);
}

function isRunning(ctx: FaultContext): boolean {
  const c = ctx.server?.child;
  return c !== undefined && c.exitCode === null && c.signalCode === null;
}

/** Set a disk plan at inject; clear it at clear, and restart when the journal fail-stopped. */
function diskFault(name: string, describe: string, plan: DiskChaosPlan): Fault {
  return {
    name,
    describe,
    async inject(ctx) {
      const status = await chaosCall(ctx, 'disk', { ...plan, seed: seedOf(ctx) });
      ctx.mark('note', `disk plan ${JSON.stringify(status.plan)} (writes ${String(status.writeCalls)}, fsyncs ${String(status.fsyncCalls)} so far)`);
    },
    async clear(ctx) {
      if (!isRunning(ctx) && ctx.server !== null) {
        await ctx.server.restart(); // died meanwhile: a fresh process has no faults
        return;
      }
      const status = await chaosCall(ctx, 'disk/clear', {});
      const failed = status.journalFailed as string | null;
      ctx.mark('note', `disk faults cleared: ${String(status.injectedCount)} injected failures${failed === null ? '' : `; journal fail-stopped: ${failed.slice(0, 200)}`}`);
      if (failed === null) return; // healthy journal (or nothing was written meanwhile): no restart
      if (ctx.server === null) throw new Error(`${name}: the journal fail-stopped and there is no embedded server to restart`);
      const t0 = ctx.nowS();
      await ctx.server.kill();
      await ctx.server.restart();
      const recovered = ctx.server.startLines.find((l) => /recovered to seq/.test(l)) ?? 'restarted';
      ctx.mark('note', `restart after the disk fault: listening after ${((ctx.nowS() - t0) * 1000).toFixed(0)} ms: ${recovered}`);
    },
  };
}

export function diskFsyncSlowFault(latencyMs = 100, jitterMs = 50): Fault {
  return diskFault('disk-fsync-slow', `every journal fsync takes ${latencyMs} + U(0, ${jitterMs}) ms longer`, { fsyncLatencyMs: latencyMs, fsyncJitterMs: jitterMs });
}

export function diskEioWriteFault(): Fault {
  return diskFault('disk-eio-write', 'the next journal write fails with EIO (journal fail-stops); cleared by restart', { errorCode: 'EIO', failWriteAfterCalls: 1 });
}

export function diskEnospcFsyncFault(): Fault {
  return diskFault('disk-enospc-fsync', 'the next journal fsync fails with ENOSPC (journal fail-stops); cleared by restart', { errorCode: 'ENOSPC', failFsyncAfterCalls: 1 });
}

const CRASH_WAIT_MS = 15_000;

/**
 * Torn write at crash: the next journal write persists a random prefix of its batch and the
 * server process is SIGKILLed in the middle of it (by the engine thread itself). Clear restarts
 * it: recovery must truncate the torn tail and keep everything acknowledged.
 */
export function diskTornWriteFault(): Fault {
  return {
    name: 'disk-torn-write',
    describe: 'the next journal write persists a random prefix, then the server is SIGKILLed mid-write; restarted at clear',
    async inject(ctx) {
      const server = ctx.server;
      if (server === null) throw new Error('disk-torn-write needs an embedded server (it kills and restarts it)');
      try {
        await chaosCall(ctx, 'disk', { tornWriteCrash: true, seed: seedOf(ctx) });
      } catch (err) {
        // The crash can beat the answer: a journal write (a clock tick every 100 ms) may run
        // between setting the plan and the reply. Only an error with the server still up counts.
        if (isRunning(ctx)) await new Promise((r) => setTimeout(r, 500));
        if (isRunning(ctx)) throw err;
      }
      let timer: NodeJS.Timeout | undefined;
      const exited = await Promise.race([
        server.exited(),
        new Promise<'still running'>((r) => { timer = setTimeout(() => r('still running'), CRASH_WAIT_MS); }),
      ]);
      clearTimeout(timer);
      ctx.mark('note', exited === 'still running' ? `no journal write within ${CRASH_WAIT_MS} ms: not crashed yet` : `server died mid-write (${String(exited)})`);
    },
    async clear(ctx) {
      const server = ctx.server;
      if (server === null) return;
      if (isRunning(ctx)) {
        await chaosCall(ctx, 'disk/clear', {});
        return;
      }
      const t0 = ctx.nowS();
      await server.restart();
      const recovered = server.startLines.filter((l) => /recover/.test(l)).join(' / ');
      ctx.mark('note', `restart after the torn write: listening after ${((ctx.nowS() - t0) * 1000).toFixed(0)} ms: ${recovered.slice(0, 400)}`);
    },
  };
}
