// The gateway's telemetry end to end, on a real gateway over an in-process host:
// - /metrics (same port) serves Prometheus text with the request counter and latency
//   histogram by route and status, the stage histograms, and per-thread event-loop, GC and
//   heap series, after some signed orders;
// - with 100% sampling and an in-memory exporter, an order is one SERVER span with the five
//   stage spans as children, back to back and in pipeline order (built from the stamps a
//   host returns), and a remote W3C parent is continued;
// - with sampling 0 (and with an unsampled parent) no span is made;
// - the OTLP endpoint variables choose the exporter class and URL per protocol; spans and
//   metrics then really arrive at a loopback sink with the right path and content type;
// - telemetry off is the no-op object and the host is not wrapped.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OTLPMetricExporter as OTLPMetricExporterJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPMetricExporterProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as OTLPTraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPTraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as OTLPTraceExporterGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { hrTimeToMicroseconds } from '@opentelemetry/core';
import { afterEach, describe, expect, it } from 'vitest';
import { forceGc } from '../../bench/measure.ts';
import type { Command } from '../core/commands.ts';
import type { ExchangeHost, SubmitResult } from '../host/host.ts';
import { InProcessHost } from '../host/in-process-host.ts';
import { gatewayTestConfig, raw, signed, startTestExchange } from '../test/gateway-support.ts';
import type { TestAccount, TestExchange } from '../test/gateway-support.ts';
import { nowMs } from './clock.ts';
import { signedParams, TestClient, wsUrl } from '../gateway/ws/ws-test-support.ts';
import { NOOP_GATEWAY_TELEMETRY } from './gateway-hooks.ts';
import type { StampedResult } from './stamps.ts';
import { createTelemetry } from './telemetry.ts';
import type { TelemetryOptions } from './telemetry.ts';

let ex: TestExchange | undefined;
afterEach(async () => {
  if (ex !== undefined) {
    expect(ex.gw.state.stats.internalErrors).toBe(0);
    await ex.close();
    ex = undefined;
  }
});

/**
 * Stands in for the engine-thread host's side of the stamp contract: returns `stamps` with
 * apply start/end and durable times between submit and reply (quarter points).
 */
