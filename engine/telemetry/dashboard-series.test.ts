// The series added for the dashboards and for `perpx compare`, on their own (the Prometheus
// end-to-end test in dashboards/test only proves they exist under load):
// - engine thread: every fsync timed; group commit = commands and bytes the fsync covered
//   (not counted again by an fsync that covers nothing new); liquidation events counted;
// - gateway: the host in-flight gauge goes up on submit and back down on reply AND on rejection;
// - gateway sources: error codes (with -1008 always present) and WebSocket counters exported;
// - runtime: bytes allocated grow by at least what a loop provably allocated and kept alive.

import { describe, expect, it } from 'vitest';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { EngineEvent } from '../core/events.ts';
import type { FileIO } from '../journal/file-io.ts';
import type { ExchangeHost, SubmitResult } from '../host/host.ts';
import { engineThreadTelemetry } from './engine-thread-telemetry.ts';
import { gatewayTelemetry } from './gateway-hooks.ts';
import { OTHER_ROUTE, SlabProducer } from './producer.ts';
import type { GatewaySources } from './producer.ts';
import { startRuntimeSampler } from './runtime.ts';
import { createSlabHandle, HOST_INFLIGHT, RT_ALLOCATED_BYTES, Slab } from './slab.ts';
import { createTelemetry } from './telemetry.ts';

async function collect(slabs: Slab[], sources: GatewaySources | null = null): Promise<Map<string, MetricData>> {
  const r = await new SlabProducer(slabs, () => OTHER_ROUTE, () => {}, () => sources).collect();
  return new Map(r.resourceMetrics.scopeMetrics[0]!.metrics.map((m) => [m.descriptor.name, m]));
}

function values(m: MetricData | undefined): { attrs: Record<string, unknown>; value: unknown }[] {
  expect(m).toBeDefined();
  return (m!.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]).map((p) => ({ attrs: p.attributes, value: p.value }));
}

describe('engine-thread telemetry', () => {
  it('times fsyncs, counts group commits by what each fsync covered, counts liquidations', async () => {
    const handle = createSlabHandle('engine');
    const tel = engineThreadTelemetry(handle);
    try {
      const fsyncs: number[] = [];
      const io = tel.instrumentIO({ fsync: async (fd: number) => { fsyncs.push(fd); await new Promise((r) => setTimeout(r, 5)); } } as unknown as FileIO);
      await io.fsync(7); // before the journal is attached (recovery): timed, no group commit
      const stats = { writtenSeq: 100, bytesWritten: 10_000 };
      tel.attachJournal(stats);
      stats.writtenSeq = 105;
      stats.bytesWritten = 10_640;
      await io.fsync(7); // covers commands 101..105
      await io.fsync(7); // nothing new written: not a group commit
      stats.writtenSeq = 108;
      stats.bytesWritten = 11_000;
      await io.fsync(7);
      expect(fsyncs).toEqual([7, 7, 7, 7]);
      const ev = (type: string) => ({ type }) as unknown as EngineEvent;
      tel.onApplied([ev('order'), ev('liquidation'), ev('trade'), ev('liquidation')]);
      tel.onApplied([ev('liquidation')]);
      tel.onApplied([]);
      const m = await collect([new Slab(handle)]);
      const fsync = values(m.get('perpx_journal_fsync_duration_seconds'))[0]!.value as { count: number; sum: number };
      expect(fsync.count).toBe(4);
      expect(fsync.sum).toBeGreaterThanOrEqual(4 * 0.004);
      const batch = values(m.get('perpx_journal_batch_size'))[0]!.value as { count: number; sum: number };
      expect(batch).toMatchObject({ count: 2, sum: 8 });
      expect(values(m.get('perpx_journal_written_bytes'))[0]!.value).toBe(1_000);
      expect(values(m.get('perpx_liquidations'))[0]!.value).toBe(3);
    } finally {
      tel.stop();
    }
  });

  it('keeps a class-based FileIO whole: prototype methods still work, bound to the original', async () => {
    const handle = createSlabHandle('engine');
    const tel = engineThreadTelemetry(handle);
    try {
      class CountingIO {
        calls: string[] = [];
        async mkdirp(dir: string): Promise<void> { this.calls.push(`mkdirp ${dir}`); }
        async fsync(fd: number): Promise<void> { this.calls.push(`fsync ${fd}`); }
      }
      const inner = new CountingIO();
      const io = tel.instrumentIO(inner as unknown as FileIO);
      await io.mkdirp('/x');
      await io.fsync(3);
      expect(inner.calls).toEqual(['mkdirp /x', 'fsync 3']);
    } finally {
      tel.stop();
    }
  });

  it('without a slab every hook is a no-op and the FileIO is returned as is', () => {
    const tel = engineThreadTelemetry(null);
    const io = {} as FileIO;
    expect(tel.instrumentIO(io)).toBe(io);
    tel.onApplied([{ type: 'liquidation' } as unknown as EngineEvent]);
    tel.stop();
  });
});

