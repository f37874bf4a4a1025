// The engine thread: the single writer. Owns the Engine (inside an InProcessHost for its
// projections and query views), the Journal (recovery at start, group commit, snapshots)
// and the wall clock. Pipeline of one command:
//
//   gateway thread ── SPSC ring [u32 id][binary command] ──▶ drain (batch)
//     ─▶ journal.trySubmit: sequence, apply (engine + history), frame into the batch
//     ─▶ group commit: one write + one fsync per batch ─▶ ack callback (seq, events)
//     ─▶ reply batch ── postMessage ──▶ gateway thread resolves the request
//
// Overload is decided here once (the journal's bounded pending queue) and answered -1008.
// Queries, subscribe and close arrive by postMessage. Nothing here touches the network.

import { parentPort, workerData } from 'node:worker_threads';
import type { Command } from '../core/commands.ts';
import type { EngineConfig } from '../core/config.ts';
import type { EngineEvent } from '../core/events.ts';
import type { StateMachine } from '../core/state-machine.ts';
import { createNodeFileIO } from '../journal/file-io.ts';
import { ChaosDisk } from './chaos-io.ts';
import type { DiskChaosOp, DiskChaosPlan } from './chaos-io.ts';
import { Journal } from '../journal/journal.ts';
import type { JournalError } from '../journal/errors.ts';
import { decodeCommandFrom } from '../wire/command-codec.ts';
import { binaryCommandCodec } from '../wire/command-codec.ts';
import { RingConsumer } from '../wire/spsc-ring.ts';
import type { RingBuffers } from '../wire/spsc-ring.ts';
import { InProcessHost } from './in-process-host.ts';
import type { HostQuery } from './host.ts';
import type { ProjectionLimits } from './projections.ts';
import { nowMs } from '../telemetry/clock.ts';
import type { EngineStamps } from '../telemetry/stamps.ts';
import { engineThreadTelemetry } from '../telemetry/engine-thread-telemetry.ts';
import type { EngineThreadTelemetry } from '../telemetry/engine-thread-telemetry.ts';
import type { SlabHandle } from '../telemetry/slab.ts';

export interface EngineThreadData {
  config: EngineConfig;
  ring: RingBuffers;
  dataDir: string;
  policy: string;
  pendingCommandsMax: number;
  snapshotEveryCommands: number;
  snapshotEveryMs: number;
  /** Wall-clock ticks (advanceTime) every this many ms; 0 = time only through commands. */
  clockTickMs: number;
  projections: Partial<ProjectionLimits>;
  /** This thread's metrics slab (engine/telemetry), read by the gateway's /metrics; absent = no metrics. */
  telemetrySlab?: SlabHandle | null;
  /** `perpx serve --chaos`: journal I/O through a runtime-controllable fault wrapper (chaos-io.ts). */
  chaos?: boolean;
}

/** Worker → gateway messages (always sent as arrays, one per flush). */
export type EngineThreadMessage =
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; code: number; message: string }
  | { kind: 'applied'; seq: number; command: Command; events: EngineEvent[]; nowMs: number }
  | { kind: 'ready'; recoveryLine: string; policyLine: string; lastSeq: number; stateHash: string }
  | { kind: 'failed'; message: string }
  | { kind: 'closed' };

/** Gateway → worker control messages. */
export type EngineThreadControl =
  | { kind: 'query'; id: number; query: HostQuery }
  | { kind: 'subscribe'; on: boolean }
  | { kind: 'chaos-disk'; id: number; op: DiskChaosOp; plan: DiskChaosPlan }
  | { kind: 'close' };

