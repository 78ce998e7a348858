/**
 * Goal: the lessor's heap pops in time order whatever the sequence of inserts, moves and removals.
 * Method: fast-check against a naive model (a Map sorted on every pop), ties broken by id.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { IndexedHeap } from '../../src/lease/index.js';

type Step = { op: 'set'; id: number; time: number } | { op: 'delete'; id: number } | { op: 'pop' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), id: fc.integer({ min: 0, max: 20 }), time: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ op: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ op: fc.constant('pop' as const) }),
);

describe('IndexedHeap', () => {
  it('matches a sorted-map model', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const heap = new IndexedHeap();
        const model = new Map<bigint, number>();
        for (const s of steps) {
          if (s.op === 'set') {
            heap.set(BigInt(s.id), s.time);
            model.set(BigInt(s.id), s.time);
          } else if (s.op === 'delete') {
            expect(heap.delete(BigInt(s.id))).toBe(model.delete(BigInt(s.id)));
          } else {
            const want = [...model].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0];
            const got = heap.pop();
            expect(got === undefined ? undefined : [got.id, got.timeMs]).toEqual(want);
            if (want !== undefined) model.delete(want[0]);
          }
          expect(heap.size).toBe(model.size);
        }
      }),
    );
  });

  it('moves an entry in place instead of adding a second one', () => {
    const heap = new IndexedHeap();
    heap.set(1n, 10);
    heap.set(2n, 20);
    heap.set(1n, 30);
    expect(heap.size).toBe(2);
    expect(heap.peek()).toEqual({ id: 2n, timeMs: 20 });
    expect(heap.timeOf(1n)).toBe(30);
  });
});
