// Network faults: toxics on the fault proxy (proxy.ts) that sits between the load generator and
// the gateway. The experiment's setup starts the proxy and puts it in the ProxyRef; a fault adds
// its toxics at inject and removes exactly those at clear (idempotent), so several network
// faults can overlap. Probabilities and jitter come from the proxy's seeded Rng.

import type { Fault, FaultContext } from '../fault.ts';
import type { FaultProxy } from './proxy.ts';
import { describeToxic, makeToxic } from './toxics.ts';
import type { Direction, ToxicInput, ToxicSpec } from './toxics.ts';

/** Filled by the experiment's setup, emptied by its teardown. */
export interface ProxyRef {
  proxy: FaultProxy | null;
}

function needProxy(ref: ProxyRef, name: string): FaultProxy {
  if (ref.proxy === null) throw new Error(`${name}: no fault proxy running (the experiment's setup starts it)`);
  return ref.proxy;
}

let instances = 0;

/** A fault made of one or more toxics; each instance names its toxics uniquely. */
export function toxicFault(name: string, ref: ProxyRef, toxics: readonly ToxicInput[]): Fault {
  const instance = ++instances;
  const named = toxics.map((t, i) => makeToxic({ ...t, name: `${name}#${instance}.${i}:${t.spec.type}_${t.direction}` }));
  let added: string[] = [];
  return {
    name,
    describe: named.map(describeToxic).join('; '),
    async inject(ctx: FaultContext) {
      const proxy = needProxy(ref, name);
      for (const t of named) {
        proxy.addToxic(t);
        added.push(t.name);
      }
      ctx.mark('note', `proxy: ${proxy.describe()}; ${proxy.stats.connectionsOpen} connections open`);
    },
    async clear(ctx: FaultContext) {
      const proxy = ref.proxy;
      if (proxy !== null) {
        for (const n of added) proxy.removeToxic(n);
        const s = proxy.stats;
        ctx.mark('note', `proxy totals: ${s.connectionsAccepted} connections, ${s.droppedBytes} B dropped, ${s.resets} resets, ${s.limitCloses} limit closes, ${s.timeoutCloses} timeout closes`);
      }
      added = [];
    },
  };
}

const both = (spec: ToxicSpec, probability = 1): ToxicInput[] =>
  (['upstream', 'downstream'] as Direction[]).map((direction) => ({ direction, probability, spec }));

export function netLatencyFault(ref: ProxyRef, latencyMs = 200, jitterMs = 50): Fault {
  return toxicFault('net-latency', ref, [{ direction: 'downstream', spec: { type: 'latency', latencyMs, jitterMs } }]);
}

export function netBandwidthFault(ref: ProxyRef, bytesPerS = 4_000): Fault {
  return toxicFault('net-bandwidth', ref, both({ type: 'bandwidth', bytesPerS }));
}

export function netSlowCloseFault(ref: ProxyRef, delayMs = 3_000): Fault {
  return toxicFault('net-slow-close', ref, both({ type: 'slow-close', delayMs }));
}

/** Responses vanish on a share of connections, which are closed after timeoutMs. */
export function netBlackholeFault(ref: ProxyRef, probability = 0.3, timeoutMs = 2_000): Fault {
  return toxicFault('net-blackhole', ref, [{ direction: 'downstream', probability, spec: { type: 'timeout', timeoutMs } }]);
}

/** A share of connections is reset (RST) when the response comes back: executed, but unseen. */
export function netResetFault(ref: ProxyRef, probability = 0.3): Fault {
  return toxicFault('net-reset', ref, [{ direction: 'downstream', probability, spec: { type: 'reset-peer', timeoutMs: 0 } }]);
}

export function netSlicerFault(ref: ProxyRef, avgSizeBytes = 16, delayMs = 1): Fault {
  return toxicFault('net-slicer', ref, both({ type: 'slicer', avgSizeBytes, sizeVariationBytes: Math.floor(avgSizeBytes / 2), delayMs }));
}

/** A share of connections is cut after `bytes` more response bytes (often mid-response). */
export function netLimitDataFault(ref: ProxyRef, probability = 0.5, bytes = 500): Fault {
  return toxicFault('net-limit-data', ref, [{ direction: 'downstream', probability, spec: { type: 'limit-data', bytes } }]);
}
