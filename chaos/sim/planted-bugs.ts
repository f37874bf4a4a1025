// Bugs planted on purpose, to prove the simulator's checker finds them (a checker that never
// fails proves nothing). Each one breaks exactly one promise the journal makes:
//  - drop-last-acked: recovery "forgets" the newest acknowledged command (the survivor disk
//    loses that record and everything after it) → "acknowledged command lost".
//  - replay-differs: the engine's replay() path diverges from apply() on deposits (one extra
//    unit) → recovered state ≠ shadow replay (or recovery's own checkpoint check refuses).
//  - fsync-lies: fsync reports success but makes nothing durable → a power loss drops
//    acknowledged commands.

import type { Command } from '../../engine/core/commands.ts';
import { Engine } from '../../engine/core/engine.ts';
import type { EngineConfig } from '../../engine/core/config.ts';
import { joinPath } from '../../engine/journal/file-io.ts';
import type { SimDisk } from '../../engine/journal/sim-disk.ts';
import { listRecords } from '../../engine/journal/testkit.ts';

export const PLANTED_BUGS = ['drop-last-acked', 'replay-differs', 'fsync-lies'] as const;
export type PlantedBug = (typeof PLANTED_BUGS)[number];

export function isPlantedBug(x: string): x is PlantedBug {
  return (PLANTED_BUGS as readonly string[]).includes(x);
}

/** An engine whose replay of a deposit credits one unit more than apply() did. */
export class DriftingEngine extends Engine {
  override replay(command: Command): void {
    if (command.type === 'deposit' && Number.isSafeInteger(command.amountUnits) && command.amountUnits > 0) {
      super.replay({ ...command, amountUnits: command.amountUnits + 1 });
    } else {
      super.replay(command);
    }
  }
}

export function engineFactory(config: EngineConfig, bug: PlantedBug | null): () => Engine {
  return bug === 'replay-differs' ? () => new DriftingEngine(config) : () => new Engine(config);
}

/**
 * drop-last-acked: cut the journal file holding the record of `ackedSeq` at that record, on
 * the disk recovery is about to read, and make the cut durable. Returns true if it cut.
 */
export async function dropRecord(disk: SimDisk, dir: string, ackedSeq: number): Promise<boolean> {
  if (ackedSeq <= 0) return false;
  const records = await listRecords(disk, dir);
  const target = records.find((r) => r.isCommand && r.seq === ackedSeq);
  if (target === undefined) return false;
  const filePath = joinPath(dir, target.file);
  await disk.truncate(filePath, target.offsetBytes);
  const fd = await disk.open(filePath, 'append');
  await disk.fsync(fd);
  await disk.close(fd);
  return true;
}