describe('gateway telemetry additions', () => {
  it('host in-flight gauge: +1 per submit, −1 on reply and on rejection', async () => {
    const t = (await createTelemetry({ env: {}, metricsPath: null }))!;
    try {
      const pending: { resolve: (r: SubmitResult) => void; reject: (e: Error) => void }[] = [];
      const host = {
        config: {} as ExchangeHost['config'],
        submit: () => new Promise<SubmitResult>((resolve, reject) => pending.push({ resolve, reject })),
        query: () => Promise.reject(new Error('unused')),
        subscribe: () => () => {},
        close: async () => {},
      } as unknown as ExchangeHost;
      const wrapped = gatewayTelemetry(t, []).wrapHost(host);
      const inflight = () => t.slab.a[HOST_INFLIGHT];
      const a = wrapped.submit({ type: 'createAccount' });
      const b = wrapped.submit({ type: 'createAccount' });
      const c = wrapped.submit({ type: 'createAccount' });
      expect(inflight()).toBe(3);
      pending[0]!.resolve({ seq: 1, events: [] } as unknown as SubmitResult);
      await a;
      expect(inflight()).toBe(2);
      pending[1]!.reject(new Error('-1008'));
      await expect(b).rejects.toThrow('-1008');
      expect(inflight()).toBe(1);
      pending[2]!.resolve({ seq: 2, events: [] } as unknown as SubmitResult);
      await c;
      expect(inflight()).toBe(0);
    } finally {
      await t.shutdown();
    }
  });

  it('exports gateway error codes (-1008 present at 0 before any shed) and WebSocket counters', async () => {
    const slab = new Slab(createSlabHandle('gateway-0'));
    const errorsByCode = new Map<number, number>([[-2011, 4]]);
    const ws = { connections: 3, stats: { connectionsOpened: 9, connectionsRejected: 1, slowConsumers: 2, pingTimeouts: 5, messagesIn: 40, messagesOut: 400 } };
    let m = await collect([slab], { errorsByCode, ws });
    expect(values(m.get('perpx_gateway_errors')).map((p) => [p.attrs.code, p.value]).sort()).toEqual([['-1008', 0], ['-2011', 4]]);
    errorsByCode.set(-1008, 6);
    ws.connections = 1;
    m = await collect([slab], { errorsByCode, ws });
    expect(values(m.get('perpx_gateway_errors')).find((p) => p.attrs.code === '-1008')!.value).toBe(6);
    expect(values(m.get('perpx_ws_connections'))[0]!.value).toBe(1);
    expect(values(m.get('perpx_ws_dropped')).map((p) => [p.attrs.reason, p.value])).toEqual([['slow_consumer', 2], ['ping_timeout', 5]]);
    expect(values(m.get('perpx_ws_messages')).map((p) => [p.attrs.direction, p.value])).toEqual([['in', 40], ['out', 400]]);
    const cpu = values(m.get('perpx_process_cpu_seconds'));
    expect(cpu.map((p) => p.attrs.mode)).toEqual(['user', 'system']);
    expect((cpu[0]!.value as number) > 0).toBe(true);
    expect(m.has('perpx_ws_connections') && !(await collect([slab])).has('perpx_ws_connections')).toBe(true); // no sources, no series
  });
});

describe('runtime: bytes allocated', () => {
  it('grows by at least the bytes a loop kept alive (heap growth counts; nothing is freed)', async () => {
    const slab = new Slab(createSlabHandle('test'));
    const sampler = startRuntimeSampler(slab, 20);
    try {
      const before = slab.a[RT_ALLOCATED_BYTES]!;
      const keep: Float64Array[] = [];
      for (let i = 0; i < 2_000; i++) keep.push(new Float64Array(1_000)); // 16 MB of ArrayBuffers: off-heap, not counted
      const objs: { a: number; b: number[] }[] = [];
      for (let i = 0; i < 300_000; i++) objs.push({ a: i, b: [i, i + 1] }); // ≥ 300k × ~48 B on the V8 heap
      sampler.refresh();
      const grew = slab.a[RT_ALLOCATED_BYTES]! - before;
      expect(grew).toBeGreaterThan(300_000 * 40);
      expect(objs.length + keep.length).toBe(302_000);
    } finally {
      sampler.stop();
    }
  });
});
