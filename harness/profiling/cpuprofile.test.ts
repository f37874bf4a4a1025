import { describe, expect, it } from 'vitest';
import { summarizeProfile, monotonicUsAt } from './cpuprofile.ts';
import type { CpuProfile, CpuProfileNode } from './cpuprofile.ts';
import { profilingHtml, profilingMarkdown } from '../../reports/profiling-section.ts';
import { flameGraphSvg } from '../../reports/flame-svg.ts';

const frame = (id: number, name: string, children: number[] = [], url = 'file:///x/engine/core/a.ts', line = 9): CpuProfileNode =>
  ({ id, callFrame: { functionName: name, url, lineNumber: line, columnNumber: 0 }, children });

/**
 * (root) ─┬─ main ── apply ─┬─ match
 *         │                 └─ recurse ── apply   (recursion: the same function as node 3)
 *         ├─ (garbage collector)
 *         └─ (idle)
 */
function profile(): CpuProfile {
  const nodes = [
    frame(1, '(root)', [2, 7, 8], ''),
    frame(2, 'main', [3]),
    frame(3, 'apply', [4, 5], 'file:///x/engine/core/engine.ts', 99),
    frame(4, 'match'),
    frame(5, 'recurse', [6]),
    frame(6, 'apply', [], 'file:///x/engine/core/engine.ts', 99),
    frame(7, '(garbage collector)', [], ''),
    frame(8, '(idle)', [], ''),
  ];
  // One sample per ms: each sample lasts until the next (timeDeltas[i+1]).
  const samples = [4, 4, 4, 3, 6, 6, 7, 8, 8, 8, 2];
  return { nodes, startTime: 1_000_000, endTime: 1_000_000 + 11_000, samples, timeDeltas: samples.map(() => 1000) };
}

describe('cpuprofile summary', () => {
  it('self and total time per function, idle apart, recursion counted once', () => {
    const s = summarizeProfile(profile());
    expect(s.samples).toBe(11);
    expect(s.idleMs).toBeCloseTo(3, 9);
    expect(s.gcMs).toBeCloseTo(1, 9);
    expect(s.busyMs).toBeCloseTo(8, 9);
    const by = new Map(s.top.map((f) => [f.name, f]));
    expect(by.get('match')!.selfMs).toBeCloseTo(3, 9);
    expect(by.get('apply')!.selfMs).toBeCloseTo(3, 9); // node 3 (1 sample) + node 6 (2 samples)
    expect(by.get('apply')!.totalMs).toBeCloseTo(6, 9); // node 3's subtree; node 6 is inside it and not counted again
    expect(by.get('recurse')!.totalMs).toBeCloseTo(2, 9);
    expect(by.get('main')!.totalMs).toBeCloseTo(7, 9);
    expect(by.get('main')!.selfMs).toBeCloseTo(1, 9);
    expect(by.get('apply')!.location).toBe('engine.ts:100');
    expect(by.get('match')!.selfShare).toBeCloseTo(3 / 8, 9);
    expect(s.top[0]!.selfMs).toBeGreaterThanOrEqual(s.top.at(-1)!.selfMs);
    expect(s.flame.totalMs).toBeCloseTo(8, 9);
    expect(s.flame.children.map((c) => c.name)).toEqual(['main', '(garbage collector)']);
  });

  it('a window keeps only the samples whose timestamps fall inside it', () => {
    // Sample i is at startTime + (i+1) ms: the first three (node 4, "match") at +1..+3 ms.
    const s = summarizeProfile(profile(), { fromUs: 1_000_000 + 500, toUs: 1_000_000 + 3_500 });
    expect(s.samples).toBe(3);
    expect(s.top).toHaveLength(3); // match (self) + apply, main (total only)
    expect(s.top[0]!.name).toBe('match');
    expect(s.top[0]!.selfMs).toBeCloseTo(3, 9);
  });

  it('monotonicUsAt maps wall time onto the profile clock (process.hrtime)', () => {
    const now = Number(process.hrtime.bigint() / 1000n);
    expect(Math.abs(monotonicUsAt(Date.now()) - now)).toBeLessThan(50_000);
  });

  it('the report section lists the top functions, the flame graph and the heap rows', () => {
    const s = summarizeProfile(profile());
    const html = profilingHtml({
      cpu: [{ label: 'spike', source: 'node --cpu-prof', fromS: 35, toS: 67, threads: [{ thread: 'engine', file: 'profiles/cpu-engine.cpuprofile', samples: s.samples, windowMs: s.windowMs, busyMs: s.busyMs, idleMs: s.idleMs, gcMs: s.gcMs, top: s.top, flame: s.flame }] }],
      heap: { beforeLabel: 'before', afterLabel: 'after', errors: [], threads: [{ thread: 'engine', beforeFile: 'a', afterFile: 'b', beforeBytes: 1e6, afterBytes: 3e6, beforeObjects: 10, afterObjects: 30, snapshotMs: [5, 6], rows: [{ name: 'OrderView', countBefore: 1, countAfter: 21, bytesBefore: 64, bytesAfter: 1344 }] }] },
      clinic: [{ tool: 'doctor', ok: false, failure: 'visualize: Decoded message is not valid' }],
    });
    expect(html).toContain('<td>match</td><td>a.ts:10</td><td>3.0</td><td>37.5%</td>');
    expect(html).toContain('<svg class="chart flame"');
    expect(html).toContain('<td>OrderView</td><td>1</td><td>21</td><td>+20</td>');
    expect(html).toContain('visualize: Decoded message is not valid');
    expect(profilingMarkdown({ cpu: [{ label: 'spike', source: 's', fromS: 0, toS: 1, threads: [{ thread: 'engine', file: 'f', samples: 1, windowMs: 1, busyMs: 8, idleMs: 0, gcMs: 0, top: s.top }] }] }).join('\n')).toContain('match 37.5%');
  });

  it('the flame graph draws a frame per node, as wide as its share', () => {
    const svg = flameGraphSvg({ name: 'all', location: '', totalMs: 10, selfMs: 0, children: [{ name: 'a', location: '', totalMs: 7.5, selfMs: 7.5, children: [] }] }, { title: 't', widthPx: 400 });
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg).toContain('width="299.50"');
  });
});
