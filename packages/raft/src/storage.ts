/**
 * The read-only view of durable Raft state that the core needs, and an in-memory implementation.
 * The application writes to its storage (persisting each Ready); the core only reads through `LogStorage`.
 */
import { assert } from './assert.js';
import type { ConfState, Entry, HardState, Snapshot } from './messages.js';
import { EMPTY_BYTES, EMPTY_HARD_STATE, EMPTY_SNAPSHOT, limitSize } from './messages.js';

/** Expected storage outcomes: the index was compacted away, or is not (yet) in the log. */
export type StorageError = 'compacted' | 'unavailable';
export type StorageResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: StorageError };

export interface LogStorage {
  /** Hard state and membership as of the last snapshot; called once when a node starts. */
  initialState(): { readonly hardState: HardState; readonly confState: ConfState };
  /** Entries in [lo, hi), at most maxSizeBytes in total but at least one entry if any is available. */
  entries(lo: number, hi: number, maxSizeBytes: number): StorageResult<readonly Entry[]>;
  /** Term of entry i, for i in [firstIndex - 1, lastIndex]. */
  term(index: number): StorageResult<number>;
  lastIndex(): number;
  /** Index of the first entry still available (the snapshot index + 1). */
  firstIndex(): number;
  /** The most recent snapshot. */
  snapshot(): StorageResult<Snapshot>;
}

const ok = <T>(value: T): StorageResult<T> => ({ ok: true, value });
const COMPACTED: StorageResult<never> = { ok: false, reason: 'compacted' };
const UNAVAILABLE: StorageResult<never> = { ok: false, reason: 'unavailable' };

/** Index and term of the snapshot every founding member of a new cluster starts from. */
export const BOOTSTRAP_INDEX = 1;
export const BOOTSTRAP_TERM = 1;

/**
 * The state a founding member persists before its first start: a snapshot at (1, 1) holding the initial
 * membership and the application's empty state, and a hard state committing it. Joiners start empty and
 * receive a snapshot from the leader.
 */
export function bootstrapState(confState: ConfState, data: Uint8Array): { snapshot: Snapshot; hardState: HardState } {
  return {
    snapshot: { data, metadata: { index: BOOTSTRAP_INDEX, term: BOOTSTRAP_TERM, confState } },
    hardState: { term: BOOTSTRAP_TERM, vote: 0n, commit: BOOTSTRAP_INDEX },
  };
}

function dummy(index: number, term: number): Entry {
  return { index, term, type: 'Normal', data: EMPTY_BYTES };
}

/**
 * An in-memory LogStorage, as etcd's MemoryStorage. Invariant: `ents[0]` is a dummy entry at the snapshot's
 * index and term, and ents[i].index === ents[0].index + i.
 */
export class MemoryStorage implements LogStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot = EMPTY_SNAPSHOT;
  private ents: Entry[] = [dummy(0, 0)];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  hardStateNow(): HardState {
    return this.hardState;
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  private offset(): number {
    return this.ents[0]!.index;
  }

  entries(lo: number, hi: number, maxSizeBytes: number): StorageResult<readonly Entry[]> {
    const offset = this.offset();
    if (lo <= offset) return COMPACTED;
    assert(hi <= this.lastIndex() + 1, () => `entries hi(${hi}) out of bound lastIndex(${this.lastIndex()})`);
    if (this.ents.length === 1) return UNAVAILABLE;
    return ok(limitSize(this.ents.slice(lo - offset, hi - offset), maxSizeBytes));
  }

  term(index: number): StorageResult<number> {
    const offset = this.offset();
    if (index < offset) return COMPACTED;
    const e = this.ents[index - offset];
    return e === undefined ? UNAVAILABLE : ok(e.term);
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  snapshot(): StorageResult<Snapshot> {
    return ok(this.snap);
  }

  /** Replaces the contents with the snapshot. Returns false (and does nothing) if it is older than ours. */
  applySnapshot(s: Snapshot): boolean {
    if (this.snap.metadata.index >= s.metadata.index) return false;
    this.snap = s;
    this.ents = [dummy(s.metadata.index, s.metadata.term)];
    return true;
  }

  /** Records a snapshot of the applied state at `index`; the log is kept until compact() is called. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): boolean {
    if (index <= this.snap.metadata.index) return false;
    assert(index <= this.lastIndex(), () => `snapshot ${index} is out of bound lastindex(${this.lastIndex()})`);
    const term = this.ents[index - this.offset()]!.term;
    this.snap = { data, metadata: { index, term, confState } };
    return true;
  }

  /** Discards entries up to and including compactIndex. Returns false if they are already compacted. */
  compact(compactIndex: number): boolean {
    const offset = this.offset();
    if (compactIndex <= offset) return false;
    assert(compactIndex <= this.lastIndex(), () => `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    this.ents = [dummy(compactIndex, this.ents[i]!.term), ...this.ents.slice(i + 1)];
    return true;
  }

  /** Appends entries, truncating any conflicting suffix. Entries must be contiguous with the log. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    const ents = first > entries[0]!.index ? entries.slice(first - entries[0]!.index) : entries;
    const offset = ents[0]!.index - this.offset();
    assert(offset <= this.ents.length, () => `missing log entry [last: ${this.lastIndex()}, append at: ${ents[0]!.index}]`);
    if (offset === this.ents.length) {
      for (const e of ents) this.ents.push(e);
    } else {
      this.ents = this.ents.slice(0, offset).concat(ents);
    }
  }

  /** A deep-enough copy (entries are immutable) for simulators that model a durable copy. */
  clone(): MemoryStorage {
    const c = new MemoryStorage();
    c.hardState = this.hardState;
    c.snap = this.snap;
    c.ents = this.ents.slice();
    return c;
  }
}
