// Proves the perpx CLI contract by running it as a user would (a child process): help for every
// sub-command; bad input gives exactly one line on stderr
// and a non-zero exit, never a stack trace; `k6 export` writes a script; `load` writes the run
// directory (report.html, summary.md, results.json, history.ndjson) and the `latest` link.

import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync, readFileSync, readlinkSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

function perpx(args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: cwd ?? process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function expectOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

describe('perpx CLI', () => {
  it('prints help for every sub-command and exits 0', async () => {
    const results = await Promise.all([[], ['--help'], ['load', '--help'], ['load', 'max', '--help'], ['calibrate', '--help'], ['k6', '--help'], ['run', '--help']].map((a) => perpx(a)));
    for (const r of results) expect(r.code).toBe(0);
    expect(results[1]!.stdout).toMatch(/calibrate/);
    expect(results[2]!.stdout).toMatch(/--target URL/);
    expect(results[3]!.stdout).toMatch(/closed model/);
    expect(results[4]!.stdout).toMatch(/--stall-ms/);
    expect(results[5]!.stdout).toMatch(/perpx k6 export <scenario>/);
    expect(results[6]!.stdout).toMatch(/perpx run/);
  });

  it('bad input: one line, non-zero exit, no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perpx-cli-'));
    try {
      writeFileSync(join(dir, 'broken.json'), '{"name": ');
      writeFileSync(join(dir, 'badprofile.json'), JSON.stringify({ name: 'x', profile: { kind: 'constant', rate: -5, duration: 1 } }));
      writeFileSync(join(dir, 'badthreshold.json'), JSON.stringify({ name: 'x', profile: { kind: 'constant', rate: 5, duration: 1 }, thresholds: ['p99 <'] }));
      const cases: [string[], RegExp][] = [
        [['bogus'], /^perpx: unknown command "bogus"/],
        [['load', '--frob'], /^perpx load: Unknown option '--frob'\.$/],
        [['load', '--scenario', 'x.json'], /^perpx load: missing --target URL/],
        [['load', 'max'], /^perpx load: missing --target URL/],
        [['load', 'max', '--target', 'https://x.example'], /^perpx load: --target must be an http URL/],
        [['load', 'max', '--target', 'http://127.0.0.1:9', '--connections', '8,4'], /^perpx load: --connections must be ascending/],
        [['load', 'max', '--target', 'http://127.0.0.1:9', '--connections', 'x'], /^perpx load: --connections must be an integer/],
        [['load', 'max', '--target', 'http://127.0.0.1:9'], /^perpx load: cannot reach http:\/\/127\.0\.0\.1:9\//],
        [['load', '--target', 'nope', '--scenario', 'x.json'], /^perpx load: --target must be an http\(s\) URL/],
        [['load', '--target', 'http://127.0.0.1:9', '--scenario', join(dir, 'missing.json')], /cannot read scenario .*ENOENT/],
        [['load', '--target', 'http://127.0.0.1:9', '--scenario', join(dir, 'broken.json')], /is not valid JSON/],
        [['load', '--target', 'http://127.0.0.1:9', '--scenario', join(dir, 'badprofile.json')], /constant\.rate: rate must be/],
        [['load', '--target', 'http://127.0.0.1:9', '--scenario', join(dir, 'badthreshold.json')], /bad threshold "p99 <"/],
        [['calibrate', '--rate', 'fast'], /^perpx calibrate: --rate must be a number/],
        [['calibrate', '--duration', '5', '--stall-at', '9'], /--stall-at must be inside the run/],
        [['k6', 'import', 'x.json'], /^perpx k6: unknown k6 sub-command "import"/],
        [['k6', 'export'], /^perpx k6: usage: perpx k6 export <scenario>/],
      ];
      const results = await Promise.all(cases.map(([args]) => perpx(args)));
      results.forEach((r, i) => expectOneLineError(r, cases[i]![1]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('k6 export writes a script to stdout or --out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perpx-cli-'));
    try {
      const scenario = fileURLToPath(new URL('./scenarios/ping-spike.json', import.meta.url));
      const r = await perpx(['k6', 'export', scenario, '--target', 'http://10.1.1.1:8080']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/executor": "ramping-arrival-rate"/);
      expect(r.stdout).toMatch(/http:\/\/10\.1\.1\.1:8080/);
      const out = join(dir, 'script.js');
      expect((await perpx(['k6', 'export', scenario, '--out', out])).code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(r.stdout.replace('http://10.1.1.1:8080', 'http://127.0.0.1:8080').replace('http://10.1.1.1:8080', 'http://127.0.0.1:8080'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('load writes the run directory and the latest link', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = mkdtempSync(join(tmpdir(), 'perpx-cli-'));
    try {
      const scenario = join(dir, 'tiny.json');
      // Generous generator limits: 50 sends are too few for a stable lag p99 on a busy machine,
      // and this test is about the CLI, not about generator validity (load.test.ts covers it).
      writeFileSync(scenario, JSON.stringify({
        name: 'tiny', workers: 1, profile: { kind: 'constant', rate: 50, duration: 1 }, thresholds: ['p99 < 2s', 'error_rate < 1%'],
        generator: { maxLagP99Ms: 1000, maxLagShareOfP99: 1000, maxLateFraction: 1 },
      }));
      const r = await perpx(['load', '--target', target, '--scenario', scenario, '--runs-dir', join(dir, 'runs'), '--id', 'cli-test']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^PASS {2}tiny: offered 50\/s/m);
      expect(r.stdout).toMatch(/report: .*cli-test\/report\.html/);
      expect(r.stderr).toMatch(/t= {3}1s constant/);
      for (const f of ['report.html', 'summary.md', 'results.json', 'history.ndjson']) expect(existsSync(join(dir, 'runs', 'cli-test', f)), f).toBe(true);
      expect(readlinkSync(join(dir, 'runs', 'latest'))).toBe('cli-test');
      const result = JSON.parse(readFileSync(join(dir, 'runs', 'latest', 'results.json'), 'utf8')) as { totals: { sent: number }; analysis: { verdict: string } };
      expect(result.totals.sent).toBe(50);
      expect(result.analysis.verdict).toBe('PASS');
    } finally {
      server.closeAllConnections();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
