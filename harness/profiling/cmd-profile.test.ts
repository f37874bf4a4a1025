import { describe, expect, it, vi } from 'vitest';
import { cmdProfile, PROFILE_HELP } from './cmd-profile.ts';

async function run(args: string[]): Promise<{ code: number; err: string; out: string }> {
  let err = '';
  let out = '';
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
  try {
    return { code: await cmdProfile(args), err, out };
  } finally {
    e.mockRestore();
    o.mockRestore();
  }
}

describe('perpx profile command line', () => {
  it('bad input is one line and exit 2', async () => {
    for (const args of [[], ['bogus'], ['cpu', 'heap'], ['cpu', '--bad']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).toMatch(/^perpx profile: /);
    }
  });

  it('--help names every kind and what does not work in clinic', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(PROFILE_HELP);
    for (const k of ['cpu', 'heap', 'doctor', 'flame', 'heapprofiler', 'bubbleprof']) expect(r.out).toContain(k);
    expect(r.out).toContain('Decoded message is not valid');
  });
});
