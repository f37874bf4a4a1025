// Each toxic's effect, measured through the proxy against a local echo server and a local HTTP
// server. Bounds are lenient (the box is shared and loaded): a toxic must add at least most of
// its delay, and the effect must go away when the toxic is removed.

import http from 'node:http';
import net from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from './proxy.ts';

let echo: Server;
let echoPort = 0;
const sockets = new Set<Socket>();
let proxy: FaultProxy | null = null;

beforeAll(async () => {
  echo = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.on('data', (d) => {
      if (d.toString() === 'bye') s.end('bye');
      else s.write(d);
    });
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as AddressInfo).port;
});

afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => echo.close(() => r()));
});

async function startProxy(port = echoPort, seed = 7): Promise<FaultProxy> {
  proxy = await FaultProxy.start({ targetPort: port, seed });
  return proxy;
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Send `bytes` bytes and wait until as many came back; resolves with the elapsed ms. */
function roundTrip(s: Socket, bytes: number, timeoutMs = 10_000): Promise<{ ms: number; chunks: number }> {
  return new Promise((resolve, reject) => {
    let got = 0;
    let chunks = 0;
    const t0 = performance.now();
    const timer = setTimeout(() => { s.off('data', onData); reject(new Error(`round trip: ${got}/${bytes} bytes after ${timeoutMs} ms`)); }, timeoutMs);
    const onData = (d: Buffer): void => {
      got += d.length;
      chunks++;
      if (got >= bytes) {
        clearTimeout(timer);
        s.off('data', onData);
        resolve({ ms: performance.now() - t0, chunks });
      }
    };
    s.on('data', onData);
    s.write(Buffer.alloc(bytes, 0x61));
  });
}

/** Everything the socket receives until it closes, and how it closed. */
function drainUntilClose(s: Socket): Promise<{ bytes: number; error: string | null; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let bytes = 0;
    let error: string | null = null;
    s.on('data', (d: Buffer) => { bytes += d.length; });
    s.on('error', (e: NodeJS.ErrnoException) => { error = e.code ?? e.message; });
    s.on('close', () => resolve({ bytes, error, ms: performance.now() - t0 }));
  });
}

