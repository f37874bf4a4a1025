// Seeded stream of engine commands for the simulator: the engine property tests' order-flow
// generator (intentArb: limits, markets, stops, cancels, modifies, index moves, time jumps
// across funding, deposits, withdrawals, leverage, malformed commands), sampled by fast-check
// in chunks with seeds derived from the run seed, then resolved against the live engine
// (cancels pick real open orders, prices sit around the current index).

import fc from 'fast-check';
import type { Command } from '../../engine/core/commands.ts';
import { intentArb, resolveIntent, type Intent, type ResolveView } from '../../engine/core/test-support.ts';
import { deriveSeed } from '../../harness/rng.ts';

/** Intents sampled per fast-check call (≈4 µs each; one call per chunk keeps it cheap). */
const CHUNK = 1024;
/** Stream ids 1000+ of deriveSeed are reserved for intent chunks. */
const CHUNK_STREAM_BASE = 1000;

export class CommandSource {
  private readonly seed: number;
  private chunk: Intent[] = [];
  private chunkIndex = 0;
  private next = 0;

  constructor(seed: number) {
    this.seed = seed;
  }

  nextIntent(): Intent {
    if (this.next >= this.chunk.length) {
      const chunkSeed = deriveSeed(this.seed, CHUNK_STREAM_BASE + this.chunkIndex++) | 0;
      this.chunk = fc.sample(intentArb, { seed: chunkSeed, numRuns: CHUNK });
      this.next = 0;
    }
    return this.chunk[this.next++]!;
  }

  /** The next command, resolved against `view` (the engine that will apply it). */
  nextCommand(view: ResolveView): Command {
    return resolveIntent(this.nextIntent(), view);
  }
}
