// perpx profile heap --quick end to end: heap snapshots of every thread before and after the
// load; the report lists what grew. Deep only (npm run test:deep): four snapshots of 47-85 MB
// took 186 s here at load average ≈ 15; heapsnapshot.test.ts covers the diff on real V8
// snapshots in seconds.

import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProfile } from '../profile-run.ts';
import { escapeXml } from '../../../reports/svg.ts';

const runsDir = mkdtempSync(join(tmpdir(), 'perpx-profile-heap-'));
afterAll(() => rmSync(runsDir, { recursive: true, force: true }));

describe.skipIf(process.env.PERPX_DEEP !== '1')('perpx profile heap --quick', () => {
  it('diffs snapshots of both threads and the report lists the growth', async () => {
    const r = await runProfile({ kind: 'heap', quick: true, runsDir, id: 'heap', log: () => {} });
    expect(r.profiling.heap!.errors).toEqual([]);
    expect(r.ok).toBe(true);
    const threads = r.profiling.heap!.threads;
    expect(threads.map((t) => t.thread).sort()).toEqual(['engine', 'gateway-0']);
    const html = readFileSync(r.reportHtml, 'utf8');
    for (const t of threads) {
      expect(existsSync(join(r.dir, t.beforeFile)) && existsSync(join(r.dir, t.afterFile))).toBe(true);
      const top = t.rows[0]!;
      expect(top.bytesAfter - top.bytesBefore, `${t.thread}: ${top.name}`).toBeGreaterThan(0);
      expect(html).toContain(`<td>${escapeXml(top.name)}</td>`);
    }
    // The engine thread kept the run's orders: its object count went up.
    const engine = threads.find((t) => t.thread === 'engine')!;
    expect(engine.afterObjects).toBeGreaterThan(engine.beforeObjects);
  }, 600_000);
});