/** The Engine + history as the journal's state machine. */
class HostMachine implements StateMachine<Command> {
  readonly host: InProcessHost;
  /** Stage stamps of the last apply (telemetry: read by the ack of that command). */
  lastApplyStartMs = 0;
  lastApplyEndMs = 0;
  /** The journal's seq of the last applied command (set to the recovered seq after open). */
  appliedSeq = 0;
  private readonly telemetry: EngineThreadTelemetry;
  constructor(config: EngineConfig, projections: Partial<ProjectionLimits>, telemetry: EngineThreadTelemetry) {
    this.host = new InProcessHost(config, { queueMax: 1, projections });
    this.telemetry = telemetry;
  }
  apply(command: Command): EngineEvent[] {
    this.lastApplyStartMs = nowMs();
    const events = this.host.applyOne(command);
    this.appliedSeq++;
    this.host.noteSequenced(this.appliedSeq);
    this.lastApplyEndMs = nowMs();
    this.telemetry.onApplied(events);
    return events;
  }
  /**
   * Recovery's replay of the journal tail: the full apply, so the projections (order/trade
   * history) see the tail's events too; no telemetry, no sequencing (set after recovery).
   */
  replay(command: Command): void { this.host.applyOne(command); }
  /** Engine + projections (host-snapshot.ts); the journal's header hash stays the engine's. */
  snapshot(): Uint8Array { return this.host.snapshotState(); }
  restore(bytes: Uint8Array): void { this.restoreWarning = this.host.restoreState(bytes); }
  /** The engine's alone: determinism checks compare it with an offline replay of the engine. */
  stateHash(): string { return this.host.engine.stateHash(); }
  /** Set by restore when the snapshot's history could not be restored (logged at start). */
  restoreWarning: string | null = null;
}

interface Pending { id: number; command: Command; applyStartMs: number; applyEndMs: number }

