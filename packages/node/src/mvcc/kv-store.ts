/**
 * The MVCC key-value store of one member (etcd's mvcc.store): revision bookkeeping in memory,
 * data in the backend. Reads are synchronous and served from the committed state; writes come
 * only from the applier, through `beginWrite`/`endWrite` inside its batch transaction.
 */
import type { Registry } from 'prom-client';
import { etcdserverpb } from '@corvid/proto';
import { assert, CorvidError } from '../errors/index.js';
import type { Backend, WriteTxn } from '../storage/index.js';
import {
  META_COMPACT_REVISION,
  META_CURRENT_REVISION,
  META_FINISHED_COMPACT_REVISION,
  decodeMetaInt,
  encodeMetaInt,
} from '../storage/schema.js';
import { Compactor, COMPACTION_CHUNK_ENTRIES } from './compaction.js';
import { hashUpTo } from './hash.js';
import { KvWrite, type ChangeEvent } from './kv-write.js';
import { MvccMetrics } from './metrics.js';
import { rangeView, rangeWithin } from './range.js';
import { EncodedRangeResponse, ReadPool, type HeaderIdentity, type ReadReply } from './read-pool/index.js';
import { createReadPoolMetrics } from '../metrics/index.js';
import { getAt, ReadBudget } from './reader.js';
import type { KvRecord } from './record.js';
import type { RevisionView } from './revision.js';

/**
 * LMDB entries a read may visit on the event loop (≈ 0.5 ms here); a read that needs more is
 * served by the read pool instead, so no range, count or HashKV stalls Raft and the applier.
 */
export const INLINE_READ_ENTRIES = 512;

/** grpc's send limit as etcd 3.4 sets it (math.MaxInt32): a bigger response fails. */
export const MAX_RESPONSE_BYTES = 2 ** 31 - 1;

export interface KvStoreOptions {
  readonly registry?: Registry;
  /** Read-pool worker threads (default: defaultReadWorkers()). */
  readonly readWorkers?: number;
  /** The send limit pool responses are held to (tests make it small). */
  readonly maxResponseBytes?: number;
  /** `revs` entries examined per compaction chunk (tests make it small). */
  readonly compactionChunkEntries?: number;
}

export interface HashKvResult {
  readonly hash: number;
  readonly compactRevision: number;
  readonly revision: number;
}

export class KvStore {
  readonly metrics: MvccMetrics;
  private readonly backend: Backend;
  private readonly compactor: Compactor;
  private readonly readPool: ReadPool;
  private readonly maxResponseBytes: number;
  /** Last committed main revision; 1 on an empty store, as etcd. */
  private current = 1;
  /** Applied compact revision; -1 until the first Compaction (etcd's compactMainRev starts at -1). */
  private compactRev = -1;
  /** Revision up to which compaction has physically finished; -1 before the first. */
  private finishedCompactRev = -1;
  private openWrite: KvWrite | null = null;
  private closed = false;
  /** Changes of the write batch in progress; handed to the commit listeners once it has committed. */
  private uncommitted: ChangeEvent[] = [];
  /** The watchable store (mvcc/watch), told of each committed batch's changes in revision order. */
  private readonly commitListeners: Array<(changes: readonly ChangeEvent[], rev: number) => void> = [];
  /** Told when the state was re-read from disk (a snapshot installed, or a batch aborted): watchers must re-check history. */
  private readonly reloadListeners: Array<() => void> = [];
  private readonly closeListeners: Array<() => void> = [];

  constructor(backend: Backend, options: KvStoreOptions = {}) {
    this.backend = backend;
    this.metrics = new MvccMetrics(
      {
        // After close the gauges read 0 rather than fail the scrape.
        dbSizeBytes: () => (this.closed ? 0 : backend.sizeBytes()),
        dbSizeInUseBytes: () => (this.closed ? 0 : backend.sizeInUseBytes()),
        keys: () => (this.closed ? 0 : (backend.live.getStats() as { entryCount: number }).entryCount),
      },
      options.registry,
    );
    this.compactor = new Compactor(
      backend,
      {
        compactRev: () => this.compactRev,
        finishedRev: () => this.finishedCompactRev,
        setFinishedRev: (rev) => {
          this.finishedCompactRev = rev;
        },
      },
      this.metrics,
      options.compactionChunkEntries ?? COMPACTION_CHUNK_ENTRIES,
    );
    this.readPool = new ReadPool({
      path: backend.path,
      ...(options.readWorkers === undefined ? {} : { workers: options.readWorkers }),
      ...(options.registry === undefined ? {} : { metrics: createReadPoolMetrics(options.registry) }),
    });
    // Its workers open the backend's file by path: a defragmentation suspends them for the swap.
    backend.addSharer(this.readPool);
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.reload();
    this.compactor.schedule(); // resume a compaction a crash interrupted
  }

