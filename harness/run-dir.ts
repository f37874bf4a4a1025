// A load run that ends in a report directory: reports/runs/<id>/ with report.html, summary.md,
// results.json and history.ndjson, plus the reports/runs/latest symlink. This is the entry
// point for programmatic runs (the `perpx load` command and the `perpx run` campaign):
//
//   const { dir, result, analysis, exitCode } = await runToDirectory({
//     scenario, target: 'http://127.0.0.1:8080',
//     decorate: async (result) => { result.checker = [...]; result.server = {...}; },
//   });

import { mkdir, rename, symlink, rm } from 'node:fs/promises';
import { join, resolve, basename } from 'node:path';
import { runLoad, defaultRunId } from './load.ts';
import type { LoadOptions } from './load.ts';
import { normalizeScenario } from './scenario.ts';
import type { RunResult } from './result.ts';
import { writeReport } from '../reports/report.ts';
import type { ReportAnalysis } from '../reports/report.ts';

export const DEFAULT_RUNS_DIR = 'reports/runs';

export interface RunToDirectoryOptions extends Omit<LoadOptions, 'historyDir' | 'id'> {
  runsDir?: string;
  id?: string;
  /** Keep the Jepsen-style history (default true). */
  history?: boolean;
  /** Attach checker results, server series or findings before the report is written. */
  decorate?: (result: RunResult) => void | Promise<void>;
}

export interface RunToDirectoryResult {
  dir: string;
  result: RunResult;
  analysis: ReportAnalysis;
  /** 0 pass, 1 thresholds or checker failed, 3 generator invalid. */
  exitCode: number;
  files: { html: string; markdown: string; json: string; history: string | null };
}

export function exitCodeFor(verdict: ReportAnalysis['verdict']): number {
  return verdict === 'PASS' ? 0 : verdict === 'FAIL' ? 1 : 3;
}

/** Points `<runsDir>/latest` at `dir` (relative link, replaced atomically). */
export async function linkLatest(runsDir: string, dir: string): Promise<void> {
  const tmp = join(runsDir, `.latest-${process.pid}`);
  await rm(tmp, { force: true });
  await symlink(basename(dir), tmp);
  await rename(tmp, join(runsDir, 'latest'));
}

export async function runToDirectory(opts: RunToDirectoryOptions): Promise<RunToDirectoryResult> {
  const scenario = normalizeScenario(opts.scenario);
  const runsDir = resolve(opts.runsDir ?? DEFAULT_RUNS_DIR);
  const id = opts.id ?? defaultRunId(scenario.name);
  if (!/^[A-Za-z0-9._-]{1,120}$/.test(id) || id === 'latest') throw new Error(`run id must be 1-120 letters, digits, . _ - (not "latest"): ${id}`);
  const dir = join(runsDir, id);
  await mkdir(dir, { recursive: true });
  const { runsDir: _r, decorate, history, ...load } = opts;
  const result = await runLoad({ ...load, scenario, id, historyDir: history === false ? null : dir });
  if (decorate !== undefined) await decorate(result);
  const written = await writeReport(result, dir);
  await linkLatest(runsDir, dir);
  return {
    dir, result, analysis: written.analysis, exitCode: exitCodeFor(written.analysis.verdict),
    files: { html: written.html, markdown: written.markdown, json: written.json, history: result.historyFile },
  };
}
