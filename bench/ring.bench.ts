// Gateway → engine hand-off in isolation: a producer thread encodes place/cancel commands
// into an SPSC SharedArrayBuffer ring in batches; this (consumer) thread drains and decodes
// each one into a Command object, as the engine thread does. Reports commands/s one way
// and compares with postMessage of the same command objects (structured clone), measured
// in the same run.
//
//   npx node bench/ring.bench.ts [--json] [--commands N] [--batch B]

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Command, PlaceOrder } from '../engine/core/commands.ts';
import { createRing, RingConsumer, RingProducer } from '../engine/wire/spsc-ring.ts';
import type { RingBuffers } from '../engine/wire/spsc-ring.ts';
import { decodeCommandFrom, encodeCommandInto, COMMAND_BYTES_MAX } from '../engine/wire/command-codec.ts';

interface Job { mode: 'ring' | 'postMessage'; ring?: RingBuffers; commands: number; batch: number }

function commandAt(i: number, place: PlaceOrder): Command {
  if (i % 4 === 3) return { type: 'cancel', accountId: i % 1000, symbolId: 0, orderId: i - 3, clientOrderId: '' };
  place.accountId = i % 1000;
  place.priceTicks = 500_000 + (i % 50);
  place.qtyLots = 1 + (i % 17);
  place.side = (i & 1) === 0 ? 'BUY' : 'SELL';
  return place;
}

function producer(job: Job): void {
  const place: PlaceOrder = { type: 'place', accountId: 0, symbolId: 0, side: 'BUY', orderType: 'LIMIT', tif: 'GTC', priceTicks: 0, qtyLots: 0, reduceOnly: false, clientOrderId: 'c-1', stpMode: 'NONE', triggerPriceTicks: 0, workingType: 'CONTRACT_PRICE' };
  if (job.mode === 'postMessage') {
    for (let i = 0; i < job.commands; i += job.batch) {
      const batch: Command[] = [];
      for (let k = i; k < Math.min(job.commands, i + job.batch); k++) batch.push({ ...commandAt(k, place) });
      parentPort!.postMessage(batch);
    }
    return;
  }
  const p = new RingProducer(job.ring!);
  let i = 0;
  while (i < job.commands) {
    const end = Math.min(job.commands, i + job.batch);
    while (i < end) {
      const off = p.reserve(COMMAND_BYTES_MAX);
      if (off < 0) break; // full: publish what we have and let the consumer catch up
      const n = encodeCommandInto(commandAt(i, place), p.view, p.bytes, off, COMMAND_BYTES_MAX);
      p.commit(off, n);
      i++;
    }
    p.publish();
  }
}

async function consume(job: Job): Promise<{ seconds: number; checksum: number }> {
  const w = new Worker(new URL(import.meta.url), { workerData: job });
  let received = 0;
  let checksum = 0;
  const t0 = performance.now();
  if (job.mode === 'postMessage') {
    await new Promise<void>((resolve) => {
      w.on('message', (batch: Command[]) => {
        for (const c of batch) {
          received++;
          if (c.type === 'place') checksum += c.priceTicks;
        }
        if (received >= job.commands) resolve();
      });
    });
  } else {
    const c = new RingConsumer(job.ring!);
    const visit = (off: number, len: number) => {
      const cmd = decodeCommandFrom(c.view, c.bytes, off, len);
      received++;
      if (cmd.type === 'place') checksum += cmd.priceTicks;
    };
    while (received < job.commands) {
      if (c.drain(visit) === 0) c.waitForData(50);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  await w.terminate();
  return { seconds, checksum };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const arg = (name: string, d: number) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : d; };
  const commands = arg('--commands', 2_000_000);
  const batch = arg('--batch', 256);
  const out: Record<string, unknown> = { commands, batch, node: process.version };
  for (const mode of ['ring', 'postMessage'] as const) {
    const runs: number[] = [];
    let checksum = 0;
    for (let r = 0; r < 3; r++) {
      const res = await consume({ mode, ring: mode === 'ring' ? createRing(1 << 20) : undefined, commands, batch });
      runs.push(commands / res.seconds);
      checksum = res.checksum;
    }
    runs.sort((a, b) => a - b);
    out[mode] = { cmds_per_s: Math.round(runs[1]!), runs: runs.map(Math.round), checksum };
    if (!json) console.log(`${mode.padEnd(12)} ${(runs[1]! / 1e6).toFixed(2)} M commands/s one way (median of 3; runs ${runs.map((x) => (x / 1e6).toFixed(2)).join(', ')})`);
  }
  const ring = out.ring as { cmds_per_s: number };
  const pm = out.postMessage as { cmds_per_s: number };
  out.ratio_ring_vs_postMessage = Number((ring.cmds_per_s / pm.cmds_per_s).toFixed(2));
  out.target_cmds_per_s = 1_000_000;
  if (json) console.log(JSON.stringify(out));
  else console.log(`ring / postMessage = ${out.ratio_ring_vs_postMessage}×; target ≥ 1.00 M/s: ${ring.cmds_per_s >= 1_000_000 ? 'met' : 'MISSED'}`);
}

if (isMainThread) await main();
else producer(workerData as Job);
