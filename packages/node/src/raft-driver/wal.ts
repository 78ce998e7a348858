/**
 * The durable Raft log (etcd's WAL + MemoryStorage in one): its own LMDB environment at
 * `${dataDir}/member/wal`, apart from the backend as etcd keeps its WAL apart from bbolt. It is the
 * raft library's read-only `LogStorage` (served synchronously from LMDB and a few cached numbers)
 * plus the writes a Ready loop makes: `save` (one durable write transaction per Ready),
 * `createSnapshot` and `compact`.
 *
 * Layout (all integers unsigned big-endian; LMDB orders keys by memcmp, so indexes sort numerically):
 *
 * | DB        | key              | value                                                              |
 * |-----------|------------------|--------------------------------------------------------------------|
 * | `entries` | index(8)         | term(8) type(1: 0 Normal, 1 ConfChange) data(...)                  |
 * | `meta`    | `hardState`      | term(8) vote(8) commit(8)                                          |
 * | `meta`    | `snapshot`       | index(8) term(8) nVoters(4) voter(8)* nLearners(4) learner(8)* data |
 * | `meta`    | `offset`         | index(8) term(8): the entry just before the first one kept         |
 * | `meta`    | `identity`       | member id(8) cluster id(8), fixed when the member first starts     |
 *
 * Invariants: `entries` holds exactly the indexes (offset.index, lastIndex], contiguous; offset.index
 * >= snapshot.index is not required (compaction may trail the snapshot by the catch-up slack) but
 * offset.index <= lastIndex always; a new log is empty until `save` stores the bootstrap snapshot.
 *
 * Durability: the environment is opened with `overlappingSync: false`. `save`, `saveIdentity` and
 * bootstrap use `transactionSync`: committed and fdatasync'd on the calling thread before it
 * returns. `saveAsync`, `createSnapshot` and `compact` are each one lmdb-js `batch()`: queued on the
 * event loop, committed as one transaction — mdb_txn_commit, which fdatasyncs — on lmdb-js's write
 * thread, the promise resolved only after that commit returned. See
 * docs/raft-driver.md ("Durability", with the strace that shows it).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { ConfState, Entry, HardState, LogStorage, Snapshot, StorageResult } from '@corvid/raft';
import { EMPTY_CONF_STATE, EMPTY_HARD_STATE, EMPTY_SNAPSHOT, isEmptySnapshot } from '@corvid/raft';
import { assert } from '../errors/index.js';

export const WAL_DB_ENTRIES = 'entries';
export const WAL_DB_META = 'meta';
const META_HARD_STATE = Buffer.from('hardState', 'latin1');
const META_SNAPSHOT = Buffer.from('snapshot', 'latin1');
const META_OFFSET = Buffer.from('offset', 'latin1');
const META_IDENTITY = Buffer.from('identity', 'latin1');

/** Who this member is, kept with its log as etcd keeps it in the WAL metadata. */
export interface WalIdentity {
  readonly memberId: bigint;
  readonly clusterId: bigint;
}
const ENTRY_HEADER_BYTES = 9;
const TWO_32 = 0x1_0000_0000;
/** Approximate per-entry size the raft library uses for its caps (messages.ts entrySizeBytes). */
const ENTRY_OVERHEAD_BYTES = 16;

type BinaryDb = Database<Buffer, Buffer>;

const ok = <T>(value: T): StorageResult<T> => ({ ok: true, value });
const COMPACTED: StorageResult<never> = { ok: false, reason: 'compacted' };
const UNAVAILABLE: StorageResult<never> = { ok: false, reason: 'unavailable' };

export interface WalOptions {
  readonly dataDir: string;
  /** Initial LMDB map size; lmdb-js grows it on demand. */
  readonly mapSizeBytes?: number;
  /**
   * Saves go to lmdb-js's write thread (CORVID_EXPERIMENTAL_WAL_WRITE_THREAD). Otherwise the
   * snapshot and compaction writes commit synchronously too: a synchronous save would split an
   * asynchronous batch in flight into two transactions.
   */
  readonly writeThread?: boolean;
}

