/**
 * Goal: Backend.defragment's contract: the file shrinks and every key stays, every handle
 * (`backend.live` etc.) and the read pool's fresh workers read the new file, a pool range running
 * when it starts finishes in full and one arriving meanwhile is served after, a write that lands while the copy is made is not lost (it is
 * copied again), background compaction waits instead of forcing copies, a second call waits and
 * shares one more run, a Snapshot copy asked for meanwhile waits, and an interrupted
 * defragmentation's leftovers go at the next open.
 * Method: a real Backend, KvStore and read pool (mvcc's test harness) on LMDB in a temp dir.
 * Needs `npm run build` (workers run dist).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { etcdserverpb } from '@corvid/proto';
import { Backend } from '../../src/storage/index.js';
import type { Logger } from '../../src/util/logger.js';
import { Harness, b, compactOp, rPut } from '../mvcc/harness.js';

const HEADER = { clusterId: 1n, memberId: 2n, raftTerm: 3n };
const key = (i: number): string => `k/${String(i).padStart(5, '0')}`;
const ALL = { key: b('k/'), rangeEnd: b('k0') };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A harness holding `n` keys of 1 KiB written twice, then `n - kept` of them deleted and compacted away. */
async function fragmented(n: number, kept: number, options: { compactionChunkEntries?: number } = {}): Promise<Harness> {
  const harness = Harness.open({ readWorkers: 1, ...options });
  for (let round = 0; round < 2; round++) {
    for (let from = 0; from < n; from += 250) {
      harness.txn({ success: Array.from({ length: Math.min(250, n - from) }, (_, j) => rPut(key(from + j), `${round}`.repeat(1024))) });
    }
  }
  harness.del(key(kept), 'k0');
  const rev = harness.kv.currentRevision();
  harness.ok(compactOp(rev));
  await harness.kv.whenCompacted(rev);
  return harness;
}

function recordingLogger(): { logger: Logger; lines: Array<{ msg: string; fields: Record<string, unknown> | undefined }> } {
  const lines: Array<{ msg: string; fields: Record<string, unknown> | undefined }> = [];
  const log = (msg: string, fields?: Record<string, unknown>): void => {
    lines.push({ msg, fields });
  };
  return { logger: { debug: log, info: log, warn: log, error: log }, lines };
}

