// The binary command codec must be lossless: decode(encode(c)) equals c for every command
// the engine can receive, valid or not (rejections must replay identically), and refuse
// rather than truncate what does not fit.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from '../core/engine.ts';
import type { Command } from '../core/commands.ts';
import { intentArb, resolveIntent, setupCommands, testConfig } from '../core/test-support.ts';
import { binaryCommandCodec, encodeCommandInto } from './command-codec.ts';

describe('binary command codec', () => {
  it('round-trips every command of random engine sessions, and the engine replays identically', () => {
    fc.assert(fc.property(fc.array(intentArb, { maxLength: 120 }), (intents) => {
      const live = new Engine(testConfig());
      const decoded = new Engine(testConfig());
      const all: Command[] = [...setupCommands()];
      for (const c of all) { live.apply(c); decoded.apply(binaryCommandCodec.decode(binaryCommandCodec.encode(c))); }
      for (const i of intents) {
        const c = resolveIntent(i, live);
        const back = binaryCommandCodec.decode(binaryCommandCodec.encode(c));
        expect(back).toEqual(c);
        expect(decoded.apply(back)).toEqual(live.apply(c));
      }
      expect(decoded.stateHash()).toBe(live.stateHash());
    }), { numRuns: 60 });
  });

  it('keeps odd shapes losslessly through the JSON fallback', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const c = { type: 'place', junk: v, side: 'SIDEWAYS' } as unknown as Command;
      expect(binaryCommandCodec.decode(binaryCommandCodec.encode(c))).toEqual(JSON.parse(JSON.stringify(c)));
    }), { numRuns: 200 });
  });

  it('refuses a command that does not fit instead of truncating it', () => {
    const buf = new Uint8Array(16);
    const n = encodeCommandInto({ type: 'deposit', accountId: 1, amountUnits: 2 }, new DataView(buf.buffer), buf, 0, 16);
    expect(n).toBe(-1);
  });
});