export class Wal implements LogStorage {
  readonly path: string;
  private readonly root: RootDatabase<Buffer, Buffer>;
  private readonly entriesDb: BinaryDb;
  private readonly metaDb: BinaryDb;
  private hardState: HardState;
  private snap: Snapshot;
  /** The entry just before the first kept one: firstIndex() - 1 and its term. */
  private offset: { index: number; term: number };
  private last: { index: number; term: number };
  private closed = false;
  /** An asynchronous save is in flight (and whether it replaces the log with a snapshot). */
  private saving = false;
  private savingSnapshot = false;

  private constructor(path: string, root: RootDatabase<Buffer, Buffer>, private readonly writeThread: boolean) {
    this.path = path;
    this.root = root;
    this.entriesDb = root.openDB<Buffer, Buffer>({ name: WAL_DB_ENTRIES, keyEncoding: 'binary', encoding: 'binary' });
    this.metaDb = root.openDB<Buffer, Buffer>({ name: WAL_DB_META, keyEncoding: 'binary', encoding: 'binary' });
    const hs = this.metaDb.get(META_HARD_STATE);
    this.hardState = hs === undefined ? EMPTY_HARD_STATE : decodeHardState(hs);
    const snap = this.metaDb.get(META_SNAPSHOT);
    this.snap = snap === undefined ? EMPTY_SNAPSHOT : decodeSnapshot(snap);
    const off = this.metaDb.get(META_OFFSET);
    this.offset = off === undefined ? { index: 0, term: 0 } : { index: readU64(off, 0), term: readU64(off, 8) };
    this.last = this.offset;
    for (const { key, value } of this.entriesDb.getRange({ reverse: true, limit: 1 })) {
      this.last = { index: readU64(key, 0), term: readU64(value, 0) };
    }
  }

  /** Opens (creating if missing) `${dataDir}/member/wal`. */
  static open(options: WalOptions): Wal {
    const path = join(options.dataDir, 'member', 'wal');
    mkdirSync(path, { recursive: true });
    const root = open<Buffer, Buffer>({
      path,
      keyEncoding: 'binary',
      encoding: 'binary',
      maxDbs: 4,
      // Off: every commit must be durable when transactionSync returns or a batch resolves (TOOLCHAIN.md, "LMDB durability").
      overlappingSync: false,
      // Each write is one explicit batch(), whose end is marked at once; with turn batching lmdb-js
      // marks it at the end of the event-loop turn, which its write thread notices only by polling
      // (measured: 3–21 ms per save under load instead of ~1 ms).
      eventTurnBatching: false,
      ...(options.mapSizeBytes === undefined ? {} : { mapSize: options.mapSizeBytes }),
    });
    return new Wal(path, root, options.writeThread === true);
  }

  /** True for a log that has never been saved to (a new data dir: bootstrap it). */
  /** The member and cluster ids this log belongs to; undefined until the first start saved them. */
  identity(): WalIdentity | undefined {
    const v = this.metaDb.get(META_IDENTITY);
    return v === undefined ? undefined : { memberId: v.readBigUInt64BE(0), clusterId: v.readBigUInt64BE(8) };
  }

  saveIdentity(identity: WalIdentity): void {
    assert(!this.closed, 'wal is closed');
    const v = Buffer.allocUnsafe(16);
    v.writeBigUInt64BE(identity.memberId, 0);
    v.writeBigUInt64BE(identity.clusterId, 8);
    this.root.transactionSync(() => {
      this.metaDb.put(META_IDENTITY, v);
    });
  }

  isEmpty(): boolean {
    return isEmptySnapshot(this.snap) && this.last.index === 0 && this.hardState.term === 0;
  }

