// A small process around a Journal, for the real-process crash test and for manual poking:
// line-delimited JSON on stdin/stdout, logs on stderr.
//
//   node engine/journal/journal-server.ts --dir DIR [--policy fsync|none|interval:MS]
//        [--snapshot-every N] [--segment-bytes N]
//
// stdout: {"type":"ready","lastSeq":…,"stateHash":…,"truncated":…} once recovered, then per
//         request {"type":"ack","id":…,"seq":…,"result":…} after the command is durable, or
//         {"type":"error","id":…,"code":…,"message":…}.
// stdin:  {"id":…,"cmd":{…LedgerCommand}} per line; end of input = clean shutdown.
// After a journal fail-stop the server keeps running and answers every request with the
// error (exit code 75 at end of input): a supervisor sees the failure, nothing crash-loops.

import { parseArgs } from 'node:util';
import type { JournalError } from './errors.ts';
import { createNodeFileIO } from './file-io.ts';
import { Journal } from './journal.ts';
import { LedgerMachine, type LedgerCommand } from './test-machine.ts';

/** A line longer than this is a protocol error, not something to buffer forever. */
const REQUEST_LINE_BYTES_MAX = 64 * 1024;

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    policy: { type: 'string', default: 'fsync' },
    'snapshot-every': { type: 'string', default: '100000' },
    'segment-bytes': { type: 'string', default: String(64 << 20) },
  },
});
if (values.dir === undefined) {
  process.stderr.write('usage: journal-server.ts --dir DIR [--policy P] [--snapshot-every N] [--segment-bytes N]\n');
  process.exit(64);
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

// Replies are joined and written once per event-loop turn: one write(2) per batch of acks.
let outBuf: string[] = [];
let outScheduled = false;
function emit(line: string): void {
  outBuf.push(line);
  if (!outScheduled) {
    outScheduled = true;
    setImmediate(flushOut);
  }
}
function flushOut(): void {
  outScheduled = false;
  if (outBuf.length === 0) return;
  const text = outBuf.join('\n') + '\n';
  outBuf = [];
  process.stdout.write(text);
}

function onAck(error: JournalError | null, seq: number, result: unknown, id: unknown): void {
  if (error !== null) emit(JSON.stringify({ type: 'error', id, code: error.code, message: error.message }));
  else emit(JSON.stringify({ type: 'ack', id, seq, result }));
}

async function main(dir: string): Promise<void> {
  let journal: Journal<LedgerCommand>;
  try {
    journal = await Journal.open<LedgerCommand>({
      dir,
      io: createNodeFileIO(),
      createMachine: () => new LedgerMachine(),
      log,
      policy: values.policy,
      snapshotEveryCommands: Number(values['snapshot-every']),
      segmentBytesMax: Number(values['segment-bytes']),
    });
  } catch (err) {
    // A RecoveryError names file and offset; exit non-zero with it rather than loop.
    log(`journal-server: cannot start: ${(err as Error).message}`);
    process.exit(70);
  }
  const r = journal.recovery;
  emit(JSON.stringify({ type: 'ready', lastSeq: r.lastSeq, stateHash: r.stateHash, truncated: r.truncated, snapshotSeq: r.snapshotSeq }));

  let pending = '';
  const handleLine = (line: string): void => {
    if (line.length === 0) return;
    let req: { id?: unknown; cmd?: LedgerCommand };
    try {
      req = JSON.parse(line) as typeof req;
    } catch {
      emit(JSON.stringify({ type: 'error', id: null, code: -1102, message: 'malformed JSON' }));
      return;
    }
    const err = journal.trySubmit(req.cmd as LedgerCommand, onAck, req.id);
    if (err !== null) onAck(err, 0, undefined, req.id);
  };
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      handleLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    if (pending.length > REQUEST_LINE_BYTES_MAX) {
      emit(JSON.stringify({ type: 'error', id: null, code: -1102, message: 'request line too long' }));
      pending = '';
    }
  });
  process.stdin.on('end', () => {
    void journal.close().then(() => {
      flushOut();
      process.exitCode = journal.failed !== null ? 75 : 0;
    });
  });
}

void main(values.dir);
