// Arrival-rate profiles. Every profile kind compiles to one representation: piecewise-linear
// stages (rate ramps linearly from `fromRps` to `toRps` over [startS, endS)), the same model as
// k6's ramping-arrival-rate executor, so an exported k6 script offers exactly the load the
// harness offers. A sine is approximated by short linear segments (SINE_SEGMENTS_PER_PERIOD).
//
// The cumulative arrival count Λ(t) = ∫ rate is piecewise quadratic and has a closed-form
// inverse, which the arrival schedule uses: the k-th arrival is at Λ⁻¹(k + ½) (uniform) or at
// Λ⁻¹ of a unit-rate Poisson process (time rescaling), so both modes follow the profile exactly.

import { parseDurationS, formatK6Duration } from './duration.ts';
import type { Duration } from './duration.ts';

export type Profile =
  | { kind: 'constant'; rate: number; duration: Duration }
  | { kind: 'ramp'; from: number; to: number; duration: Duration }
  | { kind: 'spike'; base: number; peak: number; duration: Duration; spikeAt: Duration; spikeDuration: Duration; rampTime?: Duration }
  | { kind: 'step'; from: number; step: number; steps: number; stepDuration: Duration; rampTime?: Duration }
  | { kind: 'sine'; mean: number; amplitude: number; period: Duration; duration: Duration }
  | { kind: 'soak'; rate: number; duration: Duration; rampUp?: Duration }
  | { kind: 'stages'; startRate: number; stages: { target: number; duration: Duration; name?: string }[] };

export const PROFILE_KINDS = ['constant', 'ramp', 'spike', 'step', 'sine', 'soak', 'stages'] as const;

export interface Stage {
  readonly startS: number;
  readonly endS: number;
  readonly fromRps: number;
  readonly toRps: number;
  /** Phase label shown in progress lines and reports ("base", "spike", "step 3", ...). */
  readonly name: string;
}

export interface CompiledProfile {
  readonly stages: readonly Stage[];
  readonly durationS: number;
  /** Λ at each stage start (length stages.length + 1; last = total arrivals). */
  readonly cumulative: Float64Array;
  readonly totalArrivals: number;
  readonly peakRps: number;
}

const SINE_SEGMENTS_PER_PERIOD = 48;
const maxStages = 100_000;
const maxRateRps = 10_000_000;
const maxDurationS = 7 * 24 * 3600;