  initialState(): { readonly hardState: HardState; readonly confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  /** The hard state as last saved. */
  savedHardState(): HardState {
    return this.hardState;
  }

  entries(lo: number, hi: number, maxSizeBytes: number): StorageResult<readonly Entry[]> {
    if (lo <= this.offset.index) return COMPACTED;
    assert(hi <= this.last.index + 1, `entries hi(${hi}) out of bound lastIndex(${this.last.index})`);
    if (this.last.index === this.offset.index) return UNAVAILABLE;
    const out: Entry[] = [];
    let size = 0;
    for (const { key, value } of this.entriesDb.getRange({ start: encodeIndex(lo), end: encodeIndex(hi) })) {
      const entry = decodeEntry(readU64(key, 0), value);
      size += entry.data.byteLength + ENTRY_OVERHEAD_BYTES;
      if (out.length > 0 && size > maxSizeBytes) break;
      out.push(entry);
    }
    assert(out.length > 0 || lo === hi, `entries [${lo}, ${hi}) missing from the log`);
    return ok(out);
  }

  term(index: number): StorageResult<number> {
    if (index < this.offset.index) return COMPACTED;
    if (index === this.offset.index) return ok(this.offset.term);
    if (index === this.last.index) return ok(this.last.term);
    if (index > this.last.index) return UNAVAILABLE;
    const value = this.entriesDb.get(encodeIndex(index));
    assert(value !== undefined, `entry ${index} missing from the log`);
    return ok(readU64(value, 0));
  }

  lastIndex(): number {
    return this.last.index;
  }

  firstIndex(): number {
    return this.offset.index + 1;
  }

  snapshot(): StorageResult<Snapshot> {
    return ok(this.snap);
  }

  /**
   * Persists one Ready in ONE write transaction, durable when this returns: the snapshot (which
   * replaces the whole log), then the entries (a conflicting suffix is truncated first, as etcd's
   * MemoryStorage.Append), then the hard state. Returns false when there was nothing to save.
   */
  save(hardState: HardState | null, entries: readonly Entry[], snapshot: Snapshot | null): boolean {
    const write = this.prepareSave(hardState, entries, snapshot);
    if (write === null) return false;
    // A block body: lmdb-js waits for a callback that returns a promise-like (put's result) to settle.
    this.root.transactionSync(() => {
      write.write();
    });
    write.done();
    return true;
  }

  /**
   * As `save`, but the writes are queued to lmdb-js's write thread, which commits and fdatasyncs
   * them there while the event loop runs on; null when there is nothing to save. Until the promise
   * resolves the WAL reports the log as before the save (Raft's unstable log still serves the
   * entries). One save at a time: the caller waits for it before the next.
   */
  saveAsync(hardState: HardState | null, entries: readonly Entry[], snapshot: Snapshot | null): Promise<void> | null {
    assert(!this.saving, 'one asynchronous WAL save at a time');
    const write = this.prepareSave(hardState, entries, snapshot);
    if (write === null) return null;
    this.saving = true;
    this.savingSnapshot = write.hasSnapshot;
    return this.onWriteThread(write.write, () => {
      this.saving = false;
      this.savingSnapshot = false;
      write.done();
    });
  }

  /**
   * Queues the writes `write` makes as ONE lmdb-js batch (one transaction, in queue order) and
   * resolves once it is committed, after running `done`. With overlappingSync off the batch's
   * promise resolves only after its commit synced the data file (docs/raft-driver.md,
   * "Durability"). No synchronous write transaction may run meanwhile: lmdb-js would interrupt the
   * write thread's transaction to run it.
   */
  private async onWriteThread(write: () => void, done: () => void): Promise<void> {
    await this.root.batch(write);
    done();
  }

  /** A snapshot or compaction write: on the write thread when saves are, else one synchronous transaction. */
  private async batched(write: () => void, done: () => void): Promise<void> {
    if (this.writeThread) return this.onWriteThread(write, done);
    this.root.transactionSync(write);
    done();
  }

  /** The writes of one save and what to remember once durable; null when there is nothing to save. */
  private prepareSave(hardState: HardState | null, entries: readonly Entry[], snapshot: Snapshot | null): { write(): void; done(): void; hasSnapshot: boolean } | null {
    assert(!this.closed, 'wal is closed');
    const snap = snapshot !== null && !isEmptySnapshot(snapshot) ? snapshot : null;
    if (hardState === null && entries.length === 0 && snap === null) return null;
    if (snap !== null) assert(snap.metadata.index > this.snap.metadata.index, `snapshot ${snap.metadata.index} is not newer than ${this.snap.metadata.index}`);
    let offset = this.offset;
    let last = this.last;
    return {
      hasSnapshot: snap !== null,
      write: () => {
        if (snap !== null) {
          for (let i = offset.index + 1; i <= last.index; i++) this.entriesDb.remove(encodeIndex(i));
          offset = { index: snap.metadata.index, term: snap.metadata.term };
          last = offset;
          this.metaDb.put(META_SNAPSHOT, encodeSnapshot(snap));
          this.metaDb.put(META_OFFSET, encodeOffset(offset));
        }
        last = this.appendWrites(entries, offset, last);
        if (hardState !== null) this.metaDb.put(META_HARD_STATE, encodeHardState(hardState));
      },
      done: () => {
        // Only a snapshot moves the offset here: a compaction may have moved it while this save was queued.
        if (snap !== null) {
          this.snap = snap;
          this.offset = offset;
        }
        this.last = last;
        if (hardState !== null) this.hardState = hardState;
      },
    };
  }

  /** Writes `entries` after truncating a conflicting suffix; returns the new last entry. */
  private appendWrites(entries: readonly Entry[], offset: { index: number; term: number }, last: { index: number; term: number }): { index: number; term: number } {
    const first = entries[0];
    if (first === undefined) return last;
    // Entries at or below the compaction point are already part of the snapshot: skip them.
    const skip = Math.max(0, offset.index + 1 - first.index);
    if (skip >= entries.length) return last;
    const from = first.index + skip;
    assert(from <= last.index + 1, `missing log entry [last: ${last.index}, append at: ${from}]`);
    for (let i = from; i <= last.index; i++) this.entriesDb.remove(encodeIndex(i));
    let prev = from - 1;
    for (let k = skip; k < entries.length; k++) {
      const e = entries[k] as Entry;
      assert(e.index === prev + 1, `entries are not contiguous at ${e.index}`);
      assert(Number.isSafeInteger(e.index) && Number.isSafeInteger(e.term), 'entry index or term is not a safe integer');
      this.entriesDb.put(encodeIndex(e.index), encodeEntryValue(e));
      prev = e.index;
    }
    const tail = entries[entries.length - 1] as Entry;
    return { index: tail.index, term: tail.term };
  }

  /**
   * Records a snapshot of the applied state at `index` (the log is kept until compact()). Resolves
   * false if it is not newer than the current one or a leader's snapshot is being saved (it
   * replaces the record); true once durable. Queued like saveAsync, never a synchronous transaction.
   */
  async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<boolean> {
    if (this.savingSnapshot || index <= this.snap.metadata.index) return false;
    assert(index <= this.last.index, `snapshot ${index} is out of bound lastindex(${this.last.index})`);
    const term = this.term(index);
    assert(term.ok, `snapshot ${index} is already compacted`);
    const snap: Snapshot = { data, metadata: { index, term: term.value, confState } };
    await this.batched(() => {
      this.metaDb.put(META_SNAPSHOT, encodeSnapshot(snap));
    }, () => {
      // A leader's snapshot queued after this one is newer: keep the newest.
      if (index > this.snap.metadata.index) this.snap = snap;
    });
    return true;
  }

  /**
   * Discards entries up to and including `compactIndex` (etcd's Compact). Resolves false if they
   * are already gone or a leader's snapshot is being saved; true once durable. An entries-only
   * save may be in flight: it writes above the committed index, this deletes below it. The caller
   * bounds how many entries one call deletes (one transaction).
   */
  async compact(compactIndex: number): Promise<boolean> {
    if (this.savingSnapshot || compactIndex <= this.offset.index) return false;
    assert(compactIndex <= this.last.index, `compact ${compactIndex} is out of bound lastindex(${this.last.index})`);
    const term = this.term(compactIndex);
    assert(term.ok, `entry ${compactIndex} is missing`);
    const offset = { index: compactIndex, term: term.value };
    const from = this.offset.index + 1;
    await this.batched(() => {
      for (let i = from; i <= compactIndex; i++) this.entriesDb.remove(encodeIndex(i));
      this.metaDb.put(META_OFFSET, encodeOffset(offset));
    }, () => {
      // A leader's snapshot queued after this chunk moved the offset further: keep it.
      if (compactIndex > this.offset.index) this.offset = offset;
    });
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.close();
  }
}

function writeU64(out: Buffer, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, `${value} is not a non-negative safe integer`);
  out.writeUInt32BE(Math.floor(value / TWO_32), offset);
  out.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const value = view.getUint32(offset) * TWO_32 + view.getUint32(offset + 4);
  assert(Number.isSafeInteger(value), 'stored integer is not a safe integer');
  return value;
}

