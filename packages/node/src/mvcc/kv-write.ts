/**
 * The writes of one request (a put, a delete or a whole txn) at one main revision: every change
 * gets the next sub-revision. Nothing is bumped until something changes, so a txn that changes
 * nothing (or a read-only one) leaves the revision alone, as etcd's storeTxnWrite does.
 */
import { assert } from '../errors/index.js';
import type { Backend, WriteTxn } from '../storage/index.js';
import { encodeHistoryKey, encodeRevKey, encodeRevValue } from '../storage/schema.js';
import type { etcdserverpb } from '@corvid/proto';
import type { KeyRange } from './key-range.js';
import { rangeView, type RangeOutcome } from './range.js';
import { getLive, scanLive } from './reader.js';
import { decodeRecord, encodeRecord, encodeTombstone, type KvRecord } from './record.js';
import type { RevisionView } from './revision.js';

/**
 * One change of a committed write, for watchers (etcd's mvccpb.Event before prev_kv): the key, its
 * revision and the record written (a tombstone for a delete). Buffers are owned: never LMDB's.
 */
export interface ChangeEvent {
  readonly key: Buffer;
  readonly main: number;
  readonly sub: number;
  readonly record: KvRecord;
}

/** A key with the record it had before a delete. */
export interface DeletedKey {
  readonly key: Buffer;
  readonly record: KvRecord;
}

export class KvWrite {
  /** The revision before this request; its writes land at beginRev + 1. */
  readonly beginRev: number;
  /** Operation counts for etcd's mvcc metrics (a delete counts once however many keys it hits). */
  puts = 0;
  deletes = 0;
  ranges = 0;
  private sub = 0;
  private readonly backend: Backend;
  private readonly compactRev: number;

  /** Where each change is recorded for the watchers, once the batch commits (KvStore.publishCommitted). */
  private readonly changesOut: ChangeEvent[] | undefined;

  constructor(_txn: WriteTxn, backend: Backend, beginRev: number, compactRev: number, changesOut?: ChangeEvent[]) {
    this.backend = backend;
    this.beginRev = beginRev;
    this.compactRev = compactRev;
    this.changesOut = changesOut;
  }

  /** Number of changes so far (each one a sub-revision). */
  changes(): number {
    return this.sub;
  }

  /** The revision this request has produced so far: beginRev, or beginRev + 1 once it changed. */
  rev(): number {
    return this.sub > 0 ? this.beginRev + 1 : this.beginRev;
  }

  /** What reads inside this request see (etcd: storeTxnWrite.Range reads at rev()). */
  view(): RevisionView {
    return { rev: this.rev(), compactRev: this.compactRev };
  }

  /** Serves a range inside this request: it sees the request's own earlier writes. */
  range(_txn: WriteTxn, request: etcdserverpb.RangeRequest): RangeOutcome {
    this.ranges += 1;
    return rangeView(this.backend, this.view(), request);
  }

  /** Writes `key` = `value`; `prev` is its live record if the caller already read it. */
  put(_txn: WriteTxn, key: Buffer, value: Uint8Array, lease: bigint, prev: KvRecord | undefined): void {
    this.puts += 1;
    const main = this.beginRev + 1;
    const sub = this.nextSub();
    const record = encodeRecord(prev === undefined ? main : prev.createRevision, main, prev === undefined ? 1 : prev.version + 1, lease, value);
    this.backend.live.put(key, record);
    this.backend.history.put(encodeHistoryKey(key, main, sub), record);
    this.backend.revs.put(encodeRevKey(main, sub), encodeRevValue(key, false));
    this.changesOut?.push({ key: Buffer.from(key), main, sub, record: decodeRecord(record) });
  }

  /** The live record of `key` in this request's view. */
  get(_txn: WriteTxn, key: Buffer): KvRecord | undefined {
    return getLive(this.backend, key);
  }

  /** Visits the live keys of `range` in this request's view (txn compares read this way). */
  forEachLive(_txn: WriteTxn, range: KeyRange, visit: (key: Buffer, record: KvRecord) => boolean): void {
    scanLive(this.backend, range, (key, value) => visit(key, decodeRecord(value)));
  }

  /** Deletes every live key of `range`, writing a tombstone for each; returns what was deleted. */
  deleteRange(txn: WriteTxn, range: KeyRange): DeletedKey[] {
    this.deletes += 1;
    const doomed: DeletedKey[] = [];
    scanLive(this.backend, range, (key, value) => {
      doomed.push({ key, record: decodeRecord(value) });
      return true;
    });
    for (const { key } of doomed) this.tombstone(txn, key);
    return doomed;
  }

  private tombstone(_txn: WriteTxn, key: Buffer): void {
    const main = this.beginRev + 1;
    const sub = this.nextSub();
    const record = encodeTombstone(main);
    const removed = this.backend.live.removeSync(key);
    assert(removed, 'deleted a key that was not live');
    this.backend.history.put(encodeHistoryKey(key, main, sub), record);
    this.backend.revs.put(encodeRevKey(main, sub), encodeRevValue(key, true));
    this.changesOut?.push({ key: Buffer.from(key), main, sub, record: decodeRecord(record) });
  }

  private nextSub(): number {
    const sub = this.sub;
    this.sub += 1;
    return sub;
  }
}
