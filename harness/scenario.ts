// Scenarios: what load to offer, how to build each request, what must hold. Declared as a
// TypeScript object (`export default {...} satisfies Scenario`) or a JSON file. Normalizing
// fills every default, validates everything (profile, thresholds, factory) and returns plain
// JSON-able data, because the scenario is sent to worker threads and written into results.json.

import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, resolve, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileProfile } from './profile.ts';
import type { Profile } from './profile.ts';
import { parseThreshold } from './thresholds.ts';
import { normalizeRequestDecl } from './request.ts';
import type { RequestDecl } from './request.ts';

export interface GeneratorLimits {
  /** The run is invalid if the schedule lag p99 exceeds this (ms)... */
  maxLagP99Ms?: number;
  /** ...or if it is over 1 ms and more than this share of the corrected p99 (the generator's own
   * delay would be a large part of what the report blames on the target). */
  maxLagShareOfP99?: number;
  /** A send later than this (ms) after its intended time counts as late... */
  lateMs?: number;
  /** ...and the run is invalid if more than this fraction of sends is late. */
  maxLateFraction?: number;
  /** Invalid if a worker's event-loop utilization exceeds this while sends waited for a slot. */
  maxWorkerElu?: number;
}

export interface Scenario {
  name: string;
  description?: string;
  seed?: number;
  profile: Profile;
  arrivals?: 'uniform' | 'poisson';
  thresholds?: string[];
  request?: RequestDecl;
  workers?: number;
  /** Requests in flight per worker (= undici connections per worker). */
  maxInFlightPerWorker?: number;
  /** Connections opened before the start (TCP only; default maxInFlightPerWorker). */
  preconnectPerWorker?: number;
  /** Overdue arrivals a worker may hold while every slot is busy; beyond, arrivals are dropped. */
  maxBacklogPerWorker?: number;
  /** Per-request timeout from the actual send (ms). */
  timeoutMs?: number;
  generator?: GeneratorLimits;
  /** Binance error codes the flow produces by design (e.g. "-2011": a cancel that lost the race
   * with a fill). Still counted in error_rate; excluded from unexpected_error_rate and shown
   * apart in the report. */
  expectedErrors?: string[];
}

export interface NormalizedScenario {
  name: string;
  description: string;
  seed: number;
  profile: Profile;
  arrivals: 'uniform' | 'poisson';
  thresholds: string[];
  request: RequestDecl;
  workers: number;
  maxInFlightPerWorker: number;
  preconnectPerWorker: number;
  maxBacklogPerWorker: number;
  timeoutMs: number;
  generator: Required<GeneratorLimits>;
  expectedErrors: string[];
}

export const maxWorkers = 32;
export const maxInFlightPerWorkerLimit = 16_384;
export const maxBacklogPerWorkerLimit = 10_000_000;

// Measured on the 2-core box this was built on: wake-up lateness p99 is 0.2–0.5 ms when the
// machine is quiet, but OS scheduling under neighbours' load adds 2–5 ms to ~1% of wake-ups.
// 5 ms absolute plus the relative rule keeps runs valid when lag cannot distort the result.
export const GENERATOR_DEFAULTS: Required<GeneratorLimits> = { maxLagP99Ms: 5, maxLagShareOfP99: 0.25, lateMs: 10, maxLateFraction: 0.005, maxWorkerElu: 0.95 };

export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

