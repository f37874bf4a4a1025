// The registry of chaos experiments: `perpx chaos <name>` and `perpx chaos all` (in this order).
// To add an experiment: one import line and one entry in EXPERIMENTS (see chaos/experiment.ts).

import type { Experiment } from './experiment.ts';
import { validateExperiments } from './experiment.ts';
import { crashRestart, pause, gracefulRestart } from './process/experiments.ts';
import { NET_EXPERIMENTS } from './net/experiments.ts';
import { DISK_EXPERIMENTS } from './disk/experiments.ts';
import { gatewayLoopBlock } from './loop/experiments.ts';
import { MARKET_EXPERIMENTS } from './market/experiments.ts';
import { CLOCK_EXPERIMENTS } from './clock/experiments.ts';
import { LOAD_EXPERIMENTS } from './load/experiments.ts';
import { RESOURCE_EXPERIMENTS } from './resource/experiments.ts';

export const EXPERIMENTS: readonly Experiment[] = [
  crashRestart,
  pause,
  gracefulRestart,
  ...NET_EXPERIMENTS,
  ...DISK_EXPERIMENTS,
  gatewayLoopBlock,
  ...MARKET_EXPERIMENTS,
  ...CLOCK_EXPERIMENTS,
  ...LOAD_EXPERIMENTS,
  ...RESOURCE_EXPERIMENTS,
];

validateExperiments(EXPERIMENTS);

export function findExperiment(name: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name);
}
