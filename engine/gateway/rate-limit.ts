// Binance-style rate limits with fixed windows: REQUEST_WEIGHT per IP per minute, ORDERS
// per account per 10 s and per minute. Over a limit → 429 (+ Retry-After, seconds to the
// window's end); `banAfter429s` 429s without backing off → 418 for `banMs`. Every tracked
// map has a named maximum. Results are numbers plus fields read right after the call
// (single-threaded; no per-request objects).

import { assert } from '../core/int.ts';

export interface RateLimitConfig {
  weightPerMinute: number;
  ordersPer10s: number;
  ordersPerMinute: number;
  /** 429s (without a quiet minute in between) before an IP is banned with 418. */
  banAfter429s: number;
  banMs: number;
  /** IPs tracked at once; when full and none is idle, new IPs get 429. */
  trackedIpsMax: number;
  /** Accounts tracked at once (order counts). */
  trackedAccountsMax: number;
}

export const RATE_LIMITS_DEFAULT: RateLimitConfig = {
  weightPerMinute: 2_400,
  ordersPer10s: 300,
  ordersPerMinute: 1_200,
  banAfter429s: 10,
  banMs: 120_000,
  trackedIpsMax: 100_000,
  trackedAccountsMax: 1_000_000,
};

export const LIMIT_OK = 0;
export const LIMIT_429 = 429;
export const LIMIT_418 = 418;

const MINUTE_MS = 60_000;
const TEN_S_MS = 10_000;

class IpState {
  minute = -1;
  used = 0;
  strikes = 0;
  lastStrikeMinute = -1;
  bannedUntilMs = 0;
}

class OrderState {
  window10 = -1;
  used10 = 0;
  minute = -1;
  used60 = 0;
}

export interface Limiter {
  readonly enabled: boolean;
  /** Charge a request's weight to an IP; returns LIMIT_OK / LIMIT_429 / LIMIT_418. */
  chargeIp(ip: string, weight: number, nowMs: number): number;
  /** Charge new orders to an account; returns LIMIT_OK / LIMIT_429. */
  chargeOrders(accountId: number, count: number, nowMs: number): number;
  /** After chargeIp: weight used in the current minute. */
  usedWeight: number;
  /** After chargeOrders: orders in the current 10 s / minute windows. */
  usedOrders10s: number;
  usedOrders1m: number;
  /** After a 429/418: seconds until retrying makes sense. */
  retryAfterS: number;
}

export class RateLimiter implements Limiter {
  readonly enabled = true;
  readonly cfg: RateLimitConfig;
  private readonly ips = new Map<string, IpState>();
  private readonly accounts = new Map<number, OrderState>();
  usedWeight = 0;
  usedOrders10s = 0;
  usedOrders1m = 0;
  retryAfterS = 0;

  constructor(cfg: RateLimitConfig) {
    assert(cfg.weightPerMinute >= 1 && cfg.ordersPer10s >= 1 && cfg.ordersPerMinute >= 1, 'limits ≥ 1');
    assert(cfg.banAfter429s >= 1 && cfg.banMs >= 0 && cfg.trackedIpsMax >= 1 && cfg.trackedAccountsMax >= 1, 'ban and tracking limits');
    this.cfg = cfg;
  }

  chargeIp(ip: string, weight: number, nowMs: number): number {
    let st = this.ips.get(ip);
    if (st === undefined) {
      if (this.ips.size >= this.cfg.trackedIpsMax && !this.sweepIps(nowMs)) {
        this.usedWeight = 0;
        this.retryAfterS = secondsUntil(nowMs, (Math.floor(nowMs / MINUTE_MS) + 1) * MINUTE_MS);
        return LIMIT_429;
      }
      st = new IpState();
      this.ips.set(ip, st);
    }
    if (st.bannedUntilMs > nowMs) {
      this.usedWeight = st.used;
      this.retryAfterS = secondsUntil(nowMs, st.bannedUntilMs);
      return LIMIT_418;
    }
    const minute = Math.floor(nowMs / MINUTE_MS);
    if (st.minute !== minute) {
      st.minute = minute;
      st.used = 0;
      if (minute - st.lastStrikeMinute > 1) st.strikes = 0; // a quiet minute forgives
    }
    st.used += weight;
    this.usedWeight = st.used;
    if (st.used <= this.cfg.weightPerMinute) return LIMIT_OK;
    st.strikes++;
    st.lastStrikeMinute = minute;
    if (st.strikes >= this.cfg.banAfter429s) {
      st.bannedUntilMs = nowMs + this.cfg.banMs;
      st.strikes = 0;
      this.retryAfterS = secondsUntil(nowMs, st.bannedUntilMs);
      return LIMIT_418;
    }
    this.retryAfterS = secondsUntil(nowMs, (minute + 1) * MINUTE_MS);
    return LIMIT_429;
  }

  chargeOrders(accountId: number, count: number, nowMs: number): number {
    let st = this.accounts.get(accountId);
    if (st === undefined) {
      if (this.accounts.size >= this.cfg.trackedAccountsMax) this.sweepAccounts(nowMs);
      st = new OrderState();
      this.accounts.set(accountId, st);
    }
    const w10 = Math.floor(nowMs / TEN_S_MS);
    const minute = Math.floor(nowMs / MINUTE_MS);
    if (st.window10 !== w10) {
      st.window10 = w10;
      st.used10 = 0;
    }
    if (st.minute !== minute) {
      st.minute = minute;
      st.used60 = 0;
    }
    st.used10 += count;
    st.used60 += count;
    this.usedOrders10s = st.used10;
    this.usedOrders1m = st.used60;
    if (st.used10 > this.cfg.ordersPer10s) {
      this.retryAfterS = secondsUntil(nowMs, (w10 + 1) * TEN_S_MS);
      return LIMIT_429;
    }
    if (st.used60 > this.cfg.ordersPerMinute) {
      this.retryAfterS = secondsUntil(nowMs, (minute + 1) * MINUTE_MS);
      return LIMIT_429;
    }
    return LIMIT_OK;
  }

  trackedIps(): number { return this.ips.size; }

  /** Drop IPs idle since before this minute and not banned; true if room was made. */
  private sweepIps(nowMs: number): boolean {
    const minute = Math.floor(nowMs / MINUTE_MS);
    for (const [ip, st] of this.ips) {
      if (st.minute < minute && st.bannedUntilMs <= nowMs && minute - st.lastStrikeMinute > 1) this.ips.delete(ip);
    }
    return this.ips.size < this.cfg.trackedIpsMax;
  }

  private sweepAccounts(nowMs: number): void {
    const minute = Math.floor(nowMs / MINUTE_MS);
    for (const [a, st] of this.accounts) if (st.minute < minute) this.accounts.delete(a);
    // Still full: forget the oldest entries (counts restart; safe direction for a bound).
    if (this.accounts.size >= this.cfg.trackedAccountsMax) {
      let drop = Math.ceil(this.cfg.trackedAccountsMax / 10);
      for (const a of this.accounts.keys()) {
        if (drop-- <= 0) break;
        this.accounts.delete(a);
      }
    }
  }
}

/** `--no-rate-limit`: every charge passes, nothing is tracked, no headers are sent. */
export class NoRateLimit implements Limiter {
  readonly enabled = false;
  usedWeight = 0;
  usedOrders10s = 0;
  usedOrders1m = 0;
  retryAfterS = 0;
  chargeIp(): number { return LIMIT_OK; }
  chargeOrders(): number { return LIMIT_OK; }
}

function secondsUntil(nowMs: number, atMs: number): number {
  return Math.max(1, Math.ceil((atMs - nowMs) / 1000));
}
