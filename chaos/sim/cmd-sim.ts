// `perpx sim`: run the deterministic simulation from the command line. The report on stdout is
// a function of the arguments only, so a failing run replays byte for byte; the one line that
// depends on the machine (steps/s) goes to stderr (and to "timing" in --json).

import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { FAULT_KINDS } from './faults.ts';
import { isPlantedBug, PLANTED_BUGS, type PlantedBug } from './planted-bugs.ts';
import { runSimulation, STEPS_MAX, type SimOptions, type SimRun, type SimSummary } from './simulator.ts';

export const SIM_STEPS_DEFAULT = 10_000;

export const SIM_HELP = `usage: perpx sim [--seed N] [--steps M] [options]

Deterministic simulation (after TigerBeetle's VOPR): the real engine behind the real journal
on a simulated disk, in one process, no wall clock. Each step is a random engine command or
a fault (power loss, process crash, torn write, write EIO/ENOSPC, fsync EIO, graceful restart).
After every recovery: no acknowledged command lost, recovered state hash = shadow replay of
the acknowledged log, Engine.validate() and the conservation ledger hold. The same arguments
print the same report; on a violation it prints seed, step and reason and exits 1.

options:
  --seed N           run seed, 0..4294967295 (default: random, printed)
  --steps M          steps to run, 0..${STEPS_MAX} (default ${SIM_STEPS_DEFAULT})
  --fault-rate P     probability that a step is a fault, 0..1 (default: drawn from the seed)
  --plant-bug NAME   plant a bug the checker must find: ${PLANTED_BUGS.join(', ')}
  --json             print the report as one JSON object
  --quiet            no progress lines on stderr

exit: 0 no violation, 1 violation or bad input
`;

class UsageError extends Error {}

function intArg(value: string | undefined, name: string, lo: number, hi: number): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(v) || v < lo || v > hi) {
    throw new UsageError(`--${name} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(value)}`);
  }
  return v;
}

function parseOptions(args: string[]): { options: SimOptions; json: boolean; quiet: boolean; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        help: { type: 'boolean', short: 'h' },
        seed: { type: 'string' },
        steps: { type: 'string' },
        'fault-rate': { type: 'string' },
        'plant-bug': { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!.replace(/^(Unknown option '[^']*'\.).*$/, '$1'));
  }
  const v = parsed.values;
  const seed = intArg(v.seed, 'seed', 0, 0xffffffff) ?? randomInt(0, 2 ** 32 - 1);
  const steps = intArg(v.steps, 'steps', 0, STEPS_MAX) ?? SIM_STEPS_DEFAULT;
  let faultProbability: number | undefined;
  if (v['fault-rate'] !== undefined) {
    const p = Number(v['fault-rate']);
    if (v['fault-rate'].trim() === '' || !(p >= 0 && p <= 1)) throw new UsageError(`--fault-rate must be a number in [0, 1], got ${JSON.stringify(v['fault-rate'])}`);
    faultProbability = p;
  }
  let plantBug: PlantedBug | null = null;
  if (v['plant-bug'] !== undefined) {
    if (!isPlantedBug(v['plant-bug'])) throw new UsageError(`--plant-bug must be one of ${PLANTED_BUGS.join(', ')}, got ${JSON.stringify(v['plant-bug'])}`);
    plantBug = v['plant-bug'];
  }
  return {
    options: { seed, steps, faultProbability, plantBug },
    json: v.json === true,
    quiet: v.quiet === true,
    help: v.help === true,
  };
}

/** The command line that replays `summary` (up to its violation, if any). */
export function replayCommand(options: SimOptions, summary: SimSummary): string {
  const steps = summary.violation === null ? options.steps : Math.min(summary.violation.step, options.steps);
  const parts = [`perpx sim --seed ${options.seed} --steps ${steps}`];
  if (options.faultProbability !== undefined) parts.push(`--fault-rate ${options.faultProbability}`);
  if (options.plantBug) parts.push(`--plant-bug ${options.plantBug}`);
  return parts.join(' ');
}

/** The deterministic text report (no timing). */
export function formatSummary(s: SimSummary, replay: string): string {
  const c = s.config;
  const cm = s.commands;
  const lines = [
    `perpx sim: seed ${s.seed}, ${s.steps} steps${s.plantedBug ? `, PLANTED BUG ${s.plantedBug}` : ''}`,
    `config      segment ${c.segmentBytesMax} B, snapshot every ${c.snapshotEveryCommands} commands${c.snapshotEveryMs > 0 ? ` / ${c.snapshotEveryMs} ms` : ''}, ` +
      `checkpoint every ${c.checkpointEveryCommands || 'snapshot'}, write ≤ ${c.writeCommandsMax} commands, pending ≤ ${c.pendingCommandsMax}, ` +
      `disk lag ${c.lagProbability}, fault rate ${c.faultProbability}, policy fsync`,
    `steps       ${s.stepsRun} of ${s.steps}`,
    `commands    ${cm.submitted} submitted, ${cm.sequenced} sequenced, ${cm.acked} acknowledged, ${cm.rejectedBeforeSequencing} rejected before sequencing, ` +
      `${cm.failedByFailStop} failed by fail-stop, ${cm.survivedUnacked} survived unacknowledged, ${cm.lostUnacked} lost unacknowledged`,
    `faults      ${FAULT_KINDS.map((k) => `${k} ${s.faults[k]}`).join(', ')} (disk faults fired ${s.faultsFired})`,
    `recovery    ${s.recoveries} recoveries: ${s.crashes} crashes, ${s.failStops} fail-stops, ${s.recoveriesFromSnapshot} from a snapshot, ` +
      `${s.tornTailsTruncated} torn tails truncated, ${s.fullReplays} full replays`,
    `final       seq ${s.finalSeq}${s.stateHash ? `, state hash ${s.stateHash}` : ''}`,
  ];
  if (s.violation === null) {
    lines.push('result      OK: every recovery kept all acknowledged commands, equalled the shadow replay and passed the invariants');
  } else {
    lines.push(`VIOLATION seed ${s.seed} step ${s.violation.step}: ${s.violation.reason}`);
    lines.push(`replay      ${replay}`);
  }
  return lines.join('\n');
}

function formatTiming(run: SimRun): string {
  const t = run.timing;
  return `speed       ${run.summary.stepsRun} steps in ${(t.elapsedMs / 1000).toFixed(2)} s = ${Math.round(t.stepsPerS)} steps/s`;
}

export async function cmdSim(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseOptions(args);
  } catch (e) {
    process.stderr.write(`perpx sim: ${(e as Error).message}\n`);
    return 1;
  }
  if (parsed.help) {
    process.stdout.write(SIM_HELP);
    return 0;
  }
  const { options, json, quiet } = parsed;
  const onProgress = quiet || json ? undefined : (n: number) => process.stderr.write(`sim: step ${n} of ${options.steps}\n`);
  const run = await runSimulation({ ...options, onProgress });
  const replay = replayCommand(options, run.summary);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...run.summary, replay, timing: run.timing })}\n`);
  } else {
    process.stdout.write(`${formatSummary(run.summary, replay)}\n`);
    process.stderr.write(`${formatTiming(run)}\n`);
  }
  return run.summary.violation === null ? 0 : 1;
}
