// Full-engine mode of the engine benchmark: the same seeded order flow as the matching
// benchmark, sent as engine commands (margin checks, fees, positions, liquidation
// index upkeep, mark-price sampling) with accounts that hold real collateral. Every
// 1,000 flow commands the clock advances 100 ms, and every 5,000 the index follows the
// mid, so mark price, funding sampling and liquidation checks run as in production.
//
// The flow's order ids are its own; the engine assigns ids to accepted orders in
// sequence, so a table maps flow id → engine id as the run goes (the client side of
// the loop, a typed-array read).

import { Engine } from '../engine/core/engine.ts';
import { btcusdt, defaultConfig } from '../engine/core/config.ts';
import type { AdvanceTime, CancelOrder, Command, ModifyOrder, PlaceOrder, SetIndexPrice } from '../engine/core/commands.ts';
import { CountingSink } from '../engine/core/events.ts';
import { BUY, TIF_IOC } from '../engine/core/orderbook.ts';
import { OP_CANCEL, OP_PLACE } from './flow.ts';
import type { Flow, FlowOptions } from './flow.ts';

export interface EngineDriver {
  engine: Engine;
  sink: CountingSink;
  /**
   * Execute flow commands [from, to); if `lat` is given, record each command's latency (ns);
   * if `record` is given, pass it every engine command executed (reused objects: copy them).
   */
  run(from: number, to: number, lat?: (ns: number) => void, record?: (cmd: Command) => void): void;
  /** Commands the engine executed (flow commands plus clock and index commands). */
  executed: number;
}

const TIME_EVERY = 1_000;
const INDEX_EVERY = 5_000;
const T0 = 1_767_225_600_000;

/** The engine the flow runs on: accounts created, funded, clock and index set. */
export function setupEngine(o: Required<FlowOptions>): Engine {
  const accounts = o.makers + o.takers;
  const config = defaultConfig({
    maxAccounts: accounts + 16,
    maxConditionalOrders: 1024,
    symbols: [btcusdt({ minNotional: '5', maxPrice: String(o.maxPriceTicks / 10), maxRestingOrders: 1 << 17, maxPriceLevels: 1 << 15, maxOpenOrdersPerAccount: 1_000 })],
  });
  const engine = new Engine(config, new CountingSink());
  for (let a = 0; a < accounts; a++) {
    engine.execute({ type: 'createAccount' });
    engine.execute({ type: 'deposit', accountId: a, amountUnits: (a < o.makers ? 2_000_000 : 200_000) * 1_000_000 });
  }
  engine.execute({ type: 'advanceTime', timeMs: T0 });
  engine.execute({ type: 'setIndexPrice', symbolId: 0, priceTicks: o.startMidTicks });
  for (let a = 0; a < accounts; a++) engine.execute({ type: 'setLeverage', accountId: a, symbolId: 0, leverage: a < o.makers ? 20 : 50 });
  return engine;
}

export function createEngineDriver(f: Flow): EngineDriver {
  const o = f.options;
  const engine = setupEngine(o);
  const sink = engine.sink as CountingSink;

  // Reused command objects: the loop allocates nothing per command.
  const place: PlaceOrder = { type: 'place', accountId: 0, symbolId: 0, side: 'BUY', orderType: 'LIMIT', tif: 'GTC', priceTicks: 0, qtyLots: 0, reduceOnly: false, clientOrderId: '', stpMode: 'NONE', triggerPriceTicks: 0, workingType: 'CONTRACT_PRICE' };
  const cancel: CancelOrder = { type: 'cancel', accountId: 0, symbolId: 0, orderId: 0, clientOrderId: '' };
  const modify: ModifyOrder = { type: 'modify', accountId: 0, symbolId: 0, orderId: 0, clientOrderId: '', priceTicks: 0, qtyLots: 0 };
  const tick: AdvanceTime = { type: 'advanceTime', timeMs: T0 };
  const index: SetIndexPrice = { type: 'setIndexPrice', symbolId: 0, priceTicks: o.startMidTicks };
  const engineId = new Float64Array(f.count + 2);
  let mid = o.startMidTicks;

  const driver: EngineDriver = {
    engine,
    sink,
    executed: 0,
    run(from: number, to: number, lat?: (ns: number) => void, record?: (cmd: Command) => void): void {
      let executed = 0;
      for (let i = from; i < to; i++) {
        const t0 = lat === undefined ? 0 : performance.now();
        const op = f.op[i]!;
        if (op === OP_PLACE) {
          place.accountId = f.owner[i]!;
          place.side = f.side[i] === BUY ? 'BUY' : 'SELL';
          place.tif = f.tif[i] === TIF_IOC ? 'IOC' : 'GTC';
          place.priceTicks = f.price[i]!;
          place.qtyLots = f.qty[i]!;
          const id = engine.nextOrderId;
          if (record !== undefined) record(place);
          if (engine.execute(place) === 0) engineId[f.id[i]!] = id;
          if (f.tif[i] !== TIF_IOC) mid = f.price[i]!;
        } else if (op === OP_CANCEL) {
          cancel.accountId = f.owner[i]!;
          cancel.orderId = engineId[f.id[i]!]!;
          if (record !== undefined) record(cancel);
          engine.execute(cancel);
        } else {
          // Binance modify takes the new total quantity: executed + the new resting size.
          const id = engineId[f.id[i]!]!;
          const r = engine.restingOrderIndex(0, id);
          modify.accountId = f.owner[i]!;
          modify.orderId = id;
          modify.priceTicks = f.price[i]!;
          modify.qtyLots = (r < 0 ? 0 : engine.orders.execQty[r]!) + f.qty[i]!;
          if (record !== undefined) record(modify);
          engine.execute(modify);
        }
        executed++;
        if ((i + 1) % TIME_EVERY === 0) {
          tick.timeMs += 100;
          if (record !== undefined) record(tick);
          engine.execute(tick);
          executed++;
        }
        if ((i + 1) % INDEX_EVERY === 0) {
          index.priceTicks = mid;
          if (record !== undefined) record(index);
          engine.execute(index);
          executed++;
        }
        if (lat !== undefined) lat((performance.now() - t0) * 1e6);
      }
      driver.executed += executed;
    },
  };
  return driver;
}

/** The flow as the engine command log a client would have sent (ids resolved by a dry run). */
export function engineCommandLog(f: Flow): Command[] {
  const log: Command[] = [];
  createEngineDriver(f).run(0, f.count, undefined, (c) => log.push({ ...c }));
  return log;
}
