// The history checker (Jepsen-style): after a run, hold the operation history against what
// the server says, and list every violation with the operations involved.
//
//   lost order       a place acknowledged (ok) that the server does not know
//   phantom order    a place definitely rejected (fail) that the server does know
//   inconsistent     an order whose fills contradict its status or exceed its quantity
//   conservation     Σ wallets − Σ costs + fund + fees ≠ deposits − withdrawals (admin totals)
//   open interest    long ≠ short for a symbol
//   duplicate id     two open orders of one account share a client order id
//   depth gap        a WebSocket diff-depth event whose pu ≠ the previous event's u
//
// Indeterminate operations (info: timeout, connection reset, 5xx) may or may not have
// happened; they are counted, never blamed. Orders the server no longer keeps (its history
// is bounded) are counted as unverifiable, not as lost.

export interface HistoryOp {
  t: number;
  type: 'invoke' | 'ok' | 'fail' | 'info';
  w: number;
  id: number;
  f: string;
  status?: number;
  code?: string | null;
  value?: Record<string, unknown> | null;
}

export interface OrderFacts {
  orderId: number;
  clientOrderId: string;
  status: string;
  origQty: string;
  executedQty: string;
}

export interface ServerTotals {
  conserved: boolean;
  detail: string;
  openInterest: { symbol: string; long: string; short: string }[];
}

/** What the checker asks the server. Implemented over the REST API (api-view.ts) or by tests. */
export interface ServerView {
  /** All orders the server still knows for an account and symbol (open and history), by clientOrderId. */
  orders(account: number, symbol: string): Promise<Map<string, OrderFacts>>;
  /** Whether the server's history for this account/symbol may have dropped old orders. */
  historyTruncated(account: number, symbol: string): Promise<boolean>;
  openOrders(account: number, symbol: string): Promise<OrderFacts[]>;
  totals(): Promise<ServerTotals>;
}

export type ViolationKind = 'lost-order' | 'phantom-order' | 'inconsistent-order' | 'conservation' | 'open-interest' | 'duplicate-client-id' | 'depth-gap';

export interface Violation {
  kind: ViolationKind;
  message: string;
  ops: HistoryOp[];
}

export interface DepthEvent { symbol: string; U: number; u: number; pu: number }

export interface CheckResult {
  ok: boolean;
  violations: Violation[];
  counts: {
    operations: number;
    placesAcked: number;
    placesRejected: number;
    indeterminate: number;
    ordersVerified: number;
    ordersUnverifiable: number;
    depthEvents: number;
  };
}

/** Violations listed in full; beyond this they are only counted. */
export const VIOLATIONS_LISTED_MAX = 200;

interface PlaceRecord { invoke: HistoryOp; done: HistoryOp | null }

function dec(s: string): bigint {
  // Decimal string → integer at 8 decimals (exact; quantities have at most 8 here).
  const m = /^(-?)(\d+)(?:\.(\d{1,8}))?$/.exec(s);
  if (m === null) throw new Error(`not a decimal: ${s}`);
  const v = BigInt(m[2]! + (m[3] ?? '').padEnd(8, '0'));
  return m[1] === '-' ? -v : v;
}

function consistent(o: OrderFacts): string | null {
  const orig = dec(o.origQty);
  const exec = dec(o.executedQty);
  if (exec < 0n || exec > orig) return `executed ${o.executedQty} outside [0, ${o.origQty}]`;
  if (o.status === 'FILLED' && exec !== orig) return `FILLED with executed ${o.executedQty} of ${o.origQty}`;
  if (o.status === 'NEW' && exec !== 0n) return `NEW with executed ${o.executedQty}`;
  if (o.status === 'PARTIALLY_FILLED' && (exec === 0n || exec === orig)) return `PARTIALLY_FILLED with executed ${o.executedQty} of ${o.origQty}`;
  return null;
}