async function main(d: EngineThreadData): Promise<void> {
  const port = parentPort!;
  const out: EngineThreadMessage[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (out.length === 0) return;
    port.postMessage(out.splice(0));
  };
  const send = (m: EngineThreadMessage) => {
    out.push(m);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const logs: string[] = [];
  const telemetry = engineThreadTelemetry(d.telemetrySlab);
  const chaosDisk = d.chaos === true ? new ChaosDisk(createNodeFileIO()) : null;
  const journal = await Journal.open<Command>({
    dir: d.dataDir,
    io: telemetry.instrumentIO(chaosDisk?.io ?? createNodeFileIO()),
    createMachine: () => new HostMachine(d.config, d.projections, telemetry),
    codec: binaryCommandCodec,
    policy: d.policy,
    pendingCommandsMax: d.pendingCommandsMax,
    snapshotEveryCommands: d.snapshotEveryCommands,
    snapshotEveryMs: d.snapshotEveryMs,
    log: (line) => logs.push(line),
  });
  telemetry.attachJournal(journal.stats);
  const machine = journal.machine as HostMachine;
  if (machine.restoreWarning !== null) logs.push(`recovery: ${machine.restoreWarning}`);
  // Taken before the clock's first tick: the ready line reports the state recovery produced.
  const recoveredStateHash = machine.host.engine.stateHash();
  machine.appliedSeq = journal.recovery.lastSeq;
  machine.host.noteSequenced(journal.recovery.lastSeq);
  const host = machine.host;
  let subscribed = false;
  let closing = false;

  const onAck = (err: JournalError | null, seq: number, result: unknown, p: Pending) => {
    if (err !== null) {
      if (p.id !== 0) send({ kind: 'reply', id: p.id, ok: false, code: err.code, message: err.message });
      return;
    }
    const events = result as EngineEvent[];
    const stamps: EngineStamps = { applyStartMs: p.applyStartMs, applyEndMs: p.applyEndMs, durableMs: nowMs() };
    if (p.id !== 0) send({ kind: 'reply', id: p.id, ok: true, result: { seq, events, stamps } });
    if (subscribed) send({ kind: 'applied', seq, command: p.command, events, nowMs: host.engine.nowMs });
  };

  const ring = new RingConsumer(d.ring);
  const visit = (off: number, len: number) => {
    const id = ring.view.getUint32(off, true);
    const command = decodeCommandFrom(ring.view, ring.bytes, off + 4, len - 4);
    if (closing) {
      send({ kind: 'reply', id, ok: false, code: -1008, message: 'Server is shutting down.' });
      return;
    }
    // apply runs inside trySubmit: the stamps are filled in right after, before any ack.
    const p: Pending = { id, command, applyStartMs: 0, applyEndMs: 0 };
    const err = journal.trySubmit(command, onAck, p);
    if (err !== null) send({ kind: 'reply', id, ok: false, code: err.code, message: err.message });
    else {
      p.applyStartMs = machine.lastApplyStartMs;
      p.applyEndMs = machine.lastApplyEndMs;
    }
  };

  // Wall clock: advanceTime through the journal like any command (it moves funding and mark).
  const stepMaxMs = Math.min(...host.engine.symbols.map((s) => s.fundingIntervalMs)) * Math.max(1, host.engine.spec.maxFundingSettlementsPerAdvance - 1);
  let clockSubmittedMs = 0;
  const tick = () => {
    if (closing || journal.failed !== null) return;
    const e = host.engine;
    const now = Date.now();
    const from = Math.max(clockSubmittedMs, e.nowMs);
    if (e.clockStarted && now <= from) return;
    const target = e.clockStarted ? Math.min(now, from + stepMaxMs) : now;
    const command: Command = { type: 'advanceTime', timeMs: target };
    if (journal.trySubmit(command, onAck, { id: 0, command, applyStartMs: 0, applyEndMs: 0 }) === null) clockSubmittedMs = target;
  };
  const timer = d.clockTickMs > 0 ? setInterval(tick, d.clockTickMs) : undefined;
  if (d.clockTickMs > 0) tick();

  port.on('message', (m: EngineThreadControl) => {
    if (m.kind === 'query') {
      try {
        send({ kind: 'reply', id: m.id, ok: true, result: host.querySync(m.query) });
      } catch (e) {
        send({ kind: 'reply', id: m.id, ok: false, code: (e as { code?: number }).code ?? -1102, message: (e as Error).message });
      }
    } else if (m.kind === 'subscribe') {
      subscribed = m.on;
    } else if (m.kind === 'chaos-disk') {
      if (chaosDisk === null) {
        send({ kind: 'reply', id: m.id, ok: false, code: -1020, message: 'Chaos hooks are off (start perpx serve with --chaos).' });
        return;
      }
      try {
        const status = m.op === 'set' ? chaosDisk.set(m.plan) : m.op === 'clear' ? chaosDisk.clear() : chaosDisk.status();
        status.journalFailed = journal.failed?.message ?? null;
        send({ kind: 'reply', id: m.id, ok: true, result: status });
      } catch (e) {
        send({ kind: 'reply', id: m.id, ok: false, code: -1130, message: (e as Error).message });
      }
    } else if (m.kind === 'close') {
      closing = true;
      if (timer !== undefined) clearInterval(timer);
      void (async () => {
        ring.drain(visit); // answer whatever was already in the ring
        await journal.flush();
        if (journal.failed === null) {
          journal.snapshotNow();
          await journal.flush();
        }
        await journal.close();
        telemetry.stop();
        flush();
        port.postMessage([{ kind: 'closed' }]);
      })();
    }
  });

  const r = journal.recovery;
  send({
    kind: 'ready',
    recoveryLine: logs.filter((l) => l.startsWith('recovery')).join('\n'),
    policyLine: journal.describePolicy(),
    lastSeq: r.lastSeq,
    stateHash: recoveredStateHash,
  });

  // Drain loop: take everything published, then yield so journal I/O callbacks run.
  for (;;) {
    if (closing) return;
    const n = ring.drain(visit);
    if (n > 0) {
      telemetry.recorder.batch(n);
      await new Promise<void>((res) => setImmediate(res));
      continue;
    }
    await ring.waitForDataAsync(20);
  }
}

if (parentPort !== null) {
  main(workerData as EngineThreadData).catch((e: unknown) => {
    parentPort!.postMessage([{ kind: 'failed', message: (e as Error).message ?? String(e) }]);
  });
}