export function encodeIndex(index: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  writeU64(out, 0, index);
  return out;
}

function encodeEntryValue(e: Entry): Buffer {
  const out = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + e.data.byteLength);
  writeU64(out, 0, e.term);
  out[8] = e.type === 'ConfChange' ? 1 : 0;
  out.set(e.data, ENTRY_HEADER_BYTES);
  return out;
}

function decodeEntry(index: number, value: Uint8Array): Entry {
  assert(value.byteLength >= ENTRY_HEADER_BYTES, `entry ${index} is too short`);
  const type = value[8];
  assert(type === 0 || type === 1, `entry ${index} has an unknown type`);
  // A copy: LMDB may reuse the buffer it returned once the read moves on.
  return { index, term: readU64(value, 0), type: type === 1 ? 'ConfChange' : 'Normal', data: value.slice(ENTRY_HEADER_BYTES) };
}

function encodeHardState(hs: HardState): Buffer {
  const out = Buffer.allocUnsafe(24);
  writeU64(out, 0, hs.term);
  out.writeBigUInt64BE(hs.vote, 8);
  writeU64(out, 16, hs.commit);
  return out;
}

function decodeHardState(b: Buffer): HardState {
  assert(b.length === 24, 'hard state must be 24 bytes');
  return { term: readU64(b, 0), vote: b.readBigUInt64BE(8), commit: readU64(b, 16) };
}

