// A bounded structural check of the engine's per-account open-order lists, run by the
// simulator before every command. Engine.validate() walks these lists without a bound, and so
// does openOrderSlots(): a corrupted (cyclic) list turns either into an endless loop instead
// of a failure. This walk stops after the account's own open-order count and names the first
// order that does not belong, so the simulator fails at the step that broke the list.

import type { Engine } from '../../engine/core/engine.ts';
import { ST_NEW, ST_PARTIALLY_FILLED } from '../../engine/core/orders.ts';

const NIL = -1;

/** null when every account's list holds exactly its own open orders; else one line. */
export function checkOpenOrderLists(engine: Engine): string | null {
  const o = engine.orders;
  const n = engine.nSymbols;
  for (let a = 0; a < engine.accountCount; a++) {
    let expected = 0;
    for (let s = 0; s < n; s++) expected += engine.openOrders[a * n + s]!;
    let seen = 0;
    let prev = NIL;
    for (let r = engine.accHead[a]!; r !== NIL; r = o.accNext[r]!) {
      if (++seen > expected) {
        return `open-order list of account ${a} is longer than its ${expected} open orders (order slot ${r}, id ${o.id[r]}, account ${o.account[r]}): cycle or foreign orders`;
      }
      if (o.account[r] !== a) return `open-order list of account ${a} holds order ${o.id[r]} (slot ${r}) of account ${o.account[r]}`;
      const st = o.status[r]!;
      if (st !== ST_NEW && st !== ST_PARTIALLY_FILLED) return `open-order list of account ${a} holds order ${o.id[r]} (slot ${r}) with closed status ${st}`;
      if (o.accPrev[r] !== prev) return `open-order list of account ${a}: back link of slot ${r} is ${o.accPrev[r]}, expected ${prev}`;
      prev = r;
    }
    if (seen !== expected) return `open-order list of account ${a} has ${seen} orders, per-symbol counts say ${expected}`;
  }
  return null;
}