export async function checkRun(ops: readonly HistoryOp[], view: ServerView, depth: readonly DepthEvent[] = []): Promise<CheckResult> {
  const violations: Violation[] = [];
  let violationCount = 0;
  const add = (v: Violation) => {
    violationCount++;
    if (violations.length < VIOLATIONS_LISTED_MAX) violations.push(v);
  };
  // Pair invocations with completions (key: worker + id).
  const places = new Map<string, PlaceRecord>();
  let indeterminate = 0;
  for (const op of ops) {
    const key = `${op.w}:${op.id}`;
    if (op.type === 'invoke') {
      // Reduce-only closes are places too: acknowledged ones must exist like any order.
      if (op.f === 'place' || op.f === 'close') places.set(key, { invoke: op, done: null });
      continue;
    }
    if (op.type === 'info') indeterminate++;
    const rec = places.get(key);
    if (rec !== undefined) rec.done = op;
  }
  // Group places by (account, symbol).
  const groups = new Map<string, PlaceRecord[]>();
  for (const rec of places.values()) {
    const v = rec.invoke.value ?? {};
    const k = `${String(v.account)}\u0000${String(v.symbol)}`;
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = []));
    g.push(rec);
  }
  let placesAcked = 0;
  let placesRejected = 0;
  let verified = 0;
  let unverifiable = 0;
  for (const [k, recs] of groups) {
    const [accountText, symbol] = k.split('\u0000') as [string, string];
    const account = Number(accountText);
    const known = await view.orders(account, symbol);
    const truncated = await view.historyTruncated(account, symbol);
    for (const rec of recs) {
      const cid = String(rec.invoke.value?.newClientOrderId ?? '');
      const facts = known.get(cid);
      const done = rec.done;
      if (done?.type === 'ok') {
        placesAcked++;
        if (facts === undefined) {
          if (truncated) unverifiable++;
          else add({ kind: 'lost-order', message: `order ${cid} of account ${account} was acknowledged (orderId ${String(done.value?.orderId)}) but the server does not know it`, ops: [rec.invoke, done] });
          continue;
        }
        verified++;
        const bad = consistent(facts);
        if (bad !== null) add({ kind: 'inconsistent-order', message: `order ${cid} (${facts.orderId}): ${bad}`, ops: [rec.invoke, done] });
      } else if (done?.type === 'fail') {
        placesRejected++;
        if (facts !== undefined) add({ kind: 'phantom-order', message: `order ${cid} was rejected (${String(done.code)}) but the server has it as ${facts.status}`, ops: [rec.invoke, done] });
      } else if (facts !== undefined) {
        const bad = consistent(facts);
        if (bad !== null) add({ kind: 'inconsistent-order', message: `order ${cid} (${facts.orderId}): ${bad}`, ops: done === null ? [rec.invoke] : [rec.invoke, done] });
      }
    }
    const open = await view.openOrders(account, symbol);
    const seen = new Set<string>();
    for (const o of open) {
      if (o.clientOrderId !== '' && seen.has(o.clientOrderId)) add({ kind: 'duplicate-client-id', message: `account ${account} has two open orders with client id ${o.clientOrderId}`, ops: [] });
      seen.add(o.clientOrderId);
    }
  }
  const totals = await view.totals();
  if (!totals.conserved) add({ kind: 'conservation', message: `money not conserved: ${totals.detail}`, ops: [] });
  for (const oi of totals.openInterest) {
    if (dec(oi.long) !== dec(oi.short)) add({ kind: 'open-interest', message: `${oi.symbol}: long open interest ${oi.long} ≠ short ${oi.short}`, ops: [] });
  }
  const lastU = new Map<string, number>();
  for (const d of depth) {
    const prev = lastU.get(d.symbol);
    if (prev !== undefined && d.pu !== prev) add({ kind: 'depth-gap', message: `${d.symbol} depth diff U=${d.U} u=${d.u} has pu=${d.pu}, previous u=${prev}`, ops: [] });
    lastU.set(d.symbol, d.u);
  }
  return {
    ok: violationCount === 0,
    violations,
    counts: { operations: ops.length, placesAcked, placesRejected, indeterminate, ordersVerified: verified, ordersUnverifiable: unverifiable, depthEvents: depth.length },
  };
}
