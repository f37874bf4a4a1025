// The error registry: every code a client can receive (gateway and core) is documented in
// README.md's table, statuses are 4xx except the two documented 5xx, and bodies are
// exactly {code, msg}.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allErrorCodes, errorBody, GW } from './errors.ts';

const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');

describe('error registry', () => {
  it('every code is documented in README.md', () => {
    const documented = new Set([...readme.matchAll(/^\| (-\d+) \|/gm)].map((m) => Number(m[1])));
    const missing = [...allErrorCodes()].filter((c) => !documented.has(c));
    expect(missing).toEqual([]);
  });

  it('statuses are 4xx except 503 for -1008 and 500 for -1000', () => {
    for (const [name, e] of Object.entries(GW)) {
      if (e.code === -1008) expect(e.status, name).toBe(503);
      else if (e.code === -1000) expect(e.status, name).toBe(500);
      else expect(e.status >= 400 && e.status < 500, name).toBe(true);
      expect(e.code, name).toBeLessThan(0);
    }
  });

  it('bodies are {code,msg} with the message escaped', () => {
    expect(JSON.parse(errorBody(-1102, 'bad "x"\n'))).toEqual({ code: -1102, msg: 'bad "x"\n' });
  });
});
