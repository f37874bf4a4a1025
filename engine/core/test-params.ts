// Shared fast-check run parameters for the core's property tests.
//
// One seed per test process, printed once, so any failure replays with
//   PERPX_SEED=<seed> [PERPX_PATH=<path>] npx vitest run <file>
// (fast-check also prints seed and path of the shrunk counterexample on failure).
// PERPX_DEEP=1 multiplies every run budget by 10.

const seedText = process.env.PERPX_SEED;
const pathText = process.env.PERPX_PATH;

export const DEEP_FACTOR = process.env.PERPX_DEEP === '1' ? 10 : 1;

export const SEED = seedText !== undefined && seedText !== '' ? Number(seedText) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
if (!Number.isInteger(SEED)) throw new Error(`PERPX_SEED must be an integer: ${seedText}`);

let announced = false;

/** fc.assert parameters for a property with a base budget of `numRuns` runs. */
export function runParams(numRuns: number): { numRuns: number; seed: number; path?: string } {
  if (!announced) {
    announced = true;
    console.log(`[perpx] fast-check seed=${SEED} deep=${DEEP_FACTOR}x (replay: PERPX_SEED=${SEED})`);
  }
  const params: { numRuns: number; seed: number; path?: string } = { numRuns: numRuns * DEEP_FACTOR, seed: SEED };
  if (pathText !== undefined && pathText !== '') params.path = pathText;
  return params;
}
