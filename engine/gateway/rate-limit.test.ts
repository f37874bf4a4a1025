// Rate limiter model check: random request streams (IPs, weights, clock steps) against a
// straightforward model of Binance's fixed windows and ban rule; plus the tracking bounds.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runParams } from '../core/test-params.ts';
import { LIMIT_418, LIMIT_429, LIMIT_OK, NoRateLimit, RateLimiter } from './rate-limit.ts';
import type { RateLimitConfig } from './rate-limit.ts';

const cfg: RateLimitConfig = { weightPerMinute: 20, ordersPer10s: 3, ordersPerMinute: 5, banAfter429s: 3, banMs: 30_000, trackedIpsMax: 4, trackedAccountsMax: 4 };

describe('IP weight', () => {
  it('matches a fixed-window model with bans', () => {
    const step = fc.record({ ip: fc.constantFrom('a', 'b'), weight: fc.integer({ min: 0, max: 8 }), dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20_000 })) });
    fc.assert(fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
      const rl = new RateLimiter(cfg);
      const model = new Map<string, { minute: number; used: number; strikes: number; lastStrike: number; banned: number }>();
      let now = 0;
      for (const s of steps) {
        now += s.dt;
        let m = model.get(s.ip);
        if (m === undefined) model.set(s.ip, m = { minute: -1, used: 0, strikes: 0, lastStrike: -1, banned: 0 });
        let expected: number;
        const minute = Math.floor(now / 60_000);
        if (m.banned > now) expected = LIMIT_418;
        else {
          if (m.minute !== minute) {
            m.minute = minute;
            m.used = 0;
            if (minute - m.lastStrike > 1) m.strikes = 0;
          }
          m.used += s.weight;
          if (m.used <= cfg.weightPerMinute) expected = LIMIT_OK;
          else {
            m.strikes++;
            m.lastStrike = minute;
            if (m.strikes >= cfg.banAfter429s) {
              m.banned = now + cfg.banMs;
              m.strikes = 0;
              expected = LIMIT_418;
            } else expected = LIMIT_429;
          }
        }
        expect(rl.chargeIp(s.ip, s.weight, now)).toBe(expected);
        if (expected !== LIMIT_OK) expect(rl.retryAfterS).toBeGreaterThanOrEqual(1);
      }
    }), runParams(300));
  });

  it('tracks at most trackedIpsMax IPs; idle ones are swept, and when none is idle new IPs get 429', () => {
    const rl = new RateLimiter(cfg);
    for (const ip of ['1', '2', '3', '4']) expect(rl.chargeIp(ip, 1, 0)).toBe(LIMIT_OK);
    expect(rl.chargeIp('5', 1, 1_000)).toBe(LIMIT_429);
    expect(rl.trackedIps()).toBe(4);
    expect(rl.chargeIp('5', 1, 61_000)).toBe(LIMIT_OK); // the others were idle for a minute
    expect(rl.trackedIps()).toBe(1);
  });
});

describe('account orders', () => {
  it('10 s and 1 min windows with Retry-After to the window end', () => {
    const rl = new RateLimiter(cfg);
    for (let i = 1; i <= 3; i++) {
      expect(rl.chargeOrders(1, 1, 1_000)).toBe(LIMIT_OK);
      expect(rl.usedOrders10s).toBe(i);
    }
    expect(rl.chargeOrders(1, 1, 2_000)).toBe(LIMIT_429);
    expect(rl.retryAfterS).toBe(8);
    expect(rl.chargeOrders(2, 1, 2_000)).toBe(LIMIT_OK); // per account
    expect(rl.chargeOrders(1, 1, 10_000)).toBe(LIMIT_OK); // new 10 s window; minute has 5
    expect(rl.usedOrders1m).toBe(5);
    expect(rl.chargeOrders(1, 1, 20_000)).toBe(LIMIT_429); // minute limit
    expect(rl.retryAfterS).toBe(40);
  });

  it('--no-rate-limit passes everything', () => {
    const off = new NoRateLimit();
    expect(off.enabled).toBe(false);
    expect(off.chargeIp()).toBe(LIMIT_OK);
    expect(off.chargeOrders()).toBe(LIMIT_OK);
  });
});