class StampingTestHost implements ExchangeHost {
  readonly inner: InProcessHost;
  readonly config: InProcessHost['config'];
  constructor(inner: InProcessHost) {
    this.inner = inner;
    this.config = inner.config;
  }
  async submit(c: Command): Promise<SubmitResult> {
    const t = nowMs();
    const r: StampedResult = await this.inner.submit(c);
    const d = nowMs() - t;
    r.stamps = { applyStartMs: t + d * 0.25, applyEndMs: t + d * 0.5, durableMs: t + d * 0.75 };
    return r;
  }
  query: ExchangeHost['query'] = (q) => this.inner.query(q);
  subscribe: ExchangeHost['subscribe'] = (l) => this.inner.subscribe(l);
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function exchange(telemetry: TelemetryOptions | false, stamping = false): Promise<TestExchange> {
  const inner = new InProcessHost(gatewayTestConfig(), { log: () => {} });
  const host = stamping ? new StampingTestHost(inner) : inner;
  const e = await startTestExchange({ gateway: { host, telemetry: telemetry === false ? false : { env: {}, ...telemetry } } });
  // startTestExchange made its own InProcessHost: close it, keep ours for close().
  const own = e.host;
  await own.close();
  return { ...e, host: inner, close: async () => { await e.gw.close(); await inner.close(); } };
}

const order = (i: number) => ({
  symbol: 'BTCUSDT', side: i % 2 === 0 ? 'BUY' : 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: String(i % 2 === 0 ? 59_000 - i : 61_000 + i),
});

function spanTree(spans: ReadableSpan[]): { root: ReadableSpan; children: ReadableSpan[] } {
  const roots = spans.filter((s) => s.kind === 1 /* SERVER */);
  expect(roots).toHaveLength(1);
  const root = roots[0]!;
  const children = spans.filter((s) => s !== root);
  for (const c of children) {
    expect(c.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(c.spanContext().traceId).toBe(root.spanContext().traceId);
  }
  children.sort((a, b) => hrTimeToMicroseconds(a.startTime) - hrTimeToMicroseconds(b.startTime));
  return { root, children };
}

/** Children tile the parent: each starts where the previous ended, within the parent. */
function expectBackToBack(root: ReadableSpan, children: ReadableSpan[]): void {
  let at = hrTimeToMicroseconds(root.startTime);
  for (const c of children) {
    expect(Math.abs(hrTimeToMicroseconds(c.startTime) - at)).toBeLessThanOrEqual(1);
    expect(hrTimeToMicroseconds(c.endTime)).toBeGreaterThanOrEqual(hrTimeToMicroseconds(c.startTime));
    at = hrTimeToMicroseconds(c.endTime);
  }
  expect(Math.abs(hrTimeToMicroseconds(root.endTime) - at)).toBeLessThanOrEqual(1);
}

describe('/metrics', () => {
  it('serves request, stage, event-loop, GC and heap series in Prometheus text on the gateway port', async () => {
    ex = await exchange({ runtimeSampleMs: 20 });
    const acct = await ex.createAccount();
    const N = 6;
    for (let i = 0; i < N; i++) expect((await signed(ex.url, acct, 'POST', '/fapi/v1/order', order(i))).status).toBe(200);
    expect((await signed(ex.url, acct, 'POST', '/fapi/v1/order', { ...order(0), price: '1.5' })).status).toBe(400);
    expect((await raw(ex.url, 'GET', '/no/such/path')).status).toBe(404);
    forceGc();
    await new Promise((r) => setTimeout(r, 60)); // GC entries and one runtime sample arrive
    const res = await fetch(`${ex.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const value = (re: RegExp): number => {
      const m = re.exec(text);
      expect(m, `no line matches ${re}`).not.toBeNull();
      return Number(m![1]);
    };
    expect(text).toContain('# TYPE perpx_http_requests_total counter');
    expect(text).toContain('# TYPE perpx_http_request_duration_seconds histogram');
    expect(value(/^perpx_http_requests_total\{[^}]*method="POST",route="\/fapi\/v1\/order",status="200"[^}]*\} (\d+)/m)).toBe(N);
    expect(value(/^perpx_http_requests_total\{[^}]*method="POST",route="\/fapi\/v1\/order",status="400"[^}]*\} (\d+)/m)).toBe(1);
    expect(value(/^perpx_http_requests_total\{[^}]*route="unmatched",status="404"[^}]*\} (\d+)/m)).toBe(1);
    expect(value(/^perpx_http_request_duration_seconds_count\{[^}]*route="\/fapi\/v1\/order",status="200"[^}]*\} (\d+)/m)).toBe(N);
    expect(value(/^perpx_http_request_duration_seconds_bucket\{[^}]*route="\/fapi\/v1\/order",status="200"[^}]*le="\+Inf"\} (\d+)/m)).toBe(N);
    // Orders and the admin calls that submit commands all pass the stage hooks.
    expect(value(/^perpx_stage_duration_seconds_count\{[^}]*stage="decode_auth"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(N);
    expect(value(/^perpx_stage_duration_seconds_count\{[^}]*stage="host_round_trip"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(N);
    expect(value(/^perpx_eventloop_delay_seconds\{[^}]*thread="gateway-0",stat="max"[^}]*\} ([\d.e+-]+)/m)).toBeGreaterThanOrEqual(0);
    expect(value(/^perpx_eventloop_utilization\{[^}]*thread="gateway-0"[^}]*\} ([\d.e+-]+)/m)).toBeGreaterThan(0);
    expect(value(/^perpx_heap_used_bytes\{[^}]*thread="gateway-0"[^}]*\} (\d+)/m)).toBeGreaterThan(1e6);
    expect(value(/^perpx_gc_duration_seconds_count\{[^}]*thread="gateway-0",kind="major"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(text).toContain('# TYPE perpx_journal_fsync_duration_seconds histogram');
    expect(text).toContain('# TYPE perpx_engine_batch_size histogram');
  });

  it('WebSocket API calls are requests too: RED per method, stages, and their error codes', async () => {
    ex = await exchange({}, true);
    const acct = await ex.createAccount();
    const c = await TestClient.open(wsUrl(ex.url, '/ws-fapi/v1'));
    try {
      const N = 4;
      for (let i = 0; i < N; i++) expect((await c.request({ id: i, method: 'order.place', params: signedParams(acct, order(i)) })).status).toBe(200);
      const bad = await c.request({ id: 'x', method: 'order.cancel', params: signedParams(acct, { symbol: 'BTCUSDT', orderId: 999_999 }) });
      expect(bad.error.code).toBe(-2011);
    } finally {
      c.ws.close();
    }
    const text = await (await fetch(`${ex.url}/metrics`)).text();
    const value = (re: RegExp): number => {
      const m = re.exec(text);
      expect(m, `no line matches ${re}`).not.toBeNull();
      return Number(m![1]);
    };
    expect(value(/^perpx_http_requests_total\{[^}]*method="WS",route="order\.place",status="200"[^}]*\} (\d+)/m)).toBe(4);
    expect(value(/^perpx_http_requests_total\{[^}]*method="WS",route="order\.cancel",status="400"[^}]*\} (\d+)/m)).toBe(1);
    // The stamped submits of the WS orders reach the engine stages (plus the admin setup calls).
    expect(value(/^perpx_stage_duration_seconds_count\{[^}]*stage="engine_apply"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(4);
    expect(value(/^perpx_gateway_errors_total\{[^}]*code="-2011"[^}]*\} (\d+)/m)).toBe(1);
  });

  it('counts what an engine recorder writes from another thread into a shared slab', async () => {
    const { Worker } = await import('node:worker_threads');
    const { createSlabHandle } = await import('./slab.ts');
    const engineSlab = createSlabHandle('engine');
    ex = await exchange({ peerSlabs: [engineSlab] });
    const w = new Worker(new URL('./test-recorder-worker.ts', import.meta.url), { workerData: engineSlab });
    await new Promise<void>((resolve, reject) => { w.once('exit', () => resolve()); w.once('error', reject); });
    const text = await (await fetch(`${ex.url}/metrics`)).text();
    expect(text).toMatch(/^perpx_journal_fsync_duration_seconds_count 3$/m);
    expect(text).toMatch(/^perpx_journal_fsync_duration_seconds_bucket\{le="0.0025"\} 3$/m);
    expect(text).toMatch(/^perpx_journal_batch_size_sum 60$/m);
    expect(text).toMatch(/^perpx_journal_written_bytes_total 6000$/m);
    expect(text).toMatch(/^perpx_engine_batch_size_count 2$/m);
    expect(text).toMatch(/^perpx_heap_used_bytes\{[^}]*thread="engine"[^}]*\} \d+/m);
  });
});

describe('traces', () => {
  it('one order = a SERVER span with the five stage spans back to back, in pipeline order', async () => {
    const spans = new InMemorySpanExporter();
    ex = await exchange({ spanExporter: spans, spanProcessor: 'simple', sampler: 'parentbased_traceidratio', sampleRatio: 1 }, true);
    const acct = await ex.createAccount();
    spans.reset();
    expect((await signed(ex.url, acct, 'POST', '/fapi/v1/order', order(1))).status).toBe(200);
    const { root, children } = spanTree(spans.getFinishedSpans());
    expect(root.name).toBe('POST /fapi/v1/order');
    expect(root.attributes['http.response.status_code']).toBe(200);
    expect(root.attributes['http.route']).toBe('/fapi/v1/order');
    expect(root.parentSpanContext).toBeUndefined();
    expect(children.map((c) => c.name)).toEqual(['decode+auth', 'queue wait', 'engine apply', 'journal wait', 'encode+write']);
    expectBackToBack(root, children);
  });

  it('without host stamps the engine part is one "host" span; a query has decode+auth and handle', async () => {
    const spans = new InMemorySpanExporter();
    ex = await exchange({ spanExporter: spans, spanProcessor: 'simple', sampler: 'always_on' });
    const acct = await ex.createAccount();
    spans.reset();
    await signed(ex.url, acct, 'POST', '/fapi/v1/order', order(2));
    let t = spanTree(spans.getFinishedSpans());
    expect(t.children.map((c) => c.name)).toEqual(['decode+auth', 'host', 'encode+write']);
    expectBackToBack(t.root, t.children);
    spans.reset();
    await signed(ex.url, acct, 'GET', '/fapi/v2/account');
    t = spanTree(spans.getFinishedSpans());
    expect(t.root.name).toBe('GET /fapi/v2/account');
    expect(t.children.map((c) => c.name)).toEqual(['decode+auth', 'handle']);
  });

  it('continues a sampled W3C parent and drops an unsampled one (parent-based)', async () => {
    const spans = new InMemorySpanExporter();
    ex = await exchange({ spanExporter: spans, spanProcessor: 'simple', sampler: 'parentbased_traceidratio', sampleRatio: 0 });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await raw(ex.url, 'GET', '/fapi/v1/ping', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    const { root } = spanTree(spans.getFinishedSpans());
    expect(root.spanContext().traceId).toBe(traceId);
    expect(root.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    spans.reset();
    await raw(ex.url, 'GET', '/fapi/v1/ping', { traceparent: `00-${traceId}-00f067aa0ba902b7-00` });
    expect(spans.getFinishedSpans()).toHaveLength(0);
  });

  it('sampling 0: no spans, however many requests', async () => {
    const spans = new InMemorySpanExporter();
    ex = await exchange({ spanExporter: spans, spanProcessor: 'simple', sampleRatio: 0 });
    const acct = await ex.createAccount();
    for (let i = 0; i < 20; i++) await signed(ex.url, acct, 'POST', '/fapi/v1/order', order(i));
    await ex.gw.telemetry!.flush();
    expect(spans.getFinishedSpans()).toHaveLength(0);
  });
});

describe('OTLP from the environment', () => {
  it('picks the exporter class and URL per protocol; no endpoint → no OTLP', async () => {
    const cases: [Record<string, string>, unknown, string | null][] = [
      [{}, null, null],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, OTLPTraceExporterProto, 'http://collector:4318/v1/traces'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, OTLPTraceExporterJson, 'http://collector:4318/v1/traces'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, OTLPTraceExporterGrpc, 'http://collector:4317'],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/v1/traces' }, OTLPTraceExporterProto, 'http://tempo:4318/v1/traces'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }, null, null],
    ];
    for (const [env, cls, url] of cases) {
      const t = (await createTelemetry({ env, metrics: false }))!;
      expect(t.otlp.traces?.url ?? null, JSON.stringify(env)).toBe(url);
      if (cls === null) expect(t.spanExporter).toBeNull();
      else expect(t.spanExporter).toBeInstanceOf(cls as never);
      expect(t.decide === null).toBe(cls === null);
      await t.shutdown();
    }
    expect(await createTelemetry({ env: { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' } })).toBeNull();
    expect(await createTelemetry({ env: {}, enabled: false })).toBeNull();
    const m = (await createTelemetry({ env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://mimir:4318/otlp/v1/metrics', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' }, pushMetrics: false }))!;
    expect(m.otlp.metrics?.url).toBe('http://mimir:4318/otlp/v1/metrics');
    expect(m.metricExporter).toBeNull(); // pushMetrics false: another thread pushes
    await m.shutdown();
    void OTLPMetricExporterJson;
  });

  it('sends spans and metrics to the configured endpoint (a loopback sink)', async () => {
    const got: { path: string; type: string; bytes: number }[] = [];
    const sink = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => { bytes += d.length; });
      req.on('end', () => {
        got.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', bytes });
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
    try {
      ex = await exchange({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: base, OTEL_TRACES_SAMPLER: 'always_on' } });
      const tel = ex.gw.telemetry!;
      expect(tel.metricExporter).toBeInstanceOf(OTLPMetricExporterProto);
      expect(tel.sampling).toEqual({ sampler: 'always_on', ratio: 0.01 });
      expect(tel.describe()).toBe(`telemetry: metrics: GET /metrics (Prometheus), OTLP http/protobuf → ${base}/v1/metrics; traces: always_on → OTLP http/protobuf ${base}/v1/traces`);
      expect((await raw(ex.url, 'GET', '/fapi/v1/ping')).status).toBe(200);
      await tel.flush();
      const paths = got.map((g) => g.path).sort();
      expect(paths).toEqual(['/v1/metrics', '/v1/traces']);
      for (const g of got) {
        expect(g.type).toBe('application/x-protobuf');
        expect(g.bytes).toBeGreaterThan(50);
      }
    } finally {
      await ex?.close();
      ex = undefined;
      sink.close();
    }
  });
});

describe('telemetry off', () => {
  it('is the no-op hook object, no /metrics, and the host is the caller\'s own', async () => {
    ex = await exchange(false);
    expect(ex.gw.telemetry).toBeNull();
    expect(ex.gw.state.telemetry).toBe(NOOP_GATEWAY_TELEMETRY);
    expect(ex.gw.state.host).toBe(ex.host);
    expect((await raw(ex.url, 'GET', '/metrics')).status).toBe(404);
    const acct: TestAccount = await ex.createAccount();
    expect((await signed(ex.url, acct, 'POST', '/fapi/v1/order', order(3))).status).toBe(200);
  });
});
