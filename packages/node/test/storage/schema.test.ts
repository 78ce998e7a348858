/**
 * Goal: the byte layouts in storage/schema.ts order and round-trip as docs/storage.md claims:
 * history keys sort by user key (bytes, zero bytes included) then newest revision first; a key's
 * versions lie in [historyKeyPrefix, historyKeyAfter) and no other key's do; rev keys sort in
 * revision order. Method: fast-check properties over random byte keys and revisions.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  MAX_REVISION,
  decodeMetaInt,
  decodeRevKey,
  encodeHistoryKey,
  encodeMetaInt,
  encodeRevKey,
  historyKeyAfter,
  historyKeyPrefix,
  historyKeyRevision,
  historyKeyUserKey,
  keyFitsLayout,
} from '../../src/storage/schema.js';

const sign = (n: number): number => Math.sign(n);
const bytes = fc.uint8Array({ minLength: 1, maxLength: 6 }).map((a) => Buffer.from(a.map((x) => [0, 1, 0xff, 0x61][x % 4] as number)));
const rev = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(MAX_REVISION));
const sub = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(0xffffffff));
const params = { numRuns: 2000 };

describe('history keys', () => {
  it('sort by user key, then by revision newest first', () => {
    fc.assert(
      fc.property(bytes, rev, sub, bytes, rev, sub, (a, ra, sa, c, rc, sc) => {
        const got = sign(Buffer.compare(encodeHistoryKey(a, ra, sa), encodeHistoryKey(c, rc, sc)));
        const byKey = sign(Buffer.compare(a, c));
        const want = byKey !== 0 ? byKey : ra !== rc ? sign(rc - ra) : sign(sc - sa);
        expect(got).toBe(want);
      }),
      params,
    );
  });

  it('bound exactly the versions of one key', () => {
    fc.assert(
      fc.property(bytes, bytes, rev, sub, (a, c, r, sb) => {
        const hk = encodeHistoryKey(c, r, sb);
        const inside = Buffer.compare(hk, historyKeyPrefix(a)) >= 0 && Buffer.compare(hk, historyKeyAfter(a)) < 0;
        expect(inside).toBe(a.equals(c));
        // a range end e: every version of a key below e sorts below prefix(e)
        expect(Buffer.compare(hk, historyKeyPrefix(a)) < 0).toBe(Buffer.compare(c, a) < 0);
      }),
      params,
    );
  });

  it('round-trip the user key and revision', () => {
    fc.assert(
      fc.property(bytes, rev, sub, (a, r, sb) => {
        const hk = encodeHistoryKey(a, r, sb);
        expect(historyKeyUserKey(hk).equals(a)).toBe(true);
        expect(historyKeyRevision(hk)).toEqual({ main: r, sub: sb });
      }),
      params,
    );
  });
});

describe('rev keys and meta values', () => {
  it('sort in revision order and round-trip', () => {
    fc.assert(
      fc.property(rev, sub, rev, sub, (r1, s1, r2, s2) => {
        expect(sign(Buffer.compare(encodeRevKey(r1, s1), encodeRevKey(r2, s2)))).toBe(r1 !== r2 ? sign(r1 - r2) : sign(s1 - s2));
        expect(decodeRevKey(encodeRevKey(r1, s1))).toEqual({ main: r1, sub: s1 });
      }),
      params,
    );
  });

  it('meta ints round-trip, including -1, and absent reads as the default', () => {
    for (const n of [-1, 0, 1, 2 ** 40, Number.MAX_SAFE_INTEGER]) expect(decodeMetaInt(encodeMetaInt(n), 7)).toBe(n);
    expect(decodeMetaInt(undefined, 7)).toBe(7);
  });

  it('refuses keys that do not fit LMDB once escaped', () => {
    expect(keyFitsLayout(Buffer.alloc(0))).toBe(false);
    expect(keyFitsLayout(Buffer.alloc(1965, 1))).toBe(true);
    expect(keyFitsLayout(Buffer.alloc(1966, 1))).toBe(false);
    expect(keyFitsLayout(Buffer.alloc(982, 0))).toBe(true);
    expect(keyFitsLayout(Buffer.alloc(983, 0))).toBe(false);
  });
});
