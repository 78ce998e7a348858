/**
 * Goal: the small pieces of the Ready loop that a single-member run never exercises: waiters time out with etcd's
 * `request timed out` (oldest first, only when due), the bound is enforced, unknown ids are ignored; the entry
 * header reader finds the request id in any field order and refuses what is not an InternalRequest.
 * Method: the classes directly, with explicit times; entries encoded by the generated codec.
 */
import { describe, expect, it } from '@jest/globals';
import { corvidpb, etcdserverpb } from '@corvid/proto';
import { readEntryHeader } from '../../src/raft-driver/entry-header.js';
import { Waiters } from '../../src/raft-driver/waiters.js';

describe('Waiters', () => {
  it('answers by id, ignores ids nobody waits for, and times out the oldest when due', async () => {
    const w = new Waiters<string>(3);
    const a = w.register(1n, 100);
    const b = w.register(2n, 200);
    const c = w.register(3n, 300);
    expect(w.isFull()).toBe(true);
    expect(() => w.register(1n, 400)).toThrow(/already waiting/);
    w.resolve(9n, 'nobody');
    w.resolve(2n, 'two');
    expect(w.expire(99)).toBe(0);
    expect(w.expire(250)).toBe(1);
    await expect(a).rejects.toMatchObject({ code: 'Timeout' });
    await expect(b).resolves.toBe('two');
    expect(w.size).toBe(1);
    w.rejectAll(() => new Error('stopped'));
    await expect(c).rejects.toThrow('stopped');
    expect(w.size).toBe(0);
  });
});

describe('readEntryHeader', () => {
  const put = { $case: 'put' as const, value: etcdserverpb.PutRequest.fromPartial({ key: Buffer.from('k'), value: Buffer.from('v') }) };

  it('reads id and member id from an encoded InternalRequest', () => {
    const data = corvidpb.InternalRequest.encode({ header: corvidpb.RequestHeader.fromPartial({ id: 0xffffffffffffn, memberId: 0x8e9e05c52164694dn, proposedAtMs: 5n }), request: put }).finish();
    expect(readEntryHeader(data)).toEqual({ id: 0xffffffffffffn, memberId: 0x8e9e05c52164694dn });
  });

  it('finds the header after other fields, and returns null without one or on garbage', () => {
    const body = corvidpb.InternalRequest.encode({ header: undefined, request: put }).finish();
    const header = corvidpb.InternalRequest.encode({ header: corvidpb.RequestHeader.fromPartial({ id: 7n, memberId: 1n, proposedAtMs: 0n }), request: undefined }).finish();
    const reordered = Buffer.concat([body, header]);
    expect(readEntryHeader(reordered)).toEqual({ id: 7n, memberId: 1n });
    expect(readEntryHeader(body)).toBeNull();
    expect(readEntryHeader(new Uint8Array(0))).toBeNull();
    expect(readEntryHeader(Uint8Array.from([0xa2, 0x06, 0x7f]))).toBeNull();
    expect(readEntryHeader(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBeNull();
  });
});
