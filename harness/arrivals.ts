// The arrival schedule of one worker. The run's arrivals are split across W workers without
// coordination: in cumulative-count space ("mass" Λ), worker w of W owns
//   uniform: the global arrivals k·W + w, at mass k·W + w + ½ — interleaved, so the union of all
//            workers is exactly the single-generator uniform schedule;
//   poisson: a Poisson process of rate λ(t)/W (mass steps of W·Exp(1), seeded per worker) — the
//            superposition of W independent Poisson processes of rate λ/W is Poisson of rate λ.
// Times are seconds from the run start; `seq` is a run-unique arrival id.

import { inverseCumulative } from './profile.ts';
import type { CompiledProfile } from './profile.ts';
import { Rng, deriveSeed } from './rng.ts';

export type ArrivalMode = 'uniform' | 'poisson';

export class ArrivalSchedule {
  /** Seconds from run start of the current arrival; Infinity once the profile is exhausted. */
  tS = 0;
  /** Run-unique id of the current arrival. */
  seq = 0;
  private mass: number;
  private stage = 0;
  private k = 0;
  private readonly rng: Rng | null;
  private readonly profile: CompiledProfile;
  private readonly workerIndex: number;
  private readonly workerCount: number;

  constructor(profile: CompiledProfile, mode: ArrivalMode, workerIndex: number, workerCount: number, seed: number) {
    if (!(workerIndex >= 0 && workerIndex < workerCount)) throw new Error(`worker index ${workerIndex} out of [0, ${workerCount})`);
    this.profile = profile;
    this.workerIndex = workerIndex;
    this.workerCount = workerCount;
    this.rng = mode === 'poisson' ? new Rng(deriveSeed(seed, workerIndex)) : null;
    this.mass = this.rng === null ? workerIndex + 0.5 : workerCount * this.rng.exp1();
    this.locate();
  }

  /** Moves to the next arrival. */
  advance(): void {
    this.k++;
    this.mass += this.rng === null ? this.workerCount : this.workerCount * this.rng.exp1();
    this.locate();
  }

  private locate(): void {
    const [tS, stage] = inverseCumulative(this.profile, this.mass, this.stage);
    // Arrivals are non-decreasing in time: the cursor never moves backwards.
    if (tS < this.tS) throw new Error(`arrival schedule went backwards: ${tS} < ${this.tS}`);
    this.tS = tS;
    this.stage = stage;
    this.seq = this.k * this.workerCount + this.workerIndex;
  }
}
