// Authentication: API keys, HMAC-SHA256 signatures over totalParams (query string followed
// directly by the body, the `signature` pair removed), the recvWindow rule, a replay guard
// for state-changing requests, listen keys, and the admin token. Every secret comparison
// is constant-time (crypto.timingSafeEqual on equal-length digests).

import { createHash, createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { assert } from '../core/int.ts';
import { apiError, GW } from './errors.ts';
import type { Params } from './params.ts';
import { parseUint } from './params.ts';

export const API_KEY_RE = /^[A-Za-z0-9]{64}$/;
const SIGNATURE_RE = /^[0-9a-fA-F]{64}$/;
export const RECV_WINDOW_DEFAULT_MS = 5_000;
export const RECV_WINDOW_MAX_MS = 60_000;
/** A timestamp may run this far ahead of the server clock. */
export const CLOCK_AHEAD_MAX_MS = 1_000;
export const API_KEYS_MAX_DEFAULT = 1_000_000;
export const REPLAY_CACHE_MAX_DEFAULT = 1_000_000;
export const LISTEN_KEY_TTL_MS = 60 * 60_000;

export interface ApiKeyRecord {
  accountId: number;
  apiKey: string;
  secretKey: string;
  readonly hmacKey: KeyObject;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 64 random alphanumeric characters (Binance key format); rejection sampling keeps it uniform. */
export function randomKey(): string {
  let out = '';
  while (out.length < 64) {
    for (const b of randomBytes(96)) {
      if (b < 248 && out.length < 64) out += ALNUM[b % 62];
    }
  }
  return out;
}

/** API key → account. In memory (persisting it belongs with the journal; see README). */
export class KeyStore {
  readonly keysMax: number;
  private readonly byKey = new Map<string, ApiKeyRecord>();

  constructor(keysMax = API_KEYS_MAX_DEFAULT) {
    this.keysMax = keysMax;
  }

  create(accountId: number): ApiKeyRecord {
    return this.add(accountId, randomKey(), randomKey());
  }

  add(accountId: number, apiKey: string, secretKey: string): ApiKeyRecord {
    assert(API_KEY_RE.test(apiKey), 'API keys are 64 alphanumeric characters');
    assert(secretKey.length >= 16 && secretKey.length <= 256, 'secret length 16..256');
    if (this.byKey.size >= this.keysMax) throw apiError(GW.INVALID_PARAMETER, `At most ${this.keysMax} API keys.`);
    const rec: ApiKeyRecord = { accountId, apiKey, secretKey, hmacKey: createSecretKey(Buffer.from(secretKey, 'utf8')) };
    this.byKey.set(apiKey, rec);
    return rec;
  }

  get(apiKey: string): ApiKeyRecord | undefined {
    return this.byKey.get(apiKey);
  }

  get size(): number { return this.byKey.size; }

  /** Plain records (for persistence). */
  entries(): { accountId: number; apiKey: string; secretKey: string }[] {
    return Array.from(this.byKey.values(), (r) => ({ accountId: r.accountId, apiKey: r.apiKey, secretKey: r.secretKey }));
  }
}

/** The API key of a request (-2014 when missing or malformed, -2015 when unknown). */
export function authenticateKey(keys: KeyStore, header: string | string[] | undefined): ApiKeyRecord {
  if (typeof header !== 'string' || !API_KEY_RE.test(header)) throw apiError(GW.BAD_API_KEY_FMT);
  const rec = keys.get(header);
  if (rec === undefined) throw apiError(GW.REJECTED_API_KEY);
  return rec;
}

/**
 * recvWindow rule: accept iff timestamp < serverTime + 1000 and serverTime − timestamp ≤
 * recvWindow. Returns the time after which this request can never be accepted again.
 */
export function checkTimestamp(params: Params, nowMs: number): number {
  const tsText = params.get('timestamp');
  const ts = tsText === undefined ? -1 : parseUint(tsText);
  if (ts < 0) throw apiError(GW.MANDATORY_PARAM, "Parameter 'timestamp' was not sent, was empty/null, or malformed.");
  let recvWindow = RECV_WINDOW_DEFAULT_MS;
  const rwText = params.get('recvWindow');
  if (rwText !== undefined) {
    recvWindow = parseUint(rwText);
    if (recvWindow < 0) throw apiError(GW.MANDATORY_PARAM, "Parameter 'recvWindow' is malformed.");
    if (recvWindow > RECV_WINDOW_MAX_MS) throw apiError(GW.BAD_RECV_WINDOW);
  }
  if (ts >= nowMs + CLOCK_AHEAD_MAX_MS) throw apiError(GW.INVALID_TIMESTAMP, "Timestamp for this request was 1000ms ahead of the server's time.");
  if (nowMs - ts > recvWindow) throw apiError(GW.INVALID_TIMESTAMP);
  return ts + recvWindow;
}

/** `raw` without its `signature=...` pair (and the '&' joining it). */
export function withoutSignature(raw: string): string {
  const from = raw.startsWith('signature=') ? 0 : raw.indexOf('&signature=');
  if (from < 0) return raw;
  let end = raw.indexOf('&', from + 1);
  if (end < 0) end = raw.length;
  // Keep exactly one '&' between the neighbours, none at the edges.
  if (from === 0) return end === raw.length ? '' : raw.slice(end + 1);
  return raw.slice(0, from) + raw.slice(end);
}

/** -1102 without a signature, -1022 when it does not match HMAC-SHA256(secret, totalParams). */
export function verifySignature(rec: ApiKeyRecord, params: Params, rawQuery: string, rawBody: string): string {
  const sig = params.get('signature');
  if (sig === undefined || sig === '') throw apiError(GW.MANDATORY_PARAM, "Parameter 'signature' was not sent, was empty/null, or malformed.");
  if (!SIGNATURE_RE.test(sig)) throw apiError(GW.INVALID_SIGNATURE);
  const payload = withoutSignature(rawQuery) + withoutSignature(rawBody);
  const expected = createHmac('sha256', rec.hmacKey).update(payload).digest();
  const given = Buffer.from(sig, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(expected, given)) throw apiError(GW.INVALID_SIGNATURE);
  return sig.toLowerCase();
}

export const REPLAY_OK = 0;
export const REPLAY_SEEN = 1;
export const REPLAY_FULL = 2;

/**
 * Signatures of accepted state-changing requests, remembered until their recvWindow closes
 * (after that the timestamp rule rejects them anyway). Binance has no such guard; it makes a
 * captured request useless to an eavesdropper and costs one Map entry per order.
 */
export class ReplayGuard {
  readonly max: number;
  private readonly seen = new Map<string, number>();
  private readonly ringKey: string[];
  private readonly ringExpiry: Float64Array;
  private head = 0;
  private length = 0;

  constructor(max = REPLAY_CACHE_MAX_DEFAULT) {
    assert(Number.isInteger(max) && max >= 1, 'replay cache max ≥ 1');
    this.max = max;
    this.ringKey = new Array<string>(max).fill('');
    this.ringExpiry = new Float64Array(max);
  }

  /** REPLAY_OK (remembered now), REPLAY_SEEN, or REPLAY_FULL (cannot remember: shed load). */
  check(signature: string, expiresMs: number, nowMs: number): number {
    this.expire(nowMs);
    const key = signature.slice(0, 32); // 128 bits
    if (this.seen.has(key)) return REPLAY_SEEN;
    if (this.length >= this.max) return REPLAY_FULL;
    this.seen.set(key, expiresMs);
    const tail = (this.head + this.length) % this.max;
    this.ringKey[tail] = key;
    this.ringExpiry[tail] = expiresMs;
    this.length++;
    return REPLAY_OK;
  }

  get size(): number { return this.length; }

  private expire(nowMs: number): void {
    // Insertion order ≈ expiry order; an entry with a longer window only delays the ones behind it.
    while (this.length > 0 && this.ringExpiry[this.head]! < nowMs) {
      this.seen.delete(this.ringKey[this.head]!);
      this.ringKey[this.head] = '';
      this.head = (this.head + 1) % this.max;
      this.length--;
    }
  }
}

/** Listen keys for user data streams: one per account, valid 60 min after the last keep-alive. */
export class ListenKeys {
  private readonly byAccount = new Map<number, { key: string; expiresMs: number }>();
  private readonly byKey = new Map<string, number>();

  /** Create, or return and extend the account's current key. */
  open(accountId: number, nowMs: number): string {
    const cur = this.byAccount.get(accountId);
    if (cur !== undefined && cur.expiresMs > nowMs) {
      cur.expiresMs = nowMs + LISTEN_KEY_TTL_MS;
      return cur.key;
    }
    if (cur !== undefined) this.byKey.delete(cur.key);
    const key = randomKey();
    this.byAccount.set(accountId, { key, expiresMs: nowMs + LISTEN_KEY_TTL_MS });
    this.byKey.set(key, accountId);
    return key;
  }

  /** Extend; returns the key, or throws -1125 when the account has no live key. */
  keepAlive(accountId: number, nowMs: number): string {
    const cur = this.byAccount.get(accountId);
    if (cur === undefined || cur.expiresMs <= nowMs) throw apiError(GW.INVALID_LISTEN_KEY);
    cur.expiresMs = nowMs + LISTEN_KEY_TTL_MS;
    return cur.key;
  }

  close(accountId: number): void {
    const cur = this.byAccount.get(accountId);
    if (cur === undefined) return;
    this.byAccount.delete(accountId);
    this.byKey.delete(cur.key);
  }

  /** The account of a live key, or -1. */
  accountOf(key: string, nowMs: number): number {
    const a = this.byKey.get(key);
    if (a === undefined) return -1;
    const cur = this.byAccount.get(a)!;
    return cur.expiresMs > nowMs ? a : -1;
  }
}

/** Admin token check in constant time (digests have equal length whatever the input). */
export class AdminToken {
  private readonly digest: Buffer;
  constructor(token: string) {
    assert(token.length >= 16, 'admin token of at least 16 characters');
    this.digest = createHash('sha256').update(token).digest();
  }
  matches(given: string | string[] | undefined): boolean {
    if (typeof given !== 'string') return false;
    return timingSafeEqual(this.digest, createHash('sha256').update(given).digest());
  }
}
