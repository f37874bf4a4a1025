// The deterministic simulator: fast-check drives seeds through short runs that must find no
// violation; a seed replays exactly; every planted bug is found and its reported step replays
// to the same violation; the three real bugs the simulator found stay fixed (regressions). A
// failing property prints fast-check's seed and the `perpx sim` line that replays it.
// PERPX_DEEP=1 runs more seeds and longer runs; PERPX_SEED=<n> replays fast-check's seeds.

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cmdSim, formatSummary, replayCommand } from './cmd-sim.ts';
import type { FaultKind } from './faults.ts';
import { PLANTED_BUGS, type PlantedBug } from './planted-bugs.ts';
import { runSimulation, type SimOptions } from './simulator.ts';

const deep = process.env.PERPX_DEEP === '1';
const SEEDS = deep ? 30 : 5;
const STEPS = deep ? 2000 : 250;
/** Deep: 60k steps at ≈400–900 steps/s with 5% faults on this box. */
const PROPERTY_TIMEOUT_MS = deep ? 900_000 : 120_000;

async function simulate(options: SimOptions) {
  const run = await runSimulation(options);
  return { run, replay: replayCommand(options, run.summary) };
}

describe('perpx sim', () => {
  it(`${SEEDS} random seeds × ${STEPS} steps at a 5% fault rate: no violation`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 0xffffffff }), async (seed) => {
        const { run, replay } = await simulate({ seed, steps: STEPS, faultProbability: 0.05 });
        expect(run.summary.violation, `${replay}\n${formatSummary(run.summary, replay)}`).toBeNull();
        // The run did what it claims: it ran every step, faulted and recovered, and checked the end state.
        expect(run.summary.stepsRun).toBe(STEPS);
        expect(run.summary.recoveries).toBeGreaterThanOrEqual(1); // the final graceful restart at least
        expect(run.summary.commands.acked).toBeGreaterThan(0);
        expect(run.summary.stateHash).toMatch(/^[0-9a-f]{64}$/);
      }),
      { numRuns: SEEDS, ...(process.env.PERPX_SEED !== undefined ? { seed: Number(process.env.PERPX_SEED) } : {}) },
    );
  }, PROPERTY_TIMEOUT_MS);

  it('the same seed gives the same run: summary and final state hash, twice', async () => {
    const options: SimOptions = { seed: 424242, steps: 400, faultProbability: 0.05 };
    const a = await runSimulation(options);
    const b = await runSimulation(options);
    expect(a.summary.violation).toBeNull();
    expect(b.summary).toEqual(a.summary);
    expect(a.summary.crashes).toBeGreaterThan(0); // faults really happened in between
    // A different seed is a different run (the check above is not vacuous).
    const c = await runSimulation({ ...options, seed: 424243 });
    expect(c.summary.stateHash).not.toBe(a.summary.stateHash);
  }, 60_000);

  const expectedReason: Record<PlantedBug, RegExp> = {
    'drop-last-acked': /acknowledged command lost|recovery .* failed/,
    'replay-differs': /state hash|recovery .* failed: .*hash mismatch/,
    'fsync-lies': /acknowledged command lost|recovery .* failed/,
  };

  for (const bug of PLANTED_BUGS) {
    it(`finds the planted bug ${bug}, names seed and step, and the replay line reproduces it`, async () => {
      const options: SimOptions = { seed: 7, steps: 3000, faultProbability: 0.05, plantBug: bug };
      const { run, replay } = await simulate(options);
      const v = run.summary.violation;
      expect(v, `planted bug ${bug} not found in 3000 steps of seed 7`).not.toBeNull();
      expect(v!.reason).toMatch(expectedReason[bug]);
      const text = formatSummary(run.summary, replay);
      expect(text).toContain(`VIOLATION seed 7 step ${v!.step}: ${v!.reason}`);
      expect(replay).toBe(`perpx sim --seed 7 --steps ${v!.step} --fault-rate 0.05 --plant-bug ${bug}`);
      // Replaying with --steps = the violation step reproduces the same violation exactly.
      const again = await runSimulation({ ...options, steps: v!.step });
      expect(again.summary.violation).toEqual(v);
    }, 60_000);
  }

  // The schedules that found real bugs (README: findings), kept as regressions: each failed
  // with a violation before its fix and must run clean after it.
  // `exposedBy`: faults the schedule must still contain, or the regression would prove nothing.
  const foundBugs: { what: string; options: SimOptions; failedAt: string; exposedBy?: FaultKind[] }[] = [
    { what: 'journal: recovery fsyncs the replayed tail', options: { seed: 3, steps: 600, faultProbability: 0.01 }, failedAt: 'step 515: seq gap between segments after a power loss', exposedBy: ['process-crash', 'power-loss'] },
    { what: 'engine: liquidation takes a just-triggered conditional off the trigger queue', options: { seed: 2, steps: 7400, faultProbability: 0 }, failedAt: 'step 7378: open-order list of account 3 corrupted' },
    { what: 'engine: liquidation + trigger, with faults', options: { seed: 15, steps: 205, faultProbability: 0.05 }, failedAt: 'step 205: open-order list of account 3 corrupted' },
    { what: 'engine: FOK pre-check sets the matching context', options: { seed: 118, steps: 965, faultProbability: 0.02 }, failedAt: 'step 965 (with the journal fix emulated): FOK result differs after a restart' },
    { what: 'engine: the ADL ranking score saturates instead of overflowing', options: { seed: 1, steps: 10911, faultProbability: 0 }, failedAt: 'step 10911: journal fail-stopped: integer overflow: 5299779 * 6055126000 / 1' },
  ];
  for (const { what, options, failedAt, exposedBy } of foundBugs) {
    it(`regression (${what}): perpx sim --seed ${options.seed} --steps ${options.steps} --fault-rate ${options.faultProbability} runs clean (failed at ${failedAt})`, async () => {
      const { run, replay } = await simulate(options);
      expect(run.summary.violation, `${replay}\n${formatSummary(run.summary, replay)}`).toBeNull();
      expect(run.summary.stepsRun).toBe(options.steps);
      for (const kind of exposedBy ?? []) expect(run.summary.faults[kind], `${replay}: no ${kind} left in the schedule`).toBeGreaterThanOrEqual(1);
    }, 60_000);
  }

});

