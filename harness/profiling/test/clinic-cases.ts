// Each clinic tool that works on our Node (24) around a real perpx serve: its HTML must hold
// data (doctor: process samples and an analysis; flame, heapprofiler: perpx source frames),
// not just exist. A short burst of admin and public requests is the load (the full campaign
// under clinic is `perpx profile <tool>`).

import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClinicServer } from '../clinic.ts';
import type { ClinicServer, ClinicTool } from '../clinic.ts';
import { checkClinicHtml } from '../clinic-check.ts';
import { adminPost } from '../../embedded-server.ts';

async function burst(url: string, token: string, ms: number): Promise<number> {
  await adminPost(url, token, 'indexPrice', { symbol: 'BTCUSDT', price: '50000' });
  const end = Date.now() + ms;
  let n = 0;
  const one = async (): Promise<void> => {
    while (Date.now() < end) {
      const r = n % 5 === 0 ? await adminPost(url, token, 'account', { deposit: '1000' }) : await (await fetch(`${url}/fapi/v1/depth?symbol=BTCUSDT`)).json();
      expect(r).toBeTypeOf('object');
      n++;
    }
  };
  await Promise.all(Array.from({ length: 6 }, one));
  return n;
}

/** Registers one test per tool (clinic.test.ts: doctor, heapprofiler; clinic-flame.test.ts: flame). */
export function defineClinicTests(tools: ClinicTool[]): void {
  const root = mkdtempSync(join(tmpdir(), 'perpx-clinic-'));
  const servers: ClinicServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
    rmSync(root, { recursive: true, force: true });
  });
  describe.each(tools)('clinic %s', (tool) => {
    it('writes an HTML report that holds data from the run', async () => {
      const dir = join(root, tool);
      const s = await startClinicServer(tool, { dir, dataDir: join(dir, 'data') });
      servers.push(s);
      const requests = await burst(s.url, s.adminToken, 3_000);
      expect(requests).toBeGreaterThan(10);
      const out = await s.stop();
      expect(out, JSON.stringify(out)).toMatchObject({ ok: true });
      if (!out.ok) return;
      const check = checkClinicHtml(tool, readFileSync(out.html, 'utf8'));
      expect(check.hasData, check.detail).toBe(true);
      // A template with nothing embedded must not pass the same check.
      expect(checkClinicHtml(tool, '<html><script>/* clinic */</script></html>').hasData).toBe(false);
    }, 300_000);
  });
}
