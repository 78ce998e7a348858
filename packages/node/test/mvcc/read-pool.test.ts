/**
 * Goal: long reads served by the read pool (mvcc/read-pool) answer exactly what the event loop's
 * own range would — same kvs, count, more, header revision and errors — at a snapshot no older
 * than the last commit, and the event loop keeps turning while they run. Method: a real Backend
 * with a few thousand keys and some history; every RangeRequest shape is served both ways and
 * compared byte for byte (the worker's encoder against ts-proto's); the encoder itself is
 * property-tested against ts-proto on random responses. Needs `npm run build` (workers run dist).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { etcdserverpb } from '@corvid/proto';
import { INLINE_READ_ENTRIES, encodeRangeResponse } from '../../src/mvcc/index.js';
import { ReadPool } from '../../src/mvcc/read-pool/index.js';
import { Harness, b, compactOp, rPut } from './harness.js';

const { RangeRequest_SortOrder: Order, RangeRequest_SortTarget: Target } = etcdserverpb;
const HEADER = { clusterId: 7n, memberId: 9n, raftTerm: 3n };
const KEYS = 3000;
const key = (i: number): string => `p/${String(i).padStart(5, '0')}`;
let h: Harness;
let compactedAt = 0;

beforeAll(() => {
  h = Harness.open({ readWorkers: 1 });
  for (let from = 0; from < KEYS; from += 500) {
    h.txn({ success: Array.from({ length: 500 }, (_, j) => rPut(key(from + j), `v${from + j}-`.repeat(8))) });
  }
  h.put(key(10), 'rewritten');
  compactedAt = h.kv.currentRevision();
  h.ok(compactOp(compactedAt));
  h.del(key(20));
  for (let i = 0; i < 50; i++) h.put(key(i * 7), `again${i}`);
});
afterAll(async () => {
  await h.close();
});

async function both(partial: etcdserverpb.DeepPartial<etcdserverpb.RangeRequest>): Promise<{ inline: Buffer; pool: Buffer }> {
  const request = etcdserverpb.RangeRequest.fromPartial(partial);
  const expected = h.kv.range(request);
  expected.header = { ...HEADER, revision: expected.header!.revision };
  const pooled = await h.kv.rangeInPool(request, HEADER);
  const framed = pooled.framed()!;
  expect(framed.readUInt32BE(1)).toBe(framed.length - 5);
  return { inline: Buffer.from(etcdserverpb.RangeResponse.encode(expected).finish()), pool: pooled.encoded()! };
}

const P = { key: b('p/'), rangeEnd: b('p0') };

describe('read pool', () => {
  it('answers every range shape exactly as the event loop would', async () => {
    const rev = h.kv.currentRevision();
    const shapes: Array<etcdserverpb.DeepPartial<etcdserverpb.RangeRequest>> = [
      P,
      { ...P, keysOnly: true },
      { ...P, countOnly: true },
      { ...P, limit: 10n },
      { ...P, limit: 2999n },
      { ...P, revision: BigInt(compactedAt) },
      { ...P, revision: BigInt(compactedAt), countOnly: true },
      { ...P, revision: BigInt(rev - 3), limit: 100n },
      { ...P, sortOrder: Order.DESCEND, sortTarget: Target.MOD, limit: 5n },
      { ...P, sortTarget: Target.VALUE },
      { ...P, minModRevision: BigInt(compactedAt + 2) },
      { ...P, maxCreateRevision: 3n, countOnly: true },
      { key: b('p/00010') },
      { key: b('p/00020') },
      { key: b('q'), rangeEnd: b('r') },
      { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) },
    ];
    for (const shape of shapes) {
      const { inline, pool } = await both(shape);
      expect(pool.equals(inline)).toBe(true);
    }
  });

  it('keeps small reads inline and sends long ones to the pool', () => {
    expect(h.kv.rangeInline(etcdserverpb.RangeRequest.fromPartial({ ...P, limit: 10n, sortOrder: Order.NONE }))).toBeUndefined(); // count needs every key
    expect(h.kv.rangeInline(etcdserverpb.RangeRequest.fromPartial({ key: b('p/00001'), rangeEnd: b('p/00100') }))?.kvs).toHaveLength(98); // p/00020 is deleted
    expect(h.kv.rangeInline(etcdserverpb.RangeRequest.fromPartial({ key: b('p/01000') }))?.kvs).toHaveLength(1);
    expect(h.kv.rangeInline(etcdserverpb.RangeRequest.fromPartial(P))).toBeUndefined();
    expect(h.kv.rangeInline(etcdserverpb.RangeRequest.fromPartial({ ...P, countOnly: true }))).toBeUndefined();
    expect(h.kv.rangeInline(etcdserverpb.RangeRequest.fromPartial({ ...P, revision: BigInt(compactedAt) }))).toBeUndefined();
    expect(INLINE_READ_ENTRIES).toBeLessThan(KEYS);
  });

  it('keeps revision errors: future inline, compacted in the pool at its own snapshot', async () => {
    const future = etcdserverpb.RangeRequest.fromPartial({ ...P, revision: BigInt(h.kv.currentRevision() + 1) });
    expect(() => h.kv.rangeInline(future)).toThrow(expect.objectContaining({ code: 'FutureRev' }));
    const compacted = etcdserverpb.RangeRequest.fromPartial({ ...P, revision: BigInt(compactedAt - 1) });
    await expect(h.kv.rangeInPool(compacted, HEADER)).rejects.toMatchObject({ code: 'Compacted' });
  });

  it('reads the latest commit, job after job (a linearizable read after an acknowledged put)', async () => {
    const request = etcdserverpb.RangeRequest.fromPartial({ ...P, countOnly: true });
    for (let i = 0; i < 20; i++) {
      h.put(`p/new-${i}`, 'x');
      const response = await h.kv.rangeInPool(request, HEADER);
      expect(response.header?.revision).toBe(BigInt(h.kv.currentRevision()));
      expect(etcdserverpb.RangeResponse.decode(response.encoded()!).count).toBe(BigInt(KEYS - 1 + i + 1));
    }
  });

  it('computes HashKV as the event loop does', async () => {
    await expect(h.kv.hashKVInPool(0)).resolves.toEqual(h.kv.hashKV(0));
    await expect(h.kv.hashKVInPool(compactedAt + 1)).resolves.toEqual(h.kv.hashKV(compactedAt + 1));
    await expect(h.kv.hashKVInPool(compactedAt)).rejects.toMatchObject({ code: 'Compacted' });
  });

  it('lets the event loop turn while a long read runs', async () => {
    let maxGapMs = 0;
    let last = performance.now();
    let ticking = true;
    const tick = (): void => {
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
      if (ticking) setImmediate(tick);
    };
    const reads = Array.from({ length: 4 }, () => h.kv.rangeInPool(etcdserverpb.RangeRequest.fromPartial(P), HEADER));
    setImmediate(tick);
    const started = performance.now();
    await Promise.all(reads);
    ticking = false;
    const tookMs = performance.now() - started;
    // The four reads take tens of ms in all; the loop never waits for one of them.
    expect(maxGapMs).toBeLessThan(Math.max(20, tookMs / 2));
  });

  it('fails a response over the send limit as grpc-go does, and bounds its queue', async () => {
    const small = Harness.open({ readWorkers: 1, maxResponseBytes: 1000 });
    try {
      small.txn({ success: Array.from({ length: 600 }, (_, j) => rPut(key(j), 'v')) });
      await expect(small.kv.rangeInPool(etcdserverpb.RangeRequest.fromPartial(P), HEADER)).rejects.toMatchObject({ code: 'GrpcSendTooLarge' });
    } finally {
      await small.close();
    }
    const pool = new ReadPool({ path: h.backend.path, workers: 1, maxQueued: 1 });
    try {
      const job = { kind: 'hash', revision: 0 } as const;
      const first = pool.run(job); // running
      const second = pool.run(job); // queued
      await expect(pool.run(job)).rejects.toMatchObject({ code: 'TooManyRequests' });
      await Promise.all([first, second]);
    } finally {
      await pool.close();
    }
  });
});

describe('encodeRangeResponse', () => {
  const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  const kv = fc.record({
    key: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    createRevision: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 53n }), int64),
    modRevision: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 53n })),
    version: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 300n })),
    value: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    lease: fc.oneof(fc.constant(0n), int64),
  });
  const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
  const response = fc.record({
    header: fc.option(fc.record({ clusterId: uint64, memberId: uint64, revision: int64, raftTerm: uint64 }), { nil: undefined }),
    kvs: fc.array(kv, { maxLength: 20 }),
    more: fc.boolean(),
    count: int64,
  });

  it('writes exactly the bytes ts-proto writes, after gRPC\'s 5-byte prefix when framed', () => {
    fc.assert(
      fc.property(response, (r) => {
        const expected = Buffer.from(etcdserverpb.RangeResponse.encode(r).finish());
        expect(encodeRangeResponse(r).equals(expected)).toBe(true);
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(expected.length, 1);
        expect(encodeRangeResponse(r, Number.POSITIVE_INFINITY, true).equals(Buffer.concat([prefix, expected]))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
