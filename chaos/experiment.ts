// What a chaos experiment is (Jepsen-style: load + nemesis schedule + checker, plus Chaos
// Engineering's steady-state hypothesis). The runner (chaos/runner.ts) does the common work for
// every experiment: start an embedded `perpx serve`, create and fund accounts, run the load with
// a recorded history, inject/clear the planned faults by time while recording a timeline, then
// check the history, compare the recovered state hash with a replay on a fresh process, and
// measure time to detect / time to recover from the per-second series.
//
// An experiment only declares: its load profile, its fault schedule (a pure function of the
// seed), the steady-state thresholds and, optionally, server options and a hook to put something
// (e.g. a fault proxy) between the load and the server.
//
// To add one: write `chaos/<area>/<name>.ts` exporting an `Experiment`, then add one import line
// and one array entry in chaos/experiments.ts.

import type { PlannedFault } from './fault.ts';
import type { EmbeddedServer } from '../harness/embedded-server.ts';
import type { Profile } from '../harness/profile.ts';
import type { Scenario } from '../harness/scenario.ts';
import type { CheckerResult } from '../harness/result.ts';

/** A funded trading account (API key + secret), as created through /admin/v1/account. */
export interface ChaosAccount {
  apiKey: string;
  secretKey: string;
}

/** Input of `Experiment.plan`: everything the schedule may depend on. */
export interface PlanInput {
  /** The experiment seed (`--seed`, default 1). Every random choice derives from it. */
  seed: number;
  /** `--quick`: the short profile; plan fewer/shorter faults accordingly. */
  quick: boolean;
  /** Length of the load run in seconds (from the chosen profile). */
  durationS: number;
  /** Experiment-specific numeric options from the CLI, e.g. `--kills 100` → { kills: 100 }. */
  options: Readonly<Record<string, number>>;
  /**
   * Seconds the embedded server took to start (listening) in this run; undefined when planning
   * without a server (`perpx chaos list`, tests). Experiments that restart the server size the
   * gaps between faults with it, so a slow machine gets a longer run, not fewer faults.
   */
  serverStartS?: number;
}

/** Given to `ExperimentPlan.setup` once the server runs and the accounts are funded, before the load. */
export interface SetupContext {
  server: EmbeddedServer;
  /** Base URL of the server itself. */
  serverUrl: string;
  adminToken: string;
  accounts: readonly ChaosAccount[];
  /** The run directory (reports/runs/<id>/): put any extra artefacts here. */
  runDir: string;
  log: (line: string) => void;
}

/** One run of an experiment, built by `Experiment.plan`. Must not start anything itself. */
export interface ExperimentPlan {
  /** The fault schedule, relative to the load start. Same seed → same list. */
  faults: PlannedFault[];
  /**
   * Minimum seconds between one fault's clear completing and the next inject (default 0): a
   * planned inject that comes sooner waits, and the timeline shows the real time. Crash
   * experiments use it so the restarted server serves load between two kills.
   */
  settleS?: number;
  /** Start helpers (e.g. a fault proxy). Runs before the load; the runner always calls teardown after. */
  setup?: (ctx: SetupContext) => Promise<void>;
  /** The URL the load generator should aim at (e.g. the proxy's); default: the server URL. Called after setup. */
  loadUrl?: (serverUrl: string) => string;
  /** Stop whatever setup started. Idempotent; called even when setup or the load failed. */
  teardown?: () => Promise<void>;
  /** Extra invariants checked after the load (e.g. insurance fund never negative). */
  verify?: (ctx: SetupContext) => Promise<CheckerResult[]>;
}

/**
 * The steady-state hypothesis: what "healthy" means for one second of the run. Evaluated on the
 * per-second series before the first fault (must hold: otherwise the run proves nothing) and
 * after the last fault clears (must hold again within `recoverWithinS`).
 */
export interface SteadyState {
  /** A second is healthy when its corrected p99 is at or under this (ms)... */
  p99Ms: number;
  /** ...and at most this share of its requests failed or timed out (default 0.001). */
  maxFailRatio?: number;
  /** The system must be healthy again this many seconds after the last fault clears. */
  recoverWithinS: number;
}

/** Server options an experiment may need (merged into the embedded server's defaults). */
export interface ExperimentServerOptions {
  /** Extra `perpx serve` arguments, e.g. ['--chaos'] to enable the server's chaos hooks. */
  extraArgs?: string[];
  /** Extra JSON merged into the server config. */
  config?: Record<string, unknown>;
  /** Journal policy (default fsync). */
  fsync?: string;
  env?: Record<string, string>;
}

export interface Experiment {
  /** CLI name: `perpx chaos <name>`. Lower-case, dashes. */
  name: string;
  /** One line: what is injected (shown in `perpx chaos list`, --help and the table). */
  fault: string;
  /** One or two sentences: what a passing run proves. */
  proves: string;
  /** Arrival-rate profiles; `quick` should finish in well under a minute, `full` in <= 2 minutes. */
  load: { quick: Profile; full: Profile };
  /** Optional: a profile that depends on the CLI options (e.g. more kills need a longer run); overrides `load`. */
  loadFor?: (input: { quick: boolean; seed: number; options: Readonly<Record<string, number>>; serverStartS?: number }) => Profile;
  steadyState: SteadyState;
  server?: ExperimentServerOptions;
  /** Change the default load scenario (signed Binance order flow over the funded accounts). */
  scenario?: (base: Scenario) => Scenario;
  /** Build the fault schedule (pure: no side effects; the runner calls it once per run). */
  plan: (input: PlanInput) => ExperimentPlan;
  /** Numeric CLI options this experiment accepts (`--<name> N`) with a one-line description. */
  optionsHelp?: Record<string, string>;
  /** Skip the replay-hash check (e.g. an experiment whose server cannot be restarted). Default false. */
  skipReplayCheck?: boolean;
}

/** Experiment names must be CLI-safe and unique; throws a one-line Error otherwise. */
/** One line of an experiment's own verification (a violation listed when it fails). */
export function check(name: string, ok: boolean, detail: string): CheckerResult {
  return ok ? { name, ok, detail } : { name, ok, detail, violations: [{ message: detail }] };
}

export function validateExperiments(list: readonly Experiment[]): void {
  const seen = new Set<string>();
  for (const e of list) {
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(e.name)) throw new Error(`experiment name must be lower-case letters, digits and dashes: ${JSON.stringify(e.name)}`);
    if (seen.has(e.name)) throw new Error(`duplicate experiment name: ${e.name}`);
    seen.add(e.name);
  }
}
