/**
 * Goal: HashKV has etcd's shape. Method: on an empty store the hash covers only the bucket name,
 * so it must equal what etcd 3.4.23 returned for an empty store (1084519789, compact revision -1),
 * which also checks our CRC-32C (Castagnoli) table; then revision rules on a small history.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { crc32c } from '../../src/util/crc32c.js';
import { Harness, compactOp } from './harness.js';

let h: Harness;
beforeEach(() => {
  h = Harness.open();
});
afterEach(async () => {
  await h.close();
});

describe('HashKV', () => {
  it('matches etcd on an empty store', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283); // the CRC-32C check value
    expect(h.kv.hashKV(0)).toEqual({ hash: 1084519789, compactRevision: -1, revision: 1 });
  });

  it('hashes up to a revision and follows etcd’s error rules', () => {
    h.put('a', '1'); // 2
    const at2 = h.kv.hashKV(0).hash;
    h.put('b', '1'); // 3
    expect(h.kv.hashKV(2).hash).toBe(at2);
    expect(h.kv.hashKV(3).hash).not.toBe(at2);
    h.ok(compactOp(2));
    expect(() => h.kv.hashKV(2)).toThrow(expect.objectContaining({ code: 'Compacted' }));
    expect(h.kv.hashKV(3)).toMatchObject({ compactRevision: 2, revision: 3 });
  });
});
