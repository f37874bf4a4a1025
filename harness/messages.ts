// Messages between the coordinator (load.ts) and the load workers (worker.ts).

import type { MessagePort } from 'node:worker_threads';
import type { NormalizedScenario } from './scenario.ts';
import type { PacerShared } from './pacer.ts';

export interface WorkerInit {
  scenario: NormalizedScenario;
  targetUrl: string;
  workerIndex: number;
  workerCount: number;
  pacerShared: PacerShared;
  pacerPort: MessagePort;
  /** Per-worker NDJSON history file, or null to keep no history. */
  historyPath: string | null;
}

/** Counts for one 1-second slice, keyed by intended send time. */
export interface SliceCounts {
  /** Arrivals the schedule placed in this second. */
  intended: number;
  sent: number;
  ok: number;
  fail: number;
  info: number;
  /** Arrivals dropped because the backlog was full (never sent). */
  dropped: number;
  /** Sends that waited for a free in-flight slot. */
  capBlocked: number;
  /** Sends later than `lateMs` after their reference time (generator lag). */
  late: number;
  lagMaxMs: number;
}

export interface SliceMessage {
  type: 'slice';
  worker: number;
  index: number;
  corrected: string;
  service: string;
  counts: SliceCounts;
  errors: Record<string, number>;
}

export interface TickMessage {
  type: 'tick';
  worker: number;
  second: number;
  sent: number;
  completed: number;
  inFlight: number;
  backlog: number;
  lagMaxMs: number;
}

export interface WorkerTotals {
  /** Serialized schedule-lag histogram (µs). */
  lag: string;
  sentBySecond: number[];
  completedBySecond: number[];
  eldP99MsBySecond: number[];
  eldMaxMsBySecond: number[];
  eluBySecond: number[];
  cpuPctBySecond: number[];
  eldP50Ms: number;
  eldP99Ms: number;
  eldMaxMs: number;
  elu: number;
  cpuPct: number;
  ops: Record<string, { sent: number; ok: number; fail: number; info: number }>;
  history: { lines: number; bytes: number; flushes: number } | null;
}

export interface DoneMessage {
  type: 'done';
  worker: number;
  totals: WorkerTotals;
}

export interface ErrorMessage {
  type: 'error';
  worker: number;
  message: string;
}

export type FromWorker = { type: 'ready'; worker: number } | SliceMessage | TickMessage | DoneMessage | ErrorMessage;
export type ToWorker = { type: 'start'; startMs: number } | { type: 'abort' };
