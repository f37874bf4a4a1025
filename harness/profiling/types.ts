// What profiling adds to a RunResult (`result.profiling`, results.json) and the report's
// "Profiling" section shows. Paths are relative to the run directory.

import type { FlameNode, ProfileSummary } from './cpuprofile.ts';
import type { HeapGrowthRow } from './heapsnapshot.ts';

/** A thread's ProfileSummary (flame optional) plus where its files are. */
export interface CpuThreadProfile extends Omit<ProfileSummary, 'flame'> {
  /** "main" (gateway), "engine-thread", … */
  thread: string;
  /** The .cpuprofile (Chrome DevTools → Performance → Load profile, or speedscope). */
  file: string;
  /** speedscope's offline page with this profile loaded, when it was copied next to it. */
  speedscope?: string;
  flame?: FlameNode;
}

export interface CpuProfiling {
  /** e.g. "spike (t=35–65 s)", "whole run". */
  label: string;
  /** How it was captured: "node --cpu-prof", "admin /profile/cpu (inspector)". */
  source: string;
  fromS: number;
  toS: number;
  threads: CpuThreadProfile[];
  /** Automatic capture: the window's corrected p99 and the windows it was chosen from. */
  p99Ms?: number;
  candidates?: { fromS: number; toS: number; p99Ms: number | null }[];
}

export interface HeapThreadDiff {
  thread: string;
  beforeFile: string;
  afterFile: string;
  beforeBytes: number;
  afterBytes: number;
  beforeObjects: number;
  afterObjects: number;
  /** How long each snapshot paused the thread (ms). */
  snapshotMs: [number, number];
  rows: HeapGrowthRow[];
}

export interface HeapProfiling {
  beforeLabel: string;
  afterLabel: string;
  threads: HeapThreadDiff[];
  errors: string[];
}

export interface ClinicProfiling {
  tool: 'doctor' | 'flame' | 'heapprofiler';
  ok: boolean;
  html?: string;
  /** Why there is no report (the exact error), when ok is false. */
  failure?: string;
  /** What the HTML holds, checked after it was written (e.g. "142 KB, 1,204 samples embedded"). */
  check?: string;
}

export interface RunProfiling {
  cpu?: CpuProfiling[];
  heap?: HeapProfiling;
  clinic?: ClinicProfiling[];
  notes?: string[];
}

/** The report's anchor for a CPU block (findings link to it). */
export function cpuAnchorId(label: string): string {
  return `cpu-${label.replace(/[^A-Za-z0-9]+/g, '-')}`;
}
