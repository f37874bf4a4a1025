// Test helper (telemetry.test.ts): an "engine thread" that records into the slab it was given.

import { workerData } from 'node:worker_threads';
import { engineRecorder } from './recorder.ts';
import { startRuntimeSampler } from './runtime.ts';
import { Slab } from './slab.ts';
import type { SlabHandle } from './slab.ts';

const slab = new Slab(workerData as SlabHandle);
const rec = engineRecorder(slab);
const rt = startRuntimeSampler(slab, 50);
rt.refresh();
rec.batch(10);
rec.batch(3);
for (let i = 0; i < 3; i++) {
  rec.journalBatch(20, 2000);
  rec.fsync(1.5);
}
rt.stop();
