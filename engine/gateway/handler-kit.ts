// Small helpers every handler uses: mandatory/optional parameters with Binance error codes,
// and submitting a command to the host with engine rejections turned into API errors.

import type { Command } from '../core/commands.ts';
import type { EngineEvent } from '../core/events.ts';
import type { Ctx } from './context.ts';
import { ApiError, apiError, engineError, GW } from './errors.ts';
import type { Params } from './params.ts';
import { parseBool, parseUint } from './params.ts';

/** A mandatory parameter's value (-1102 when absent or empty). */
export function need(p: Params, name: string): string {
  const v = p.get(name);
  if (v === undefined || v === '') throw new ApiError(GW.MANDATORY_PARAM.code, 400, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
  return v;
}

/** An optional unsigned integer parameter (-1100 when not digits). */
export function uintParam(p: Params, name: string, absent: number): number {
  const v = p.get(name);
  if (v === undefined || v === '') return absent;
  const n = parseUint(v);
  if (n < 0) throw new ApiError(GW.ILLEGAL_CHARS.code, 400, `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,16}$'.`);
  return n;
}

/** `limit`: default when absent, 1..max (-1130 outside). */
export function limitParam(p: Params, absent: number, max: number): number {
  const n = uintParam(p, 'limit', absent);
  if (n < 1 || n > max) throw apiError(GW.INVALID_PARAMETER, `Parameter 'limit' must be 1..${max}.`);
  return n;
}

/** An optional boolean parameter ('true'/'false'; -1130 otherwise). */
export function boolParam(p: Params, name: string, absent: boolean): boolean {
  const v = p.get(name);
  if (v === undefined || v === '') return absent;
  const b = parseBool(v);
  if (b < 0) throw apiError(GW.INVALID_PARAMETER, `Parameter '${name}' must be true or false.`);
  return b === 1;
}

/** Submit a command; an engine rejection becomes an API error (HostError passes through). */
export async function submit(ctx: Pick<Ctx, 'gw'>, cmd: Command): Promise<EngineEvent[]> {
  const { events } = await ctx.gw.host.submit(cmd);
  const first = events[0];
  if (first !== undefined && first.type === 'reject') throw engineError(first.code, first.msg);
  return events;
}

type OrderEvent = Extract<EngineEvent, { type: 'order' }>;

/** The first order event of a command (the order it placed/modified/cancelled). */
export function firstOrderEvent(events: readonly EngineEvent[]): OrderEvent {
  for (const e of events) if (e.type === 'order') return e;
  throw new Error('accepted order command produced no order event');
}

/** The last event of one order within a command: its state after the command. */
export function lastOrderEvent(events: readonly EngineEvent[], orderId: number): OrderEvent {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'order' && e.orderId === orderId) return e;
  }
  throw new Error(`no event for order ${orderId}`);
}