describe('Backend.defragment', () => {
  it('shrinks the file, keeps every key, and moves every handle and the read pool to the new file', async () => {
    h = await fragmented(3000, 500);
    const before = h.range(ALL);
    const sizeBefore = h.backend.sizeBytes();
    const { logger, lines } = recordingLogger();
    const result = await h.backend.defragment({ logger });
    expect(result.sizeBytesBefore).toBe(sizeBefore);
    expect(result.sizeBytesAfter).toBe(h.backend.sizeBytes());
    expect(result.sizeBytesAfter).toBeLessThan(sizeBefore / 2);
    expect(result.copies).toBe(1);
    expect(lines.map((l) => l.msg)).toEqual(['defragmenting', 'defragmented']);
    expect(lines[1]?.fields?.['current-db-size-bytes']).toBe(result.sizeBytesAfter);

    expect(h.range(ALL)).toEqual(before);
    const pooled = await h.kv.rangeInPool(etcdserverpb.RangeRequest.fromPartial(ALL), HEADER);
    expect(pooled.encoded()).toEqual(Buffer.from(etcdserverpb.RangeResponse.encode({ ...before, header: { ...HEADER, revision: before.header!.revision } }).finish()));
    // Writes go to the new file, and the pool's new worker sees them.
    h.put(key(1), 'after');
    expect((await h.kv.rangeInPool(etcdserverpb.RangeRequest.fromPartial({ key: b(key(1)) }), HEADER)).count).toBe(1n);
    expect(h.keys({ key: b(key(1)) })).toEqual([key(1)]);
    await h.reopen();
    expect(h.range({ key: b(key(1)) }).kvs[0]?.value.toString()).toBe('after');
    expect(h.range(ALL).count).toBe(500n);
  });

  it('lets a pool range that is running finish in full, and serves one that arrives meanwhile after the swap', async () => {
    h = await fragmented(3000, 3000);
    const request = etcdserverpb.RangeRequest.fromPartial(ALL);
    const running = h.kv.rangeInPool(request, HEADER);
    const defrag = h.backend.defragment();
    const waiting = h.kv.rangeInPool(request, HEADER);
    const [first, , second] = await Promise.all([running, defrag, waiting]);
    expect(first.count).toBe(3000n);
    expect(second.count).toBe(3000n);
  });

  it('lets a shutdown that comes while it waits for a pool range finish', async () => {
    const harness = await fragmented(3000, 3000);
    h = undefined;
    const outcomes = Promise.allSettled([harness.kv.rangeInPool(etcdserverpb.RangeRequest.fromPartial(ALL), HEADER), harness.backend.defragment()]);
    await harness.close(); // the pool stops the range; the backend waits for the defragmentation
    const [range, done] = await outcomes;
    expect(range.status).toBe('rejected');
    expect(done.status).toBe('fulfilled');
  }, 20_000);

  it('copies again when a write lands while the copy is made, and loses nothing', async () => {
    h = await fragmented(3000, 1000);
    const harness = h;
    // A Ready that was already past the pause: it applies once, in the turn after.
    const writer = { pause: () => setImmediate(() => harness.put('late', 'kept')), resume: () => undefined, settled: () => Promise.resolve() };
    const result = await h.backend.defragment({ writer });
    expect(result.copies).toBeGreaterThanOrEqual(1);
    expect(h.keys({ key: b('late') })).toEqual(['late']);
    await h.reopen();
    expect(h.keys({ key: b('late') })).toEqual(['late']);
  });

  it('holds background compaction instead of copying again', async () => {
    h = await fragmented(2000, 2000, { compactionChunkEntries: 5 });
    for (let i = 0; i < 2000; i += 250) h.txn({ success: Array.from({ length: 250 }, (_, j) => rPut(key(i + j), 'x')) });
    const rev = h.kv.currentRevision();
    h.ok(compactOp(rev));
    const compacted = h.kv.whenCompacted(rev);
    const result = await h.backend.defragment();
    expect(result.copies).toBe(1);
    await compacted;
    expect(h.range({ ...ALL, countOnly: true }).count).toBe(2000n);
  });

  it('runs one at a time: a second call waits and shares one more run with a third; a copy asked for meanwhile waits', async () => {
    h = await fragmented(1000, 100);
    const { logger, lines } = recordingLogger();
    const first = h.backend.defragment({ logger });
    const second = h.backend.defragment({ logger });
    const third = h.backend.defragment({ logger });
    expect(third).toBe(second);
    expect(second).not.toBe(first);
    const copyDir = join(h.dir, 'copy');
    mkdirSync(copyDir);
    const copy = h.backend.copyTo(copyDir);
    await Promise.all([first, second, copy]);
    expect(lines.filter((l) => l.msg === 'defragmented')).toHaveLength(2);
    // Each run's "defragmenting" follows the previous run's "defragmented".
    expect(lines.map((l) => l.msg)).toEqual(['defragmenting', 'defragmented', 'defragmenting', 'defragmented']);
    expect(existsSync(join(copyDir, 'data.mdb'))).toBe(true);
  });
});

describe('Backend.open', () => {
  it('removes what an interrupted defragmentation left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corvid-defrag-'));
    try {
      const leftover = join(dir, 'member', 'db.defrag');
      mkdirSync(leftover, { recursive: true });
      writeFileSync(join(leftover, 'data.mdb'), 'half a copy');
      const backend = Backend.open({ dataDir: dir });
      expect(existsSync(leftover)).toBe(false);
      await backend.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
