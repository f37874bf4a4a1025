// Pluggable request factories. A worker thread asks its factory for the request of each
// arrival at send time (`next`), and hands the response back (`onResponse`) so stateful flows
// (order ids to cancel, an index that moves) can follow what the server said. Factories are
// declared in the scenario as plain data, because they are built inside each worker thread:
//   { factory: 'static', method, path, headers?, body? }
//   { factory: 'binance-order', symbol, accounts, ... }   (harness/binance-flow.ts)
//   { factory: 'module', module: './my-flow.ts', export: 'createFactory', options: {...} }
// A module factory exports `(options, ctx: FactoryContext) => RequestFactory | Promise<…>`.

import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { createBinanceOrderFactory, normalizeBinanceFlow } from './binance-flow.ts';
import type { BinanceFlowOptions } from './binance-flow.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RequestSpec {
  method: HttpMethod;
  /** Path plus query string, e.g. "/fapi/v1/order?symbol=BTCUSDT&...". */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Operation name in the history and in per-op counts ("place", "cancel", "ping"). */
  op: string;
  /** Small JSON-able description of the request for the history (no secrets). */
  summary?: unknown;  /** The same request for a WebSocket API target (method + signed params); REST targets ignore it. */
  ws?: { method: string; params: Record<string, string> };
}

export interface FactoryContext {
  readonly workerIndex: number;
  readonly workerCount: number;
  readonly seed: number;
}

export interface RequestFactory {
  /** The request for arrival `seq` intended at `intendedMs` (epoch ms, shared clock). */
  next(seq: number, intendedMs: number): RequestSpec;
  /** True if `onResponse` needs the body of successful responses (error bodies are always read). */
  readonly wantsBody: boolean;
  /** Sees every outcome; returns a small summary stored in the history (or undefined). */
  onResponse?(spec: RequestSpec, status: number, body: string): unknown;
}

export type RequestDecl =
  | {
      factory: 'static'; method?: HttpMethod; path: string; headers?: Record<string, string>; body?: string; op?: string;
      /** Send the arrival's run-unique sequence number in this header (the calibrator uses x-seq). */
      seqHeader?: string;
    }
  | ({ factory: 'binance-order' } & BinanceFlowOptions)
  | { factory: 'module'; module: string; export?: string; options?: unknown };

const METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'DELETE'];

/** Validates a declaration; resolves a module path against `baseDir` into a file URL. */
export function normalizeRequestDecl(decl: unknown, baseDir: string): RequestDecl {
  if (decl === undefined) return { factory: 'static', method: 'GET', path: '/', op: 'get' };
  if (decl === null || typeof decl !== 'object') throw new Error('request must be an object like {"factory":"static","path":"/"}');
  const d = decl as Record<string, unknown>;
  switch (d.factory ?? 'static') {
    case 'static': {
      const method = (d.method ?? 'GET') as string;
      if (!METHODS.includes(method)) throw new Error(`request.method must be one of ${METHODS.join(', ')}`);
      if (typeof d.path !== 'string' || !d.path.startsWith('/')) throw new Error('request.path must be a string starting with "/"');
      if (d.body !== undefined && typeof d.body !== 'string') throw new Error('request.body must be a string');
      if (d.headers !== undefined && (typeof d.headers !== 'object' || d.headers === null)) throw new Error('request.headers must be an object');
      if (d.seqHeader !== undefined && (typeof d.seqHeader !== 'string' || !/^[a-z0-9-]{1,64}$/i.test(d.seqHeader))) {
        throw new Error('request.seqHeader must be a header name');
      }
      return {
        factory: 'static', method: method as HttpMethod, path: d.path, op: typeof d.op === 'string' ? d.op : method.toLowerCase(),
        ...(d.seqHeader === undefined ? {} : { seqHeader: d.seqHeader }),
        ...(d.headers === undefined ? {} : { headers: d.headers as Record<string, string> }),
        ...(d.body === undefined ? {} : { body: d.body }),
      };
    }
    case 'binance-order':
      return { factory: 'binance-order', ...normalizeBinanceFlow(d) };
    case 'module': {
      if (typeof d.module !== 'string' || d.module.length === 0) throw new Error('request.module must be a path or URL');
      const url = /^[a-z]+:/i.test(d.module) ? d.module : pathToFileURL(isAbsolute(d.module) ? d.module : resolve(baseDir, d.module)).href;
      return { factory: 'module', module: url, export: typeof d.export === 'string' ? d.export : 'createFactory', options: d.options };
    }
    default:
      throw new Error(`request.factory must be static, binance-order or module, got ${JSON.stringify(d.factory)}`);
  }
}

export async function createFactory(decl: RequestDecl, ctx: FactoryContext): Promise<RequestFactory> {
  switch (decl.factory) {
    case 'static':
      return staticFactory(decl);
    case 'binance-order':
      return createBinanceOrderFactory(normalizeBinanceFlow(decl as unknown as Record<string, unknown>), ctx);
    case 'module': {
      const mod = (await import(decl.module)) as Record<string, unknown>;
      const fn = mod[decl.export ?? 'createFactory'];
      if (typeof fn !== 'function') throw new Error(`${decl.module} has no exported function ${decl.export ?? 'createFactory'}`);
      const factory = (await fn(decl.options, ctx)) as RequestFactory;
      if (factory === null || typeof factory !== 'object' || typeof factory.next !== 'function') {
        throw new Error(`${decl.module}: ${decl.export ?? 'createFactory'} must return an object with next(seq, intendedMs)`);
      }
      return factory;
    }
  }
}

function staticFactory(decl: Extract<RequestDecl, { factory: 'static' }>): RequestFactory {
  // One spec object for every request: static requests allocate nothing per send.
  const spec: RequestSpec = {
    method: decl.method ?? 'GET', path: decl.path, op: decl.op ?? 'get',
    ...(decl.headers === undefined ? {} : { headers: decl.headers }),
    ...(decl.body === undefined ? {} : { body: decl.body }),
  };
  const seqHeader = decl.seqHeader;
  if (seqHeader === undefined) return { wantsBody: false, next: () => spec };
  return {
    wantsBody: false,
    next: (seq: number) => ({ ...spec, headers: { ...decl.headers, [seqHeader]: String(seq) } }),
  };
}