describe('fault proxy', () => {
  it('passes bytes through unchanged with no toxics', async () => {
    const p = await startProxy();
    const s = await connect(p.port);
    const r = await roundTrip(s, 200_000);
    expect(r.ms).toBeGreaterThan(0);
    expect(p.stats.upstreamBytes).toBe(200_000);
    expect(p.stats.downstreamBytes).toBe(200_000);
    s.destroy();
  });

  it('latency: adds at least the configured delay, and stops adding it once removed', async () => {
    const p = await startProxy();
    const s = await connect(p.port);
    p.addToxic({ direction: 'downstream', spec: { type: 'latency', latencyMs: 200, jitterMs: 20 } });
    const slow = await roundTrip(s, 100);
    expect(slow.ms).toBeGreaterThanOrEqual(170);
    p.removeToxic('latency_downstream');
    const fast = Math.min((await roundTrip(s, 100)).ms, (await roundTrip(s, 100)).ms, (await roundTrip(s, 100)).ms);
    expect(fast).toBeLessThan(slow.ms);
    expect(fast).toBeLessThan(180); // with the toxic still bound every round trip would take >= 180 ms
    s.destroy();
  });

  it('bandwidth: 20 kB at 40 kB/s takes about half a second', async () => {
    const p = await startProxy();
    p.addToxic({ direction: 'downstream', spec: { type: 'bandwidth', bytesPerS: 40_000 } });
    const s = await connect(p.port);
    const r = await roundTrip(s, 20_000);
    expect(r.ms).toBeGreaterThanOrEqual(400);
    expect(r.chunks).toBeGreaterThan(5); // paced, not one burst
    s.destroy();
  });

  it('slow close: the FIN arrives the delay after the last data', async () => {
    const p = await startProxy();
    p.addToxic({ direction: 'downstream', spec: { type: 'slow-close', delayMs: 300 } });
    const s = await connect(p.port);
    let dataAtMs = 0;
    const ended = new Promise<number>((resolve) => {
      s.on('data', () => { dataAtMs = performance.now(); });
      s.on('end', () => resolve(performance.now()));
    });
    s.write('bye');
    const endAtMs = await ended;
    expect(dataAtMs).toBeGreaterThan(0);
    expect(endAtMs - dataAtMs).toBeGreaterThanOrEqual(250);
    s.destroy();
  });

  it('timeout (blackhole): an HTTP request gets no answer; with timeoutMs the connection closes', async () => {
    const web = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    try {
      const p = await startProxy((web.address() as AddressInfo).port);
      const get = (timeoutMs: number) => new Promise<string>((resolve) => {
        const req = http.get(`${p.url}/`, { agent: false, timeout: timeoutMs }, (res) => {
          res.resume();
          res.on('end', () => resolve(`status ${res.statusCode}`));
        });
        req.on('timeout', () => { req.destroy(); resolve('timeout'); });
        req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
      });
      expect(await get(5_000)).toBe('status 200');
      p.addToxic({ direction: 'upstream', spec: { type: 'timeout', timeoutMs: 0 } });
      expect(await get(400)).toBe('timeout');
      expect(p.stats.droppedBytes).toBeGreaterThan(0);
      p.removeToxic('timeout_upstream');
      p.addToxic({ direction: 'downstream', spec: { type: 'timeout', timeoutMs: 300 } });
      const t0 = performance.now();
      const r = await get(5_000);
      expect(r).toMatch(/^error /); // closed by the proxy, no response
      expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
      expect(p.stats.timeoutCloses).toBeGreaterThanOrEqual(1);
      p.clearToxics();
      expect(await get(5_000)).toBe('status 200');
    } finally {
      web.closeAllConnections();
      await new Promise<void>((r) => web.close(() => r()));
    }
  });

  it('reset peer: the client sees ECONNRESET', async () => {
    const p = await startProxy();
    p.addToxic({ direction: 'upstream', spec: { type: 'reset-peer', timeoutMs: 50 } });
    const s = await connect(p.port);
    const closed = drainUntilClose(s);
    s.write('hello');
    const r = await closed;
    expect(r.error).toBe('ECONNRESET');
    expect(r.bytes).toBe(0);
    expect(p.stats.resets).toBe(1);
  });

  it('slicer: data arrives in small pieces spread over time', async () => {
    const p = await startProxy();
    p.addToxic({ direction: 'downstream', spec: { type: 'slicer', avgSizeBytes: 20, sizeVariationBytes: 5, delayMs: 10 } });
    const s = await connect(p.port);
    const r = await roundTrip(s, 400);
    // 400 B in ~20 B pieces 10 ms apart: >= ~150 ms and many reads (TCP may merge a few).
    expect(r.ms).toBeGreaterThanOrEqual(100);
    expect(r.chunks).toBeGreaterThanOrEqual(8);
    s.destroy();
  });

  it('limit data: exactly N bytes pass, then the connection closes', async () => {
    const p = await startProxy();
    p.addToxic({ direction: 'downstream', spec: { type: 'limit-data', bytes: 1_000 } });
    const s = await connect(p.port);
    const closed = drainUntilClose(s);
    s.write(Buffer.alloc(5_000, 0x62));
    const r = await closed;
    expect(r.bytes).toBe(1_000);
    expect(p.stats.limitCloses).toBe(1);
  });

  it('probability: a seeded share of connections gets the toxic, the same for the same seed', async () => {
    const pattern = async (seed: number): Promise<{ bound: boolean[]; slow: boolean[] }> => {
      const p = await startProxy(echoPort, seed);
      p.addToxic({ direction: 'downstream', probability: 0.5, spec: { type: 'latency', latencyMs: 150 } });
      const conns: Socket[] = [];
      for (let i = 0; i < 16; i++) conns.push(await connect(p.port)); // one at a time: accept order = roll order
      await roundTrip(conns[15]!, 1); // the last one is surely accepted (and rolled) by now
      const bound = p.boundToxics().map((names) => names.length > 0);
      const times = await Promise.all(conns.map((s) => roundTrip(s, 10)));
      for (const s of conns) s.destroy();
      await p.close();
      proxy = null;
      return { bound, slow: times.map((t) => t.ms >= 140) };
    };
    const a = await pattern(42);
    const b = await pattern(42);
    expect(a.bound).toHaveLength(16);
    expect(b.bound).toEqual(a.bound);
    const n = a.bound.filter(Boolean).length;
    expect(n).toBeGreaterThanOrEqual(2);
    expect(n).toBeLessThanOrEqual(14);
    // The rolled connections are the slow ones (the 15th round trip above skews nothing: it is before the timing).
    for (let i = 0; i < 16; i++) if (a.bound[i]) expect(a.slow[i]).toBe(true);
  });

  it('bounds connections and leaves none open after close', async () => {
    proxy = await FaultProxy.start({ targetPort: echoPort, connectionsMax: 2 });
    const p = proxy;
    const a = await connect(p.port);
    const b = await connect(p.port);
    await roundTrip(a, 10);
    await roundTrip(b, 10);
    const c = await connect(p.port);
    const rc = await drainUntilClose(c);
    expect(rc.bytes).toBe(0);
    expect(p.stats.connectionsRefused).toBe(1);
    const ca = drainUntilClose(a);
    const cb = drainUntilClose(b);
    await p.close();
    await Promise.all([ca, cb]);
    expect(p.stats.connectionsOpen).toBe(0);
  });

  it('rejects bad toxics with one-line errors', async () => {
    const p = await startProxy();
    expect(() => p.addToxic({ direction: 'upstream', spec: { type: 'latency', latencyMs: -1 } })).toThrow(/bad toxic: latencyMs/);
    expect(() => p.addToxic({ direction: 'sideways' as 'upstream', spec: { type: 'latency', latencyMs: 1 } })).toThrow(/direction/);
    expect(() => p.addToxic({ direction: 'upstream', probability: 2, spec: { type: 'latency', latencyMs: 1 } })).toThrow(/probability/);
    p.addToxic({ direction: 'upstream', spec: { type: 'latency', latencyMs: 1 } });
    expect(() => p.addToxic({ direction: 'upstream', spec: { type: 'latency', latencyMs: 1 } })).toThrow(/already exists/);
  });
});
