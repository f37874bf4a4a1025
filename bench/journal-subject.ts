// What the journal benchmark drives: a state machine, its codec and a command generator.
// Default: the LedgerMachine stand-in. To bench the real engine, write a module exporting
// `benchSubject: BenchSubject<YourCommand>` and run
//   npm run bench:journal -- --subject ./path/to/module.ts
// The default is the real engine (engineSubject); ledgerSubject isolates the journal itself.

import type { StateMachine } from '../engine/core/state-machine.ts';
import type { Codec } from '../engine/journal/codec.ts';
import { randomInt, type Random } from '../engine/journal/random.ts';
import { LedgerMachine, ledgerBinaryCodec, type LedgerCommand } from '../engine/journal/test-machine.ts';
import { Engine } from '../engine/core/engine.ts';
import { btcusdt, defaultConfig } from '../engine/core/config.ts';
import { limitOrder } from '../engine/core/commands.ts';
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
 * The real engine: BTCUSDT, 1,024 funded accounts set up inside createMachine (so a
 * recovering machine starts from the same place), a stream of limit orders around the mid
 * (a third of them crossing) and cancels of recent ids, in the binary command codec.
 */
const ENGINE_ACCOUNTS = 1024;
export const engineSubject: BenchSubject<Command> = {
  name: `perpx Engine (BTCUSDT, ${ENGINE_ACCOUNTS} accounts, binary command codec)`,
  createMachine: () => {
    const e = new Engine(defaultConfig({ maxAccounts: ENGINE_ACCOUNTS, maxConditionalOrders: 16, symbols: [btcusdt({ minNotional: '5', maxRestingOrders: 1 << 20, maxPriceLevels: 1 << 16, maxOpenOrdersPerAccount: 10_000 })] }));
    for (let a = 0; a < ENGINE_ACCOUNTS; a++) {
      e.execute({ type: 'createAccount' });
      e.execute({ type: 'deposit', accountId: a, amountUnits: 1_000_000 * 1_000_000 });
    }
    e.execute({ type: 'advanceTime', timeMs: 1_767_225_600_000 });
    e.execute({ type: 'setIndexPrice', symbolId: 0, priceTicks: 500_000 });
    return e;
  },
  codec: binaryCommandCodec,
  command: (i, random) => {
    const accountId = randomInt(random, ENGINE_ACCOUNTS);
    if (i % 5 === 4) return { type: 'cancel', accountId, symbolId: 0, orderId: 1 + randomInt(random, Math.max(1, i)), clientOrderId: '' };
    const side = randomInt(random, 2) === 0 ? 'BUY' : 'SELL';
    const offset = randomInt(random, 30) - 10; // ticks away from the mid on the passive side; negative crosses
    return limitOrder(accountId, 0, side, side === 'BUY' ? 500_000 - offset : 500_000 + offset, 1 + randomInt(random, 20));
  },
};

export const defaultSubject: BenchSubject<unknown> = engineSubject as BenchSubject<unknown>;
