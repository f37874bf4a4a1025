// The calibration target, run in its own worker thread: a node:http server on 127.0.0.1:0 with a
// known latency distribution and a known capacity, which records the ground truth of every
// request it served into shared memory.
//
//   delay     d = fixedMs + Exp(expMeanMs), drawn from a seeded PRNG in arrival order
//   capacity  a FIFO semaphore of `capacity` concurrent requests (excess waits; beyond
//             maxQueued waiting, 503)
//   stall     the server makes no progress during [stallAtS, stallAtS + stallMs) of the run:
//             service clocks freeze (a request in service finishes stallMs later, one arriving
//             during the stall starts after it) — a stop-the-world pause, as a GC or a lock would
//             cause, but with the event loop alive so receive times stay exact.
//   bare      fixedMs = expMeanMs = 0 and no stall: answer 200 at once (the bench's bare target).
//
// Per request it records [x-seq header, receive ms, response-written ms, drawn delay ms].

import { parentPort, workerData } from 'node:worker_threads';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from './clock.ts';
import { Rng } from './rng.ts';
import { finishTimeMs, RECORD_FIELDS } from './calibration-model.ts';
import type { TargetConfig } from './calibration-model.ts';

const maxQueued = 100_000;
const responseBody = '{}';

const cfg = workerData as TargetConfig;
const records = new Float64Array(cfg.records);
const counter = new Int32Array(cfg.counter);
const rng = new Rng(cfg.seed);
const bare = cfg.fixedMs === 0 && cfg.expMeanMs === 0 && cfg.stallMs === 0;
let runStartMs = Infinity;
let busy = 0;

interface Pending {
  res: ServerResponse;
  seq: number;
  recvMs: number;
  delayMs: number;
}

const queue: Pending[] = [];
let queueHead = 0;

function record(seq: number, recvMs: number, writeMs: number, delayMs: number): void {
  const i = Atomics.add(counter, 0, 1);
  if (i >= cfg.maxRecords) return;
  const o = i * RECORD_FIELDS;
  records[o] = seq;
  records[o + 1] = recvMs;
  records[o + 2] = writeMs;
  records[o + 3] = delayMs;
}

function startService(p: Pending): void {
  busy++;
  const now = nowMs();
  const doneMs = finishTimeMs(now, p.delayMs, runStartMs + cfg.stallAtS * 1000, cfg.stallMs);
  setTimeout(respond, Math.max(0, doneMs - now), p);
}

function respond(p: Pending): void {
  p.res.writeHead(200, { 'content-type': 'application/json', 'content-length': responseBody.length });
  p.res.end(responseBody);
  record(p.seq, p.recvMs, nowMs(), p.delayMs);
  busy--;
  if (queueHead < queue.length) {
    const next = queue[queueHead++]!;
    if (queueHead > 1024 && queueHead * 2 > queue.length) {
      queue.splice(0, queueHead);
      queueHead = 0;
    }
    startService(next);
  }
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  const recvMs = nowMs();
  const seqHeader = req.headers['x-seq'];
  const seq = typeof seqHeader === 'string' ? Number(seqHeader) : -1;
  req.resume();
  if (bare) {
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': responseBody.length });
      res.end(responseBody);
    });
    return;
  }
  const p: Pending = { res, seq, recvMs, delayMs: cfg.fixedMs + cfg.expMeanMs * rng.exp1() };
  if (busy < cfg.capacity) startService(p);
  else if (queue.length - queueHead < maxQueued) queue.push(p);
  else {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"code":-1008,"msg":"calibration target overloaded"}');
  }
}

const server = createServer({ keepAliveTimeout: 60_000 }, onRequest);
server.listen(0, '127.0.0.1', () => {
  parentPort!.postMessage({ type: 'listening', port: (server.address() as AddressInfo).port });
});

parentPort!.on('message', (msg: { type: 'start'; startMs: number } | { type: 'stop' }) => {
  if (msg.type === 'start') runStartMs = msg.startMs;
  else {
    server.closeAllConnections();
    server.close(() => {
      parentPort!.postMessage({ type: 'stopped', count: Atomics.load(counter, 0) });
      parentPort!.close();
    });
  }
});
