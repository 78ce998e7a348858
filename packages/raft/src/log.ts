/**
 * The Raft log: durable entries read through LogStorage followed by the unstable tail (etcd's raftLog).
 * Invariants: applied <= committed <= lastIndex; committed entries are never truncated.
 */
import { assert } from './assert.js';
import type { Logger } from './logger.js';
import type { Entry, Snapshot } from './messages.js';
import { limitSize } from './messages.js';
import type { LogStorage, StorageError } from './storage.js';
import { Unstable } from './log-unstable.js';

export type TermResult = number | StorageError;
export type SliceResult = { readonly ok: true; readonly entries: readonly Entry[] } | { readonly ok: false; readonly reason: 'compacted' };

const NO_LIMIT = Number.MAX_SAFE_INTEGER;

export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum. */
  committed: number;
  /** Highest index the application has applied (set by RawNode.advance). */
  applied: number;

  constructor(readonly storage: LogStorage, private readonly logger: Logger, readonly maxNextEntsSizeBytes = NO_LIMIT) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  /** Follower append: returns the last new index, or null when (index, logTerm) does not match our log. */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | null {
    if (!this.matchTerm(index, logTerm)) return null;
    const lastNewIndex = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      assert(ci > this.committed, () => `entry ${ci} conflict with committed entry [committed(${this.committed})]`);
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    assert(after >= this.committed, () => `after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** Index of the first entry whose term differs from ours (or that we lack), or 0 if all match. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) {
        if (e.index <= this.lastIndex()) {
          this.logger.info('found conflict', { index: e.index, existingTerm: this.term(e.index), conflictingTerm: e.term });
        }
        return e.index;
      }
    }
    return 0;
  }

  /** The largest index <= `index` whose term is <= `term` (the fast back-off of thesis §5.3 / etcd #10207). */
  findConflictByTerm(index: number, term: number): number {
    for (; index > 0; index--) {
      const t = this.term(index);
      if (typeof t !== 'number' || t <= term) break;
    }
    return index;
  }

  unstableEntries(): readonly Entry[] {
    return this.unstable.entries;
  }

  /** Committed entries not yet applied, capped by maxNextEntsSizeBytes. */
  nextCommittedEnts(): readonly Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 <= off) return [];
    const r = this.slice(off, this.committed + 1, this.maxNextEntsSizeBytes);
    assert(r.ok, 'unexpected error when getting unapplied entries');
    return r.entries;
  }

  hasNextCommittedEnts(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  snapshot(): Snapshot | null {
    if (this.unstable.snapshot !== null) return this.unstable.snapshot;
    const s = this.storage.snapshot();
    return s.ok ? s.value : null;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  commitTo(toCommit: number): void {
    if (this.committed >= toCommit) return;
    assert(this.lastIndex() >= toCommit, () => `tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]`);
    this.committed = toCommit;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(this.committed >= index && index >= this.applied,
      () => `applied(${index}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(typeof t === 'number', () => `unexpected error when getting the last term (${t})`);
    return t;
  }

  term(index: number): TermResult {
    const dummyIndex = this.firstIndex() - 1;
    if (index < dummyIndex) return 'compacted';
    if (index > this.lastIndex()) return 'unavailable';
    const u = this.unstable.maybeTerm(index);
    if (u !== null) return u;
    const t = this.storage.term(index);
    return t.ok ? t.value : t.reason;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Entries from `index` to the end, capped by size. */
  entries(index: number, maxSizeBytes: number): SliceResult {
    if (index > this.lastIndex()) return { ok: true, entries: [] };
    return this.slice(index, this.lastIndex() + 1, maxSizeBytes);
  }

  /** Raft §5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, term: number): boolean {
    const lastTerm = this.lastTerm();
    return term > lastTerm || (term === lastTerm && lastIndex >= this.lastIndex());
  }

  /** Leader commit: only an entry of the leader's own term can be committed by counting replicas (§5.4.2). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.logger.info('log starts to restore snapshot', { index: s.metadata.index, term: s.metadata.term });
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries in [lo, hi), capped by size (always at least one entry when lo < hi). */
  slice(lo: number, hi: number, maxSizeBytes: number): SliceResult {
    assert(lo <= hi, () => `invalid slice ${lo} > ${hi}`);
    if (lo < this.firstIndex()) return { ok: false, reason: 'compacted' };
    assert(hi <= this.lastIndex() + 1, () => `slice[${lo},${hi}) out of bound [${this.firstIndex()},${this.lastIndex()}]`);
    if (lo === hi) return { ok: true, entries: [] };
    let ents: readonly Entry[] = [];
    const offset = this.unstable.offset;
    if (lo < offset) {
      const stored = this.storage.entries(lo, Math.min(hi, offset), maxSizeBytes);
      if (!stored.ok) {
        assert(stored.reason === 'compacted', () => `entries[${lo}:${Math.min(hi, offset)}) is unavailable from storage`);
        return { ok: false, reason: 'compacted' };
      }
      if (stored.value.length < Math.min(hi, offset) - lo) return { ok: true, entries: stored.value };
      ents = stored.value;
    }
    if (hi > offset) {
      const u = this.unstable.slice(Math.max(lo, offset), hi);
      ents = ents.length > 0 ? ents.concat(u) : u;
    }
    return { ok: true, entries: limitSize(ents, maxSizeBytes) };
  }
}