function rateOk(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > maxRateRps) {
    throw new Error(`${what}: rate must be a number of requests/s in [0, ${maxRateRps}], got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Builds stages from any profile kind; throws one-line Errors on bad input. */
export function compileProfile(profile: Profile): CompiledProfile {
  if (profile === null || typeof profile !== 'object') throw new Error('profile must be an object');
  const out: Stage[] = [];
  let t = 0;
  const push = (durationS: number, fromRps: number, toRps: number, name: string): void => {
    if (durationS < 0) throw new Error(`profile: negative stage duration in ${name}`);
    if (out.length >= maxStages) throw new Error(`profile: more than ${maxStages} stages`);
    out.push({ startS: t, endS: t + durationS, fromRps, toRps, name });
    t += durationS;
  };
  const p = profile as Profile;
  switch (p.kind) {
    case 'constant': {
      const r = rateOk(p.rate, 'constant.rate');
      push(parseDurationS(p.duration, 'constant.duration'), r, r, 'constant');
      break;
    }
    case 'ramp':
      push(parseDurationS(p.duration, 'ramp.duration'), rateOk(p.from, 'ramp.from'), rateOk(p.to, 'ramp.to'), 'ramp');
      break;
    case 'spike':
      compileSpike(p, push);
      break;
    case 'step':
      compileStep(p, push);
      break;
    case 'sine':
      compileSine(p, push);
      break;
    case 'soak': {
      const r = rateOk(p.rate, 'soak.rate');
      const totalS = parseDurationS(p.duration, 'soak.duration');
      const rampS = p.rampUp === undefined ? 0 : parseDurationS(p.rampUp, 'soak.rampUp');
      if (rampS > totalS) throw new Error('soak.rampUp must not exceed soak.duration');
      if (rampS > 0) push(rampS, 0, r, 'warm-up');
      push(totalS - rampS, r, r, 'soak');
      break;
    }
    case 'stages': {
      if (!Array.isArray(p.stages) || p.stages.length === 0) throw new Error('stages.stages must be a non-empty array');
      let from = rateOk(p.startRate, 'stages.startRate');
      p.stages.forEach((s, i) => {
        const to = rateOk(s?.target, `stages[${i}].target`);
        push(parseDurationS(s.duration, `stages[${i}].duration`), from, to, typeof s.name === 'string' ? s.name : `stage ${i + 1}`);
        from = to;
      });
      break;
    }
    default:
      throw new Error(`profile.kind must be one of ${PROFILE_KINDS.join(', ')}, got ${JSON.stringify((p as { kind?: unknown }).kind)}`);
  }
  return finish(out);
}

type Push = (durationS: number, fromRps: number, toRps: number, name: string) => void;

function compileSpike(p: Extract<Profile, { kind: 'spike' }>, push: Push): void {
  const base = rateOk(p.base, 'spike.base');
  const peak = rateOk(p.peak, 'spike.peak');
  const totalS = parseDurationS(p.duration, 'spike.duration');
  const atS = parseDurationS(p.spikeAt, 'spike.spikeAt');
  const holdS = parseDurationS(p.spikeDuration, 'spike.spikeDuration');
  const rampS = p.rampTime === undefined ? 0 : parseDurationS(p.rampTime, 'spike.rampTime');
  if (atS + 2 * rampS + holdS > totalS) throw new Error('spike: spikeAt + 2×rampTime + spikeDuration exceeds duration');
  push(atS, base, base, 'base');
  if (rampS > 0) push(rampS, base, peak, 'spike up');
  push(holdS, peak, peak, 'spike');
  if (rampS > 0) push(rampS, peak, base, 'spike down');
  push(totalS - atS - 2 * rampS - holdS, base, base, 'recovery');
}

function compileStep(p: Extract<Profile, { kind: 'step' }>, push: Push): void {
  const from = rateOk(p.from, 'step.from');
  if (typeof p.step !== 'number' || !Number.isFinite(p.step)) throw new Error('step.step must be a number (rate increment per step)');
  if (!Number.isInteger(p.steps) || p.steps < 1 || p.steps > 10_000) throw new Error('step.steps must be an integer in [1, 10000]');
  const holdS = parseDurationS(p.stepDuration, 'step.stepDuration');
  const rampS = p.rampTime === undefined ? 0 : parseDurationS(p.rampTime, 'step.rampTime');
  for (let i = 0; i < p.steps; i++) {
    const rate = rateOk(from + i * p.step, `step ${i + 1} rate`);
    if (i > 0 && rampS > 0) push(rampS, from + (i - 1) * p.step, rate, `ramp to step ${i + 1}`);
    push(holdS, rate, rate, `step ${i + 1}`);
  }
}

function compileSine(p: Extract<Profile, { kind: 'sine' }>, push: Push): void {
  const mean = rateOk(p.mean, 'sine.mean');
  const amp = rateOk(p.amplitude, 'sine.amplitude');
  if (amp > mean) throw new Error('sine.amplitude must not exceed sine.mean (rates cannot go negative)');
  const periodS = parseDurationS(p.period, 'sine.period');
  const totalS = parseDurationS(p.duration, 'sine.duration');
  if (periodS <= 0) throw new Error('sine.period must be > 0');
  const segS = periodS / SINE_SEGMENTS_PER_PERIOD;
  const rate = (ts: number): number => mean + amp * Math.sin((2 * Math.PI * ts) / periodS);
  for (let ts = 0; ts < totalS - 1e-9; ts += segS) {
    const endS = Math.min(totalS, ts + segS);
    push(endS - ts, rate(ts), rate(endS), 'sine');
  }
}

function finish(stages: Stage[]): CompiledProfile {
  const cumulative = new Float64Array(stages.length + 1);
  let peakRps = 0;
  for (let i = 0; i < stages.length; i++) {
    const s = stages[i]!;
    cumulative[i + 1] = cumulative[i]! + ((s.fromRps + s.toRps) / 2) * (s.endS - s.startS);
    peakRps = Math.max(peakRps, s.fromRps, s.toRps);
  }
  const durationS = stages.length === 0 ? 0 : stages[stages.length - 1]!.endS;
  if (!(durationS > 0)) throw new Error('profile: total duration must be > 0');
  if (durationS > maxDurationS) throw new Error(`profile: total duration over ${maxDurationS} s`);
  return { stages, durationS, cumulative, totalArrivals: cumulative[stages.length]!, peakRps };
}

function stageIndexAt(p: CompiledProfile, tS: number): number {
  // Binary search: the last stage whose startS <= tS.
  let lo = 0;
  let hi = p.stages.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (p.stages[mid]!.startS <= tS) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Rate (req/s) at time tS; 0 outside [0, durationS). */
export function rateAt(p: CompiledProfile, tS: number): number {
  if (tS < 0 || tS >= p.durationS) return 0;
  const s = p.stages[stageIndexAt(p, tS)]!;
  const spanS = s.endS - s.startS;
  return spanS === 0 ? s.toRps : s.fromRps + ((s.toRps - s.fromRps) * (tS - s.startS)) / spanS;
}

/** Λ(tS): expected arrivals in [0, tS). */
export function cumulativeAt(p: CompiledProfile, tS: number): number {
  if (tS <= 0) return 0;
  if (tS >= p.durationS) return p.totalArrivals;
  const i = stageIndexAt(p, tS);
  const s = p.stages[i]!;
  const tau = tS - s.startS;
  const spanS = s.endS - s.startS;
  const slope = spanS === 0 ? 0 : (s.toRps - s.fromRps) / spanS;
  return p.cumulative[i]! + s.fromRps * tau + (slope * tau * tau) / 2;
}

export function phaseAt(p: CompiledProfile, tS: number): string {
  if (tS >= p.durationS) return 'drain';
  return p.stages[stageIndexAt(p, Math.max(0, tS))]!.name;
}

/**
 * Λ⁻¹(mass) searching forward from stage `fromStage` (the schedule's cursor, so a whole run is
 * O(arrivals + stages)). Returns [tS, stageIndex]; tS = Infinity when mass exceeds the total.
 */
export function inverseCumulative(p: CompiledProfile, mass: number, fromStage: number): [number, number] {
  const n = p.stages.length;
  let i = fromStage;
  while (i < n - 1 && p.cumulative[i + 1]! < mass) i++;
  // Past the total (with a relative tolerance for rounding in Λ): the profile is exhausted.
  if (i >= n || mass > p.cumulative[n]! * (1 + 1e-12) + 1e-12) return [Infinity, n];
  const s = p.stages[i]!;
  const m = Math.max(0, mass - p.cumulative[i]!);
  const spanS = s.endS - s.startS;
  const halfSlope = spanS === 0 ? 0 : (s.toRps - s.fromRps) / (2 * spanS);
  let tau: number;
  if (Math.abs(halfSlope) * spanS < 1e-12 * Math.max(1, s.fromRps)) {
    tau = s.fromRps > 0 ? m / s.fromRps : 0;
  } else {
    // halfSlope·τ² + from·τ − m = 0, in the cancellation-free form.
    const disc = Math.max(0, s.fromRps * s.fromRps + 4 * halfSlope * m);
    tau = (2 * m) / (s.fromRps + Math.sqrt(disc));
  }
  return [s.startS + Math.min(spanS, Math.max(0, tau)), i];
}

/** Offered arrivals per 1-second slice: Λ(k+1) − Λ(k). */
export function offeredPerSlice(p: CompiledProfile): number[] {
  const slices = Math.ceil(p.durationS - 1e-9);
  const out: number[] = [];
  for (let k = 0; k < slices; k++) out.push(cumulativeAt(p, k + 1) - cumulativeAt(p, k));
  return out;
}

/**
 * The profile as k6 ramping-arrival-rate stages (rates per second, not yet rounded: k6 wants
 * integers per timeUnit, which k6-export.ts chooses). A jump becomes a 0 s stage.
 */
export function toK6Stages(p: CompiledProfile): { startRate: number; stages: { target: number; duration: string }[] } {
  const stages: { target: number; duration: string }[] = [];
  let current = p.stages[0]!.fromRps;
  for (const s of p.stages) {
    if (s.fromRps !== current) stages.push({ target: s.fromRps, duration: '0s' });
    stages.push({ target: s.toRps, duration: formatK6Duration(s.endS - s.startS) });
    current = s.toRps;
  }
  return { startRate: p.stages[0]!.fromRps, stages };
}
