// The contract between a fault and the experiment runner. A fault is injected at a planned
// time, stays for a bounded duration, and is cleared by `clear` — which must be idempotent
// and leave nothing running (no timers, sockets, child processes, stopped processes). Every
// random choice a fault makes comes from `ctx.rng`, which the runner seeds from the
// experiment seed, so the same seed gives the same schedule.

import type { EmbeddedServer } from '../harness/embedded-server.ts';
import { Rng } from '../harness/rng.ts';

/** One line of an experiment's fault timeline (seconds since the load started). */
export interface FaultEvent {
  tS: number;
  kind: 'inject' | 'clear' | 'detect' | 'recover' | 'note';
  fault: string;
  detail: string;
}

export interface FaultContext {
  /** The server under test (process control: signal, kill, restart). Null against an external target. */
  server: EmbeddedServer | null;
  /** Base URL of the server itself (not a proxy in front of it). */
  serverUrl: string;
  adminToken: string;
  /** Seeded uniform [0, 1) source for this fault's random choices. */
  rng: () => number;
  /** Seconds since the load started (the timeline's clock). */
  nowS: () => number;
  /** Append an event to the timeline (the runner stamps inject/clear itself). */
  mark: (kind: FaultEvent['kind'], detail: string) => void;
  log: (line: string) => void;
  /** Aborted when the experiment is cancelled: long-running injections must stop promptly. */
  signal: AbortSignal;
}

export interface Fault {
  /** Short id used in tables and timelines, e.g. "sigkill", "latency-200ms", "index-shock". */
  readonly name: string;
  /** One line: what is injected. */
  readonly describe: string;
  /** Inject the fault. Resolves once it is in effect. */
  inject(ctx: FaultContext): Promise<void>;
  /** Clear it. Idempotent; must leave nothing running. */
  clear(ctx: FaultContext): Promise<void>;
}

/** A fault planned at `atS` seconds after the load starts, held for `forS` seconds. */
export interface PlannedFault {
  atS: number;
  forS: number;
  fault: Fault;
}

/** Each fault gets its own stream of the experiment seed (seed + index), from harness/rng.ts. */
export function seededRng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.float();
}
