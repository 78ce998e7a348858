/**
 * Goal: permission intervals decide as etcd 3.4's range_perm_cache (adt interval tree): a key needs an interval
 * containing it; a range needs the overlapping intervals to cover it without a gap; an empty bound is +infinity;
 * a permission's range end "\0" reaches the end; READWRITE counts for both reads and writes.
 * Method: table tests on mergePerms/permits with hand-made roles.
 */
import { describe, expect, it } from '@jest/globals';
import { authpb } from '@corvid/proto';
import { compareBound, mergePerms, permits } from '../../src/auth/index.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const { READ, WRITE, READWRITE } = authpb.Permission_Type;
const perm = (permType: authpb.Permission_Type, key: string, rangeEnd = ''): authpb.Permission => ({ permType, key: b(key), rangeEnd: b(rangeEnd) });
const role = (...keyPermission: authpb.Permission[]): authpb.Role => ({ name: b('r'), keyPermission });

describe('compareBound', () => {
  it('orders by bytes with the empty bound last', () => {
    expect(compareBound(b('a'), b('b'))).toBeLessThan(0);
    expect(compareBound(b(''), b('zzz'))).toBeGreaterThan(0);
    expect(compareBound(b('zzz'), b(''))).toBeLessThan(0);
    expect(compareBound(b(''), b(''))).toBe(0);
  });
});

describe('permits', () => {
  const merged = mergePerms([
    role(perm(READWRITE, '/foo/', '/foo0'), perm(READ, '/bar'), perm(WRITE, '/w/', '/x/')),
    role(perm(READ, '/g/', '/h/'), perm(READ, '/h/', '/i/'), perm(READ, '/z/', '\0')),
  ]);

  it.each([
    ['a key inside a prefix', '/foo/a', '', true],
    ['the prefix range itself', '/foo/', '/foo0', true],
    ['a range wider than the prefix', '/fo', '/fp', false],
    ['a single-key permission', '/bar', '', true],
    ['a range over a single-key permission', '/bar', '/bar\0', true],
    ['a range past a single key', '/bar', '/bas', false],
    ['a write-only range', '/w/', '/x/', false],
    ['two adjacent intervals together', '/g/a', '/h/z', true],
    ['up to the end when the permission reaches it', '/z/a', '\0', true],
    ['from a key to the end beyond any permission', '/foo/', '\0', false],
    ['outside every permission', '/nope', '', false],
  ])('read: %s', (_name, key, end, expected) => {
    expect(permits(merged.read, b(key), b(end))).toBe(expected);
  });

  it.each([
    ['inside the write range', '/w/1', '', true],
    ['the whole write range', '/w/', '/x/', true],
    ['a read-only key', '/bar', '', false],
    ['READWRITE counts for writes', '/foo/x', '', true],
  ])('write: %s', (_name, key, end, expected) => {
    expect(permits(merged.write, b(key), b(end))).toBe(expected);
  });

  it('refuses a range with a gap between intervals', () => {
    const gappy = mergePerms([role(perm(READ, 'a', 'c'), perm(READ, 'd', 'f'))]);
    expect(permits(gappy.read, b('a'), b('f'))).toBe(false);
    expect(permits(gappy.read, b('a'), b('c'))).toBe(true);
    expect(permits(gappy.read, b('b'), b('c'))).toBe(true);
  });

  it('allows nothing without permissions', () => {
    expect(permits(mergePerms([]).read, b('a'), b(''))).toBe(false);
  });
});
