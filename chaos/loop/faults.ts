// A blocked event loop in the gateway thread (a synchronous CPU-bound handler, a huge JSON
// parse, a sync crypto call): the server's chaos hook busy-loops that thread for `blockMs`
// (at most 10 s, enforced by the server) right after answering. The fault's clear waits until
// the gateway answers again, so nothing is left running.

import type { Fault } from '../fault.ts';
import { chaosCall } from '../disk/chaos-admin.ts';

const ANSWER_AGAIN_WITHIN_MS = 20_000;

export function gatewayLoopBlockFault(blockMs = 2_000): Fault {
  return {
    name: 'gateway-loop-block',
    describe: `busy-loop the gateway's event loop for ${blockMs} ms (no request is read or answered meanwhile)`,
    async inject(ctx) {
      await chaosCall(ctx, 'loopBlock', { ms: blockMs });
    },
    async clear(ctx) {
      const t0 = Date.now();
      for (;;) {
        try {
          const res = await fetch(`${ctx.serverUrl}/fapi/v1/ping`, { signal: AbortSignal.timeout(2_000) });
          await res.arrayBuffer();
          if (res.ok) break;
        } catch { /* still blocked */ }
        if (Date.now() - t0 > ANSWER_AGAIN_WITHIN_MS) throw new Error(`gateway did not answer within ${ANSWER_AGAIN_WITHIN_MS} ms after the loop block`);
        await new Promise((r) => setTimeout(r, 100));
      }
      ctx.mark('note', `gateway answering again ${Date.now() - t0} ms after clear started`);
    },
  };
}
