// What a clinic HTML report holds, so that "it wrote a file" is never taken for "it worked":
// doctor embeds its process-stat samples (one "loopUtilization" field each) and its analysis
// ("issues"); flame and heapprofiler embed stack frames, whose URLs name perpx's own sources.

import type { ClinicTool } from './clinic.ts';

export interface ClinicHtmlCheck {
  hasData: boolean;
  detail: string;
}

function count(text: string, re: RegExp): number {
  return text.match(re)?.length ?? 0;
}

export function checkClinicHtml(tool: ClinicTool, html: string): ClinicHtmlCheck {
  const frames = count(html, /engine\/(?:gateway|core|host|journal|wire|telemetry)\/[a-z-]+\.ts/g);
  if (tool === 'doctor') {
    const samples = count(html, /"loopUtilization":/g);
    const issues = /"issues":\{"delay":"(\w+)","cpu":"(\w+)","memory":\{[^}]*\},"handles":"(\w+)","loopUtilization":"(\w+)"\}/.exec(html);
    const verdict = issues === null ? 'no analysis' : `analysis: delay ${issues[1]}, cpu ${issues[2]}, handles ${issues[3]}, loop utilization ${issues[4]}`;
    return { hasData: samples > 0 && issues !== null, detail: `${samples.toLocaleString('en-US')} process samples embedded; ${verdict}` };
  }
  return { hasData: frames > 0, detail: `${frames.toLocaleString('en-US')} references to perpx source frames embedded` };
}