describe('perpx sim command line', () => {
  afterEach(() => vi.restoreAllMocks());

  it('bad input: one line on stderr, exit 1, nothing run', async () => {
    for (const args of [['--seed', 'x'], ['--steps', '-1'], ['--fault-rate', '2'], ['--plant-bug', 'nope'], ['--workaround', 'x'], ['--bogus'], ['extra']]) {
      const lines: string[] = [];
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (lines.push(String(chunk)), true));
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      expect(await cmdSim(args), args.join(' ')).toBe(1);
      expect(lines.length, args.join(' ')).toBe(1);
      expect(lines[0]).toMatch(/^perpx sim: [^\n]+\n$/);
      expect(out).not.toHaveBeenCalled();
      vi.restoreAllMocks();
    }
  });

  it('--json prints the report as one JSON object with the replay line and timing; exit 0 when clean', async () => {
    const chunks: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (chunks.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await cmdSim(['--seed', '11', '--steps', '50', '--json'])).toBe(0);
    const report = JSON.parse(chunks.join('')) as { seed: number; stepsRun: number; violation: unknown; replay: string; timing: { stepsPerS: number } };
    expect(report.seed).toBe(11);
    expect(report.stepsRun).toBe(50);
    expect(report.violation).toBeNull();
    expect(report.replay).toBe('perpx sim --seed 11 --steps 50');
    expect(report.timing.stepsPerS).toBeGreaterThan(0);
  });
});