function encodeOffset(o: { index: number; term: number }): Buffer {
  const out = Buffer.allocUnsafe(16);
  writeU64(out, 0, o.index);
  writeU64(out, 8, o.term);
  return out;
}

function encodeSnapshot(s: Snapshot): Buffer {
  const { voters, learners } = s.metadata.confState;
  const out = Buffer.allocUnsafe(16 + 4 + 8 * voters.length + 4 + 8 * learners.length + s.data.byteLength);
  writeU64(out, 0, s.metadata.index);
  writeU64(out, 8, s.metadata.term);
  let o = 16;
  for (const ids of [voters, learners]) {
    out.writeUInt32BE(ids.length, o);
    o += 4;
    for (const id of ids) {
      out.writeBigUInt64BE(id, o);
      o += 8;
    }
  }
  out.set(s.data, o);
  return out;
}

function decodeSnapshot(b: Buffer): Snapshot {
  assert(b.length >= 24, 'snapshot record is too short');
  const index = readU64(b, 0);
  const term = readU64(b, 8);
  let o = 16;
  const readIds = (): bigint[] => {
    const n = b.readUInt32BE(o);
    o += 4;
    assert(o + 8 * n <= b.length, 'snapshot record is truncated');
    const ids: bigint[] = [];
    for (let i = 0; i < n; i++, o += 8) ids.push(b.readBigUInt64BE(o));
    return ids;
  };
  const voters = readIds();
  const learners = readIds();
  const confState = voters.length === 0 && learners.length === 0 ? EMPTY_CONF_STATE : { voters, learners };
  return { data: Uint8Array.prototype.slice.call(b, o), metadata: { index, term, confState } };
}
