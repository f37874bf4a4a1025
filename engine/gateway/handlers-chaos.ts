// Chaos hooks (admin API, only with `perpx serve --chaos`; otherwise these routes do not exist
// and answer 404 like any unknown path). They make the server misbehave on purpose so the
// chaos experiments (chaos/disk, chaos/) can show what a slow or failing disk and a blocked
// event loop do to latency and to acknowledged orders.
//
//   POST /admin/v1/chaos/disk        set journal disk faults (JSON or form; see DiskChaosPlan)
//   POST /admin/v1/chaos/disk/clear  remove them (a fail-stopped journal stays stopped: restart)
//   GET  /admin/v1/chaos/disk        the current plan, call counters, injected failures
//   POST /admin/v1/chaos/loopBlock   busy-loop this gateway thread for `ms` (<= 10 000) after
//                                    answering, optionally `delayMs` later

import type { Ctx, Route } from './context.ts';
import { ok } from './context.ts';
import { apiError, GW } from './errors.ts';
import { boolParam } from './handler-kit.ts';
import type { DiskChaosPlan, GatewayChaos } from '../host/chaos-io.ts';
import type { InjectedErrorCode } from '../journal/faulty-io.ts';

export const LOOP_BLOCK_MS_MAX = 10_000;
const LOOP_BLOCK_DELAY_MS_MAX = 60_000;

function num(ctx: Ctx, name: string): number | undefined {
  const v = ctx.params.get(name);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw apiError(GW.INVALID_PARAMETER, `Parameter '${name}' must be a number.`);
  return n;
}

function diskPlan(ctx: Ctx): DiskChaosPlan {
  const known = new Set(['target', 'fsyncLatencyMs', 'fsyncJitterMs', 'errorCode', 'writeErrorProbability', 'fsyncErrorProbability', 'failWriteAfterCalls', 'failFsyncAfterCalls', 'seed', 'tornWriteCrash']);
  for (const k of ctx.params.keys()) if (!known.has(k)) throw apiError(GW.INVALID_PARAMETER, `Unknown parameter '${k.slice(0, 40)}'.`);
  const target = ctx.params.get('target');
  const errorCode = ctx.params.get('errorCode');
  return {
    target: target as DiskChaosPlan['target'],
    fsyncLatencyMs: num(ctx, 'fsyncLatencyMs'),
    fsyncJitterMs: num(ctx, 'fsyncJitterMs'),
    errorCode: errorCode as InjectedErrorCode | undefined,
    writeErrorProbability: num(ctx, 'writeErrorProbability'),
    fsyncErrorProbability: num(ctx, 'fsyncErrorProbability'),
    failWriteAfterCalls: num(ctx, 'failWriteAfterCalls'),
    failFsyncAfterCalls: num(ctx, 'failFsyncAfterCalls'),
    seed: num(ctx, 'seed'),
    tornWriteCrash: boolParam(ctx.params, 'tornWriteCrash', false) || undefined,
  };
}

/** Busy-wait: the point is to hold the event loop (a CPU-bound handler, a sync crypto call...). */
function blockLoop(ms: number): number {
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) t = performance.now();
  return t - t0;
}

function route(method: string, path: string, handler: (ctx: Ctx) => Promise<void> | void): Route {
  return { method, path, kind: 'admin', weight: 0, weightOf: null, orders: 0, mutating: false, handler };
}

/** The chaos routes (added to the admin routes only when the server runs with --chaos). */
export function chaosRoutes(chaos: GatewayChaos): Route[] {
  let blockUntilMs = 0;
  const disk = async (ctx: Ctx, op: 'set' | 'clear' | 'status'): Promise<void> => {
    if (chaos.disk === null) throw apiError(GW.INVALID_PARAMETER, 'No journal in this process (--in-process): disk faults are unavailable.');
    const plan = op === 'set' ? diskPlan(ctx) : {};
    let status;
    try {
      status = await chaos.disk(op, plan);
    } catch (e) {
      const err = e as { code?: number; message?: string };
      if (err.code === -1130) throw apiError(GW.INVALID_PARAMETER, err.message);
      throw e;
    }
    if (op !== 'status') ctx.gw.log(`CHAOS: disk faults ${op === 'set' ? `set ${JSON.stringify(status.plan)}` : 'cleared'}`);
    ok(ctx, JSON.stringify(status));
  };
  const loopBlock = (ctx: Ctx): void => {
    const ms = num(ctx, 'ms');
    const delayMs = num(ctx, 'delayMs') ?? 0;
    if (ms === undefined || ms < 1 || ms > LOOP_BLOCK_MS_MAX) throw apiError(GW.INVALID_PARAMETER, `Parameter 'ms' must be 1..${LOOP_BLOCK_MS_MAX}.`);
    if (delayMs < 0 || delayMs > LOOP_BLOCK_DELAY_MS_MAX) throw apiError(GW.INVALID_PARAMETER, `Parameter 'delayMs' must be 0..${LOOP_BLOCK_DELAY_MS_MAX}.`);
    const startMs = Date.now() + delayMs;
    if (blockUntilMs > Date.now()) throw apiError(GW.INVALID_PARAMETER, 'A loop block is already scheduled.');
    blockUntilMs = startMs + ms;
    ctx.gw.log(`CHAOS: blocking the gateway event loop for ${ms} ms in ${delayMs} ms`);
    // Answer first (the bytes leave synchronously on an open socket), then hold the loop.
    ok(ctx, JSON.stringify({ blockMs: ms, startsAtMs: startMs }));
    const block = (): void => {
      const heldMs = blockLoop(ms);
      ctx.gw.log(`CHAOS: event loop held for ${heldMs.toFixed(0)} ms`);
    };
    // setImmediate runs right after this poll phase, before any further request is read: a
    // client that sends its next request on receiving this answer always meets the block.
    if (delayMs > 0) setTimeout(block, delayMs);
    else setImmediate(block);
  };
  const A = '/admin/v1/chaos';
  return [
    route('POST', `${A}/disk`, (ctx) => disk(ctx, 'set')),
    route('POST', `${A}/disk/clear`, (ctx) => disk(ctx, 'clear')),
    route('GET', `${A}/disk`, (ctx) => disk(ctx, 'status')),
    route('POST', `${A}/loopBlock`, loopBlock),
  ];
}
