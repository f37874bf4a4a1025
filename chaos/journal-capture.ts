// Keeps a copy of the server's journal segments while an experiment runs. The journal prunes
// segments once a snapshot covers them, but the durability check needs every command ever
// journaled: it proves "acknowledged ⇒ in the journal" independently of what the gateway's
// order history (rebuilt only from events seen since the process started) still shows.
// A segment whose size changed is copied whole (segments are a few MB in these runs); a
// shrink (recovery cut a torn, never-acknowledged tail) is copied too.

import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseSegmentFileName } from '../engine/journal/record.ts';

export interface JournalCapture {
  /** Copy whatever changed now. */
  captureNow(): void;
  /** Final copy and stop the timer. */
  stop(): void;
  readonly dir: string;
}

export function startJournalCapture(dataDir: string, captureDir: string, everyMs = 200): JournalCapture {
  mkdirSync(captureDir, { recursive: true });
  const sizes = new Map<string, number>();
  const captureNow = (): void => {
    let names: string[];
    try {
      names = readdirSync(dataDir);
    } catch {
      return;
    }
    for (const name of names) {
      if (parseSegmentFileName(name) === null) continue;
      try {
        const size = statSync(join(dataDir, name)).size;
        if (sizes.get(name) === size) continue;
        copyFileSync(join(dataDir, name), join(captureDir, name));
        sizes.set(name, size);
      } catch {
        // pruned between readdir and copy: it was copied at an earlier tick
      }
    }
  };
  const timer = setInterval(captureNow, everyMs);
  captureNow();
  return { captureNow, dir: captureDir, stop() { clearInterval(timer); captureNow(); } };
}
