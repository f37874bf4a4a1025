// The registry of chaos experiments: `perpx chaos <name>` and `perpx chaos all` (in this order).
// To add an experiment: one import line and one entry in EXPERIMENTS (see chaos/experiment.ts).

import type { Experiment } from './experiment.ts';
import { validateExperiments } from './experiment.ts';
import { crashRestart, pause, gracefulRestart } from './process/experiments.ts';

export const EXPERIMENTS: readonly Experiment[] = [
  crashRestart,
  pause,
  gracefulRestart,
];

validateExperiments(EXPERIMENTS);

export function findExperiment(name: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name);
}