  /** Re-reads the revision bookkeeping from disk (at open, and after an aborted write batch). */
  reload(): void {
    this.current = decodeMetaInt(this.backend.meta.get(META_CURRENT_REVISION), 1);
    this.compactRev = decodeMetaInt(this.backend.meta.get(META_COMPACT_REVISION), -1);
    this.finishedCompactRev = decodeMetaInt(this.backend.meta.get(META_FINISHED_COMPACT_REVISION), -1);
    this.openWrite = null;
    this.uncommitted = [];
    for (const listener of this.reloadListeners) listener();
  }

  /** Subscribes to reloads (mvcc/watch: a restored store may hold revisions no commit published, as etcd's watchableStore.Restore). */
  onReload(listener: () => void): void {
    this.reloadListeners.push(listener);
  }

  /** Subscribes to the store's close (mvcc/watch stops its catch-up timers, which read the backend). */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /**
   * Subscribes to committed changes (mvcc/watch's WatchableStore, the only caller). A listener runs
   * synchronously in the applier's turn, right after the batch's transaction has committed.
   */
  onCommit(listener: (changes: readonly ChangeEvent[], rev: number) => void): void {
    this.commitListeners.push(listener);
  }

  /**
   * Hands the changes of the batch that just committed to the listeners (the applier calls this
   * after `writeSync` returns; an aborted batch was forgotten by `reload`).
   */
  publishCommitted(): void {
    const changes = this.uncommitted;
    if (changes.length === 0) return;
    this.uncommitted = [];
    for (const listener of this.commitListeners) listener(changes, this.current);
  }

  /**
   * The version of `key` at `rev`, as a range at that revision sees it (undefined if absent, or
   * if `rev` is compacted): etcd's watch server reads prev_kv this way, at mod revision - 1.
   */
  versionAt(key: Buffer, rev: number): KvRecord | undefined {
    if (rev < this.compactRev || rev > this.current || rev <= 0) return undefined;
    return getAt(this.backend, key, rev);
  }

  currentRevision(): number {
    return this.current;
  }

  /** The applied compact revision; 0 if never compacted. */
  compactedRevision(): number {
    return Math.max(0, this.compactRev);
  }

  /** Serves a read from the committed state; header.revision = current revision. */
  range(request: etcdserverpb.RangeRequest): etcdserverpb.RangeResponse {
    assert(!this.backend.inWriteTxn(), 'KvStore.range must not run inside a write transaction');
    this.metrics.rangeTotal.inc();
    const out = rangeView(this.backend, this.view(), request);
    return {
      header: { clusterId: 0n, memberId: 0n, revision: BigInt(this.current), raftTerm: 0n },
      kvs: out.kvs,
      more: out.more,
      count: BigInt(out.count),
    };
  }

  /**
   * Serves `request` on the event loop if it visits at most INLINE_READ_ENTRIES entries;
   * undefined if it needs more (serve it with `rangeInPool`). Revision errors are thrown first.
   */
  rangeInline(request: etcdserverpb.RangeRequest): etcdserverpb.RangeResponse | undefined {
    assert(!this.backend.inWriteTxn(), 'KvStore.range must not run inside a write transaction');
    const out = rangeWithin(this.backend, this.view(), request, new ReadBudget(INLINE_READ_ENTRIES));
    if (out === undefined) return undefined;
    this.metrics.rangeTotal.inc();
    return {
      header: { clusterId: 0n, memberId: 0n, revision: BigInt(this.current), raftTerm: 0n },
      kvs: out.kvs,
      more: out.more,
      count: BigInt(out.count),
    };
  }

