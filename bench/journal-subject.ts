// What the journal benchmark drives: a state machine, its codec and a command generator.
// Default: the LedgerMachine stand-in. To bench the real engine, write a module exporting
// `benchSubject: BenchSubject<YourCommand>` and run
//   npm run bench:journal -- --subject ./path/to/module.ts
// The default is the real engine (engineSubject); ledgerSubject isolates the journal itself.

import type { StateMachine } from '../engine/core/state-machine.ts';
import type { Codec } from '../engine/journal/codec.ts';
import { randomInt, type Random } from '../engine/journal/random.ts';
import { LedgerMachine, ledgerBinaryCodec, type LedgerCommand } from '../engine/journal/test-machine.ts';
import { FLOW_DEFAULTS, generateFlow } from './flow.ts';
import type { FlowOptions } from './flow.ts';
import { engineCommandLog, setupEngine } from './engine-mode.ts';
import type { Command } from '../engine/core/commands.ts';
import { binaryCommandCodec } from '../engine/wire/command-codec.ts';

export interface BenchSubject<C> {
  /** Shown in reports: what was measured. */
  readonly name: string;
  readonly createMachine: () => StateMachine<C>;
  readonly codec: Codec<C>;
  /** The i-th command of a producer's stream; deterministic given the Random. */
  readonly command: (i: number, random: Random) => C;
}

/** Sized so a snapshot is 512 KiB: big enough that the snapshot pause is not trivially zero. */
const BENCH_ACCOUNTS = 65_536;

export const ledgerSubject: BenchSubject<LedgerCommand> = {
  name: `LedgerMachine (${BENCH_ACCOUNTS} accounts, 17-byte binary codec)`,
  createMachine: () => new LedgerMachine(BENCH_ACCOUNTS),
  codec: ledgerBinaryCodec,
  command: (i, random) =>
    i % 4 === 0
      ? { type: 'deposit', account: randomInt(random, BENCH_ACCOUNTS), amount: 1 + randomInt(random, 1000) }
      : { type: 'transfer', from: randomInt(random, BENCH_ACCOUNTS), to: randomInt(random, BENCH_ACCOUNTS), amount: 1 + randomInt(random, 100) },
};

/**
 * The real engine on the engine benchmark's seeded flow (bench/flow.ts → engine commands:
 * makers re-quoting ladders, IOC and marketable takers, cancels, modifies, clock and index
 * ticks), the accounts set up inside createMachine so a recovering machine starts from the
 * same place. Stream i replays the log from the start, so with several producers some
 * cancels name orders another stream already removed (a rejection is a command too).
 */
const ENGINE_FLOW: Required<FlowOptions> = { ...FLOW_DEFAULTS, seed: 1, commands: 1_200_000 };
let engineLog: Command[] | null = null;
/** Generated on first use only (a recovering process needs the machine, not the log). */
function engineFlowLog(): Command[] {
  if (engineLog === null) engineLog = engineCommandLog(generateFlow(ENGINE_FLOW));
  return engineLog;
}
export const engineSubject: BenchSubject<Command> = {
  name: 'perpx Engine (BTCUSDT, bench/flow.ts seed 1, binary command codec)',
  createMachine: () => setupEngine(ENGINE_FLOW),
  codec: binaryCommandCodec,
  command: (i) => {
    const log = engineFlowLog();
    return log[i % log.length]!;
  },
};

export const defaultSubject: BenchSubject<unknown> = engineSubject as BenchSubject<unknown>;
