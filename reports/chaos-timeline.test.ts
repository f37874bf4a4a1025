// A chaos run's fault windows are shaded on every line chart of report.html, and the figures
// and the timeline are listed in report.html and summary.md; a run without chaos has neither.

import { describe, expect, it } from 'vitest';
import { buildReport } from './report.ts';
import { syntheticResult } from './synthetic.ts';
import type { RunResult } from '../harness/result.ts';

function withChaos(r: RunResult): RunResult {
  r.chaos = {
    experiment: 'crash-restart', seed: 9,
    events: [
      { tS: 3, kind: 'inject', fault: 'sigkill', detail: 'SIGKILL' },
      { tS: 3.04, kind: 'detect', fault: 'sigkill', detail: 'first failed request 40 ms after inject' },
      { tS: 4.2, kind: 'clear', fault: 'sigkill', detail: 'restarted' },
      { tS: 5, kind: 'recover', fault: 'sigkill', detail: 'healthy again 800 ms after clear' },
    ],
    windows: [{ fault: 'sigkill', injectS: 3, clearS: 4.2, detectS: 3.04, recoveredS: 5 }],
    figures: [['acknowledged orders lost', '0'], ['time to recover after clear (median / max)', '800 ms / 800 ms']],
  };
  return r;
}

describe('chaos timeline in the report', () => {
  it('shades the fault window on every line chart and lists figures and events', () => {
    const { html, markdown } = buildReport(withChaos(syntheticResult({ withServer: true })));
    const charts = html.split('<svg class="chart"').slice(1);
    // Every chart over time (the saturation scatter's x axis is the offered rate, not time).
    const lineCharts = charts.filter((c) => c.includes('<path d=') && /class="al">time/.test(c));
    expect(lineCharts.length).toBeGreaterThan(3);
    for (const c of lineCharts) expect(c).toContain('fill="#dc2626" fill-opacity="0.18"');
    expect(html).toContain('Chaos: crash-restart (seed 9)');
    expect(html).toContain('acknowledged orders lost');
    expect(markdown).toContain('## Chaos: crash-restart (seed 9)');
    expect(markdown).toMatch(/\| 3\.040 \| detect \| sigkill \|/);
  });

  it('draws no bands and no chaos section for an ordinary run (and none left over from a chaos render)', () => {
    buildReport(withChaos(syntheticResult()));
    const { html, markdown } = buildReport(syntheticResult());
    expect(html).not.toContain('fill-opacity="0.18"');
    expect(html).not.toContain('Chaos:');
    expect(markdown).not.toContain('## Chaos');
  });
});