  /**
   * Serves `request` on a read-pool worker, which reads its own snapshot: one taken after this
   * call (so after any read barrier the caller awaited), at least as new as the current revision.
   * The header revision is that snapshot's, and `header` completes it. The response arrives
   * encoded; the event loop only forwards it.
   */
  async rangeInPool(request: etcdserverpb.RangeRequest, header: HeaderIdentity): Promise<EncodedRangeResponse> {
    this.metrics.rangeTotal.inc();
    const job = { kind: 'range', request: etcdserverpb.RangeRequest.encode(request).finish(), header, maxResponseBytes: this.maxResponseBytes } as const;
    const reply = expectReply(await this.readPool.run(job), 'range');
    const bytes = Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength);
    return new EncodedRangeResponse(bytes, { ...header, revision: BigInt(reply.revision) }, reply.more, BigInt(reply.count));
  }

  /** `hashKV` on a read-pool worker, at the worker's snapshot. */
  async hashKVInPool(revision: number): Promise<HashKvResult> {
    const endTimer = this.metrics.hashRevSeconds.startTimer();
    const reply = expectReply(await this.readPool.run({ kind: 'hash', revision }), 'hash');
    endTimer();
    return { hash: reply.hash, compactRevision: reply.compactRevision, revision: reply.revision };
  }

  /**
   * etcd's HashKV: CRC-32C of the retained history up to `revision` (0 = current). Throws
   * Compacted when revision <= the compact revision, FutureRev when above the current one.
   * Synchronous over the whole history: an operator call, not a hot path.
   */
  hashKV(revision: number): HashKvResult {
    if (revision > 0 && revision <= this.compactRev) throw new CorvidError('Compacted');
    if (revision > this.current) throw new CorvidError('FutureRev');
    const rev = revision <= 0 ? this.current : revision;
    const endTimer = this.metrics.hashRevSeconds.startTimer();
    const hash = hashUpTo(this.backend, rev, this.compactRev);
    endTimer();
    return { hash, compactRevision: this.compactRev, revision: this.current };
  }

  /** Opens the writes of one request (one main revision). Only the applier calls this. */
  beginWrite(txn: WriteTxn): KvWrite {
    assert(this.openWrite === null, 'one KvWrite at a time');
    this.openWrite = new KvWrite(txn, this.backend, this.current, this.compactRev, this.commitListeners.length > 0 ? this.uncommitted : undefined);
    return this.openWrite;
  }

  /** Closes `write`; if it changed anything the current revision moves to its revision. */
  endWrite(_txn: WriteTxn, write: KvWrite): number {
    assert(this.openWrite === write, 'endWrite of a write that is not open');
    this.openWrite = null;
    this.current = write.rev();
    if (write.puts > 0) this.metrics.putTotal.inc(write.puts);
    if (write.deletes > 0) this.metrics.deleteTotal.inc(write.deletes);
    if (write.ranges > 0) this.metrics.rangeTotal.inc(write.ranges);
    if (write.puts + write.deletes + write.ranges > 1) this.metrics.txnTotal.inc();
    return this.current;
  }

  /** Writes the revision bookkeeping into `txn` (the applier does it once per batch). */
  persist(_txn: WriteTxn): void {
    this.backend.meta.put(META_CURRENT_REVISION, encodeMetaInt(this.current));
  }

  /**
   * Applies a Compaction at `rev` (etcd's updateCompactRev): Compacted if rev <= the compact
   * revision, FutureRev if above the current one. Reads below `rev` fail from now on; the old
   * versions go in the background once `scheduleCompaction` runs after the commit.
   */
  compact(_txn: WriteTxn, rev: number): void {
    if (rev <= this.compactRev) throw new CorvidError('Compacted');
    if (rev > this.current) throw new CorvidError('FutureRev');
    this.compactRev = rev;
    this.backend.meta.put(META_COMPACT_REVISION, encodeMetaInt(rev));
  }

  /** Starts physical compaction if a committed Compaction left work. Call after the commit. */
  scheduleCompaction(): void {
    this.compactor.schedule();
  }

  /** Resolves once compaction up to `rev` is physically done and durable. */
  whenCompacted(rev: number): Promise<void> {
    return this.compactor.whenCompacted(rev);
  }

  /** The committed view reads use. */
  view(): RevisionView {
    return { rev: this.current, compactRev: this.compactRev };
  }

  /** Waits for the compaction chunk in flight; unfinished compaction resumes on the next open. */
  async close(): Promise<void> {
    this.closed = true;
    for (const listener of this.closeListeners) listener();
    await this.readPool.close();
    await this.compactor.close();
  }
}

/** The reply of the expected kind; an operating error is rethrown as itself, a failure as an Error. */
function expectReply<K extends 'range' | 'hash'>(reply: ReadReply, kind: K): Extract<ReadReply, { kind: K }> {
  if (reply.kind === 'error') throw new CorvidError(reply.code, reply.detail === undefined ? undefined : { detail: reply.detail });
  if (reply.kind === 'failure') throw new Error(`read-pool worker failed: ${reply.stack}`);
  assert(reply.kind === kind, `read-pool reply of kind ${reply.kind}, expected ${kind}`);
  return reply as Extract<ReadReply, { kind: K }>;
}
