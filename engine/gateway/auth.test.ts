// Authentication pieces in isolation: the signature payload (totalParams without the
// signature pair) for every position of the pair, HMAC verification, the recvWindow rule at
// its exact boundaries, the replay guard's expiry and bound, listen keys, the admin token.

import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runParams } from '../core/test-params.ts';
import { AdminToken, API_KEY_RE, checkTimestamp, KeyStore, ListenKeys, randomKey, REPLAY_FULL, REPLAY_OK, REPLAY_SEEN, ReplayGuard, verifySignature, withoutSignature } from './auth.ts';
import { ApiError } from './errors.ts';
import { parseParams } from './params.ts';

function code(f: () => unknown): number {
  try {
    f();
    return 0;
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
}

describe('signature payload', () => {
  it('removes exactly the signature pair wherever it is', () => {
    const pair = fc.tuple(fc.constantFrom('a', 'b', 'symbol', 'xsignature', 'signaturex'), fc.stringMatching(/^[a-z0-9]{0,4}$/)).map(([k, v]) => `${k}=${v}`);
    fc.assert(fc.property(fc.array(pair, { maxLength: 6 }), fc.nat(), (pairs, at) => {
      const i = pairs.length === 0 ? 0 : at % (pairs.length + 1);
      const withSig = [...pairs.slice(0, i), 'signature=ab12', ...pairs.slice(i)].join('&');
      expect(withoutSignature(withSig)).toBe(pairs.join('&'));
      expect(withoutSignature(pairs.join('&'))).toBe(pairs.join('&'));
    }), runParams(500));
  });

  it('verifies HMAC-SHA256 over query + body, case-insensitive hex, constant-time', () => {
    const keys = new KeyStore(10);
    const rec = keys.create(7);
    expect(rec.apiKey).toMatch(API_KEY_RE);
    const query = 'symbol=BTCUSDT&side=BUY';
    const body = 'quantity=1&timestamp=5';
    const sig = createHmac('sha256', rec.secretKey).update(query + body).digest('hex');
    const params = parseParams(`${body}&signature=${sig}`, 64);
    expect(verifySignature(rec, params, query, `${body}&signature=${sig}`)).toBe(sig);
    const upper = parseParams(`${body}&signature=${sig.toUpperCase()}`, 64);
    expect(verifySignature(rec, upper, query, `${body}&signature=${sig.toUpperCase()}`)).toBe(sig);
    const tampered = `${body.replace('1', '2')}&signature=${sig}`;
    expect(code(() => verifySignature(rec, parseParams(tampered, 64), query, tampered))).toBe(-1022);
    expect(code(() => verifySignature(rec, parseParams('signature=zz', 64), '', 'signature=zz'))).toBe(-1022);
    expect(code(() => verifySignature(rec, parseParams('a=1', 64), '', 'a=1'))).toBe(-1102);
  });
});

describe('recvWindow', () => {
  const now = 1_000_000;
  const p = (s: string) => parseParams(s, 64);
  it('accepts timestamp < now + 1000 and now − timestamp ≤ recvWindow, exactly', () => {
    expect(checkTimestamp(p(`timestamp=${now + 999}`), now)).toBe(now + 999 + 5_000);
    expect(code(() => checkTimestamp(p(`timestamp=${now + 1_000}`), now))).toBe(-1021);
    expect(checkTimestamp(p(`timestamp=${now - 5_000}`), now)).toBe(now);
    expect(code(() => checkTimestamp(p(`timestamp=${now - 5_001}`), now))).toBe(-1021);
    expect(checkTimestamp(p(`timestamp=${now - 60_000}&recvWindow=60000`), now)).toBe(now);
    expect(code(() => checkTimestamp(p(`timestamp=${now}&recvWindow=60001`), now))).toBe(-1131);
    expect(code(() => checkTimestamp(p(`timestamp=${now}&recvWindow=1.5`), now))).toBe(-1102);
    expect(code(() => checkTimestamp(p('recvWindow=10'), now))).toBe(-1102);
    expect(code(() => checkTimestamp(p('timestamp=-1'), now))).toBe(-1102);
  });
});

describe('replay guard', () => {
  it('remembers a signature until its window closes, and sheds load when full', () => {
    const g = new ReplayGuard(2);
    expect(g.check('a'.repeat(64), 100, 0)).toBe(REPLAY_OK);
    expect(g.check('a'.repeat(64), 100, 50)).toBe(REPLAY_SEEN);
    expect(g.check('b'.repeat(64), 200, 50)).toBe(REPLAY_OK);
    expect(g.check('c'.repeat(64), 300, 60)).toBe(REPLAY_FULL);
    expect(g.check('c'.repeat(64), 300, 101)).toBe(REPLAY_OK); // 'a' expired, room again
    expect(g.check('a'.repeat(64), 400, 101)).toBe(REPLAY_FULL);
    expect(g.size).toBe(2);
    expect(g.check('a'.repeat(64), 400, 301)).toBe(REPLAY_OK);
  });
});

describe('keys and tokens', () => {
  it('random keys are 64 alphanumerics and distinct', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const k = randomKey();
      expect(k).toMatch(API_KEY_RE);
      seen.add(k);
    }
    expect(seen.size).toBe(200);
  });

  it('the key store is bounded', () => {
    const keys = new KeyStore(1);
    keys.create(0);
    expect(code(() => keys.create(1))).toBe(-1130);
    expect(keys.entries()).toHaveLength(1);
  });

  it('listen keys: one per account, extended by keep-alive, gone after close or expiry', () => {
    const lk = new ListenKeys();
    const k = lk.open(3, 0);
    expect(lk.open(3, 10)).toBe(k);
    expect(lk.accountOf(k, 10)).toBe(3);
    expect(lk.keepAlive(3, 3_500_000)).toBe(k);
    expect(lk.accountOf(k, 3_500_000 + 3_599_999)).toBe(3);
    expect(lk.accountOf(k, 3_500_000 + 3_600_000)).toBe(-1);
    expect(code(() => lk.keepAlive(3, 9_000_000))).toBe(-1125);
    const k2 = lk.open(3, 9_000_000);
    expect(k2).not.toBe(k);
    lk.close(3);
    expect(lk.accountOf(k2, 9_000_001)).toBe(-1);
  });

  it('admin token comparison', () => {
    const t = new AdminToken('0123456789abcdef-token');
    expect(t.matches('0123456789abcdef-token')).toBe(true);
    expect(t.matches('0123456789abcdef-toke')).toBe(false);
    expect(t.matches(undefined)).toBe(false);
    expect(t.matches(['0123456789abcdef-token'])).toBe(false);
  });
});
