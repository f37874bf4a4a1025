// Same seed → same fault schedule (for every registered experiment), the execution order of a
// schedule, the durability check catching a planted loss, and the recovery-line parser.

import { describe, expect, it } from 'vitest';
import { EXPERIMENTS, findExperiment } from './experiments.ts';
import { planExperiment } from './runner.ts';
import { scheduleActions } from './scheduler.ts';
import { spacedSchedule } from './process/experiments.ts';
import { sigkillFault } from './process/faults.ts';
import { checkAckedDurable, placeKey } from './journal-audit.ts';
import { parseRecoveryLine, recoveriesInLog } from './replay-check.ts';
import type { HistoryOp } from '../harness/checker.ts';

const shape = (name: string, seed: number, quick: boolean) =>
  planExperiment(findExperiment(name)!, seed, quick).faults.map((f) => [f.atS, f.forS, f.fault.name, f.fault.describe]);

describe('chaos schedules', () => {
  it('every registered experiment plans the same schedule for the same seed', () => {
    for (const e of EXPERIMENTS) {
      for (const quick of [true, false]) {
        for (const seed of [1, 42]) expect(shape(e.name, seed, quick), `${e.name} seed ${seed} quick ${quick}`).toEqual(shape(e.name, seed, quick));
      }
    }
  });

  it('crash-restart plans >= 20 kills by default, spread over the run, and a different seed moves them', () => {
    const a = shape('crash-restart', 1, false);
    expect(a.length).toBeGreaterThanOrEqual(20);
    for (let i = 1; i < a.length; i++) expect(a[i]![0] as number).toBeGreaterThan(a[i - 1]![0] as number);
    expect(shape('crash-restart', 2, false)).not.toEqual(a);
    const deep = planExperiment(findExperiment('crash-restart')!, 1, false, { kills: 100 }).faults;
    expect(deep.length).toBe(100);
  });

  it('spacedSchedule keeps every fault inside its slot, before the next one', () => {
    const s = spacedSchedule(7, 10, 3, 53, 0.1, 0.8, sigkillFault);
    expect(s).toHaveLength(10);
    s.forEach((p, i) => {
      expect(p.atS).toBeGreaterThanOrEqual(3 + i * 5);
      expect(p.atS + p.forS).toBeLessThan(3 + (i + 1) * 5);
    });
  });

  it('actions run in time order and a fault is injected before it is cleared', () => {
    const f = sigkillFault();
    const acts = scheduleActions([{ atS: 5, forS: 0, fault: f }, { atS: 1, forS: 10, fault: f }]);
    expect(acts.map((a) => `${a.kind}${a.index}@${a.tS}`)).toEqual(['inject1@1', 'inject0@5', 'clear0@5', 'clear1@11']);
  });
});

describe('acknowledged-order durability check', () => {
  const place = (w: number, id: number, account: number, cid: string): HistoryOp[] => [
    { t: id, type: 'invoke', w, id, f: 'place', value: { account, newClientOrderId: cid } },
    { t: id + 1, type: 'ok', w, id, f: 'place', status: 200, value: { orderId: id } },
  ];
  it('passes when every acked order is in the journal or the API, and catches a planted loss', () => {
    const ops = [...place(0, 1, 0, 'a'), ...place(0, 2, 1, 'b'), ...place(1, 1, 1, 'c')];
    const journal = new Set([placeKey(10, 'a'), placeKey(11, 'b')]);
    const api = new Set([`1\u0000c`]);
    const ok = checkAckedDurable(ops, [10, 11], journal, api);
    expect(ok).toMatchObject({ acked: 3, inApi: 1, journalOnly: 2, lost: [] });
    // The same order id under another account is not a match: the account mapping matters.
    const planted = [...ops, ...place(1, 2, 0, 'b')];
    const bad = checkAckedDurable(planted, [10, 11], journal, api);
    expect(bad.lost.map((l) => `${l.account}/${l.clientOrderId}`)).toEqual(['0/b']);
  });
  it('does not count rejected or indeterminate places', () => {
    const ops: HistoryOp[] = [
      { t: 0, type: 'invoke', w: 0, id: 1, f: 'place', value: { account: 0, newClientOrderId: 'x' } },
      { t: 1, type: 'info', w: 0, id: 1, f: 'place', code: 'ECONNRESET' },
      { t: 0, type: 'invoke', w: 0, id: 2, f: 'place', value: { account: 0, newClientOrderId: 'y' } },
      { t: 1, type: 'fail', w: 0, id: 2, f: 'place', status: 400 },
    ];
    expect(checkAckedDurable(ops, [10], new Set(), new Set())).toMatchObject({ acked: 0, lost: [] });
  });
});

describe('recovery line', () => {
  it('parses the seq and hash the server prints at start', () => {
    expect(parseRecoveryLine(['fsync policy: fsync', 'recovered to seq 508, state hash 9e13df49'])).toEqual({ seq: 508, hash: '9e13df49' });
    expect(parseRecoveryLine(['nothing here'])).toBeNull();
    // The journal's own line wins: serve's summary line may carry the hash after a clock tick.
    expect(parseRecoveryLine(['recovery: snapshot none (seq 0, 1.0 ms); replayed 7 commands from 1 segment(s) in 0.1 ms; last seq 7; state hash aa11 not checked', 'recovered to seq 7, state hash bb22'])).toEqual({ seq: 7, hash: 'aa11' });
    const log = 'recovery: x; last seq 0; state hash 00\nrecovered to seq 0, state hash 00\nrecovery: y; last seq 9; state hash 99\nrecovered to seq 9, state hash 98\n';
    expect(recoveriesInLog(log)).toEqual([{ seq: 0, hash: '00', serveHash: '00' }, { seq: 9, hash: '99', serveHash: '98' }]);
  });
});
