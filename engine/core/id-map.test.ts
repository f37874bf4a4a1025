// IdSlotMap against a Map model: random inserts, deletes and lookups (dense sequential ids
// as the engine issues them, plus sparse large ids), including full tables and long
// probe runs that wrap around the end of the table.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdSlotMap } from './id-map.ts';

describe('IdSlotMap', () => {
  it('behaves like a Map under random insert/delete/get', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 64 }),
      fc.array(fc.tuple(fc.constantFrom('ins', 'del', 'get'), fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 2 ** 40, max: 2 ** 40 + 50 }), fc.constant(2 ** 53 - 1))), { maxLength: 500 }),
      (cap, ops) => {
        const m = new IdSlotMap(cap);
        const model = new Map<number, number>();
        let slot = 0;
        for (const [op, id] of ops) {
          if (op === 'ins') {
            if (model.has(id)) continue;
            const ok = m.insert(id, slot);
            expect(ok).toBe(model.size < cap);
            if (ok) model.set(id, slot);
            slot++;
          } else if (op === 'del') {
            expect(m.delete(id)).toBe(model.get(id) ?? -1);
            model.delete(id);
          } else {
            expect(m.get(id)).toBe(model.get(id) ?? -1);
          }
          expect(m.size).toBe(model.size);
        }
        for (const [id, s] of model) expect(m.get(id)).toBe(s);
      }), { numRuns: 400 });
  });
});
