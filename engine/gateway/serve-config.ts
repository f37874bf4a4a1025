// `perpx serve --config <file>`: one JSON file for symbols, limits and fees.
//
// {
//   "engine":  { ...EngineConfig fields, "symbols": [ { "symbol": "BTCUSDT", ...SymbolConfig fields } ] },
//              (each symbol is merged over the BTCUSDT defaults of core/config.ts)
//   "gateway": { "limits": { ...GatewayLimits }, "rateLimits": { ...RateLimitConfig } },
//   "host":    { "queueMax": 10000, "batchMax": 512, "clockTickMs": 100, "projections": { "historyOrdersPerAccountMax": 1000, … } },
//   "indexPrices": { "BTCUSDT": "60000" }   (set at start-up)
// }

import { readFileSync } from 'node:fs';
import { btcusdt, defaultConfig } from '../core/config.ts';
import type { EngineConfig, SymbolConfig } from '../core/config.ts';
import type { GatewayLimits } from './context.ts';
import type { RateLimitConfig } from './rate-limit.ts';
import type { ProjectionLimits } from '../host/projections.ts';

export interface ServeConfig {
  engine: EngineConfig;
  limits: Partial<GatewayLimits>;
  rateLimits: Partial<RateLimitConfig>;
  queueMax: number | undefined;
  batchMax: number | undefined;
  clockTickMs: number | undefined;
  /** Bounded history kept by the host (orders/trades per account …). */
  projections: Partial<ProjectionLimits>;
  indexPrices: Record<string, string>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function optionalNumber(o: Record<string, unknown>, k: string): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`config: host.${k} must be a positive integer`);
  return v;
}

function numbersOnly<T>(o: unknown, where: string): Partial<T> {
  if (o === undefined) return {};
  if (!isObject(o)) throw new Error(`config: ${where} must be an object`);
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`config: ${where}.${k} must be a non-negative number`);
  }
  return o as Partial<T>;
}

/** Parse a config object (already JSON-decoded); throws a readable Error on bad input. */
export function parseServeConfig(raw: unknown): ServeConfig {
  if (raw === undefined) raw = {};
  if (!isObject(raw)) throw new Error('config: top level must be an object');
  const eng = raw.engine ?? {};
  if (!isObject(eng)) throw new Error('config: engine must be an object');
  const overrides: Partial<EngineConfig> = { ...(eng as Partial<EngineConfig>) };
  if (eng.symbols !== undefined) {
    if (!Array.isArray(eng.symbols) || eng.symbols.length === 0) throw new Error('config: engine.symbols must be a non-empty array');
    overrides.symbols = eng.symbols.map((s, i) => {
      if (!isObject(s) || typeof s.symbol !== 'string') throw new Error(`config: engine.symbols[${i}] needs a "symbol" name`);
      return btcusdt(s as Partial<SymbolConfig>);
    });
  }
  const engine = defaultConfig(overrides);
  const gw = raw.gateway ?? {};
  if (!isObject(gw)) throw new Error('config: gateway must be an object');
  const host = raw.host ?? {};
  if (!isObject(host)) throw new Error('config: host must be an object');
  const ix = raw.indexPrices ?? {};
  if (!isObject(ix)) throw new Error('config: indexPrices must be an object');
  for (const [k, v] of Object.entries(ix)) if (typeof v !== 'string') throw new Error(`config: indexPrices.${k} must be a decimal string`);
  return {
    engine,
    limits: numbersOnly<GatewayLimits>(gw.limits, 'gateway.limits'),
    rateLimits: numbersOnly<RateLimitConfig>(gw.rateLimits, 'gateway.rateLimits'),
    queueMax: optionalNumber(host, 'queueMax'),
    batchMax: optionalNumber(host, 'batchMax'),
    clockTickMs: optionalNumber(host, 'clockTickMs'),
    projections: numbersOnly<ProjectionLimits>(host.projections, 'host.projections'),
    indexPrices: ix as Record<string, string>,
  };
}

export function loadServeConfig(path: string | undefined): ServeConfig {
  if (path === undefined) return parseServeConfig({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`config: cannot read ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`config: ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseServeConfig(raw);
}
