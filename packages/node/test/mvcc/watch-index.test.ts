/**
 * Goal: the synced-watcher index finds exactly the watchers whose interval holds a key, for every shape (single key,
 * prefix, from-key, arbitrary range, keys with 0x00 and 0xff bytes), through adds and deletes.
 * Method: fast-check builds watcher sets and keys over a small byte alphabet and compares `forEachMatch` with a naive
 * scan using `inKeyRange`; examples pin etcd's GetPrefixRangeEnd.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { inKeyRange, keyRange } from '../../src/mvcc/index.js';
import { prefixRangeEnd, Watcher, WatcherIndex, type WatchSink } from '../../src/mvcc/watch/index.js';

const SINK: WatchSink = { send: () => true, blocked: () => false };
const key = fc.uint8Array({ minLength: 0, maxLength: 4 }).map((a) => Buffer.from(a.map((x) => [0, 0x61, 0x62, 0xfe, 0xff][x % 5] as number)));
const shape = fc.oneof(
  key.filter((k) => k.length > 0).map((k) => ({ key: k, end: Buffer.alloc(0) })),
  key.filter((k) => k.length > 0).map((k) => ({ key: k, end: prefixRangeEnd(k) ?? Buffer.from([0]) })),
  key.map((k) => ({ key: k, end: Buffer.from([0]) })),
  fc.tuple(key, key).map(([k, e]) => ({ key: k, end: e })),
);

describe('WatcherIndex', () => {
  it('matches what a scan of every watcher matches, through adds and deletes', () => {
    fc.assert(fc.property(fc.array(shape, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), fc.array(key, { maxLength: 20 }), (shapes, deletions, keys) => {
      const index = new WatcherIndex();
      const live = shapes
        .map((s, i) => new Watcher(BigInt(i), keyRange(s.key, s.end), 1, { noPut: false, noDelete: false }, SINK))
        .filter((w) => !w.range.empty);
      live.forEach((w) => index.add(w));
      for (const d of deletions) {
        const w = live[d % Math.max(1, live.length)];
        if (w === undefined) continue;
        index.delete(w);
        live.splice(live.indexOf(w), 1);
      }
      expect(index.size()).toBe(live.length);
      expect(new Set(index)).toEqual(new Set(live));
      for (const k of keys) {
        const found: Watcher[] = [];
        index.forEachMatch(k, (w) => found.push(w));
        const naive = live.filter((w) => inKeyRange(w.range, k));
        expect(found.map((w) => w.id).sort()).toEqual(naive.map((w) => w.id).sort());
      }
    }));
  });

  it('computes etcd\'s prefix range end', () => {
    expect(prefixRangeEnd(Buffer.from('abc'))).toEqual(Buffer.from('abd'));
    expect(prefixRangeEnd(Buffer.from([0x61, 0xff]))).toEqual(Buffer.from([0x62]));
    expect(prefixRangeEnd(Buffer.from([0xff, 0xff]))).toBeNull();
  });
});