function intIn(v: unknown, lo: number, hi: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new Error(`${what} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return v;
}

/** Validates and fills defaults; `baseDir` resolves relative module paths. Throws one-line Errors. */
export function normalizeScenario(raw: unknown, baseDir: string = process.cwd()): NormalizedScenario {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('scenario must be an object');
  const s = raw as Record<string, unknown>;
  if (typeof s.name !== 'string' || s.name.length === 0) throw new Error('scenario.name must be a non-empty string');
  if (s.profile === undefined) throw new Error('scenario.profile is required (e.g. {"kind":"constant","rate":100,"duration":"30s"})');
  compileProfile(s.profile as Profile);
  const arrivals = s.arrivals ?? 'uniform';
  if (arrivals !== 'uniform' && arrivals !== 'poisson') throw new Error('scenario.arrivals must be "uniform" or "poisson"');
  const thresholds = s.thresholds ?? [];
  if (!Array.isArray(thresholds)) throw new Error('scenario.thresholds must be an array of strings like "p99 < 50ms"');
  for (const t of thresholds) parseThreshold(t as string);
  const gen = (s.generator ?? {}) as Record<string, unknown>;
  const generator = { ...GENERATOR_DEFAULTS };
  for (const k of Object.keys(GENERATOR_DEFAULTS) as (keyof GeneratorLimits)[]) {
    if (gen[k] !== undefined) {
      if (typeof gen[k] !== 'number' || !(gen[k] >= 0)) throw new Error(`scenario.generator.${k} must be a number >= 0`);
      generator[k] = gen[k];
    }
  }
  const expectedErrors = s.expectedErrors ?? [];
  if (!Array.isArray(expectedErrors) || !expectedErrors.every((c) => typeof c === 'string' && /^-?\d+$/.test(c))) {
    throw new Error('scenario.expectedErrors must be an array of error codes like "-2011"');
  }
  const out: NormalizedScenario = {
    name: s.name,
    description: typeof s.description === 'string' ? s.description : '',
    seed: s.seed === undefined ? 1 : intIn(s.seed, 0, 2 ** 32 - 1, 'scenario.seed'),
    profile: s.profile as Profile,
    arrivals,
    thresholds: thresholds as string[],
    request: normalizeRequestDecl(s.request, baseDir),
    workers: s.workers === undefined ? defaultWorkers() : intIn(s.workers, 1, maxWorkers, 'scenario.workers'),
    maxInFlightPerWorker: s.maxInFlightPerWorker === undefined ? 256 : intIn(s.maxInFlightPerWorker, 1, maxInFlightPerWorkerLimit, 'scenario.maxInFlightPerWorker'),
    preconnectPerWorker: 0,
    maxBacklogPerWorker: s.maxBacklogPerWorker === undefined ? 1_000_000 : intIn(s.maxBacklogPerWorker, 0, maxBacklogPerWorkerLimit, 'scenario.maxBacklogPerWorker'),
    timeoutMs: s.timeoutMs === undefined ? 10_000 : intIn(s.timeoutMs, 1, 600_000, 'scenario.timeoutMs'),
    generator,
    expectedErrors: expectedErrors as string[],
  };
  // All of them by default: a latency hiccup that fills the in-flight slots would otherwise open
  // new connections mid-run, each ~0.5 ms of generator CPU, which stalls the generator and
  // deepens the hiccup (measured: service p99 40–65 ms against a bare target at 3,500 req/s).
  out.preconnectPerWorker = s.preconnectPerWorker === undefined
    ? out.maxInFlightPerWorker
    : intIn(s.preconnectPerWorker, 0, out.maxInFlightPerWorker, 'scenario.preconnectPerWorker');
  return out;
}

/** Loads a .json, .ts, .mjs or .js scenario file (default export or `scenario` export). */
export async function loadScenarioFile(file: string): Promise<NormalizedScenario> {
  const path = resolve(file);
  const ext = extname(path).toLowerCase();
  let raw: unknown;
  if (ext === '.json') {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new Error(`cannot read scenario ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new Error(`scenario ${file} is not valid JSON: ${(e as Error).message}`);
    }
  } else if (ext === '.ts' || ext === '.mts' || ext === '.js' || ext === '.mjs') {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`cannot load scenario ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    raw = mod.default ?? mod.scenario;
    if (raw === undefined) throw new Error(`scenario ${file} must export default (or export const scenario)`);
  } else {
    throw new Error(`scenario ${file}: expected a .json, .ts or .js file`);
  }
  try {
    return normalizeScenario(raw, dirname(path));
  } catch (e) {
    throw new Error(`scenario ${file}: ${(e as Error).message}`);
  }
}
