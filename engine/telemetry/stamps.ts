// The plain data the host carries back with a command so that the gateway can split one
// request into stages without the engine thread ever touching OpenTelemetry.
//
//   gateway thread                      engine thread                      gateway thread
//   startMs ─decode+auth─ submitMs ─queue wait─ applyStartMs ─engine apply─ applyEndMs
//        ─journal wait (durable + reply hop back)─ replyMs ─encode+write─ endMs
//
// startMs, submitMs, replyMs and endMs are taken by the gateway (engine/telemetry). The host
// fills `EngineStamps` and returns it as `stamps` on the SubmitResult (see StampedResult):
// three numbers from nowMs() (clock.ts), structured-clone safe, no allocation needed beyond
// the result object it already sends (or three Float64 slots in a ring reply).

import type { SubmitResult } from '../host/host.ts';

export interface EngineStamps {
  /** Engine thread: this command's engine.apply started (nowMs()). */
  applyStartMs: number;
  /** Engine thread: engine.apply and projections for this command finished. */
  applyEndMs: number;
  /**
   * When the journal declared the command durable under its policy (the fsync of its group
   * commit finished; for policy `none`, when write(2) returned). 0 when there is no journal.
   */
  durableMs: number;
}

/** What a host that carries stamps resolves submit() with (`stamps` is optional). */
export type StampedResult = SubmitResult & { stamps?: EngineStamps };

/** The per-request fields the gateway keeps (on its Ctx) for telemetry; 0 = not reached. */
export interface RequestStamps {
  startMs: number;
  /** Auth passed; the route handler starts. */
  handlerMs: number;
  /** First host.submit of this request. */
  submitMs: number;
  /** That submit resolved (back on the gateway thread). */
  replyMs: number;
  engineStamps: EngineStamps | null;
  /** Sampled requests only: where the trace comes from (null = not traced). */
  trace: TraceParent | null;
}

/** A sampled request's parent: a remote W3C traceparent, or ROOT_TRACE for a new trace. */
export interface TraceParent {
  /** 32 lowercase hex digits, or '' for a new trace (the SDK makes the id). */
  traceId: string;
  /** 16 lowercase hex digits, or '' for a new trace. */
  spanId: string;
}

/** The RequestStamps fields, all unreached: the base of the REST and WS API request contexts. */
export class StampFields implements RequestStamps {
  startMs = 0;
  handlerMs = 0;
  submitMs = 0;
  replyMs = 0;
  engineStamps: EngineStamps | null = null;
  trace: TraceParent | null = null;
}

export const ROOT_TRACE: TraceParent = Object.freeze({ traceId: '', spanId: '' });
