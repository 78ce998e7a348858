/**
 * The log storage the Raft core reads, as the WAL, except that its initial ConfState is the current
 * membership, and a snapshot older than the current
 * membership is reported "temporarily unavailable" (etcd's ErrSnapshotTemporarilyUnavailable) and
 * a new one is requested. A member added after the last snapshot would refuse to restore one that
 * does not list it, so a leader sends a snapshot taken after the member's ConfChange; the core
 * retries on the next heartbeat response, by which time the compactor has recorded one.
 */
import type { ConfState, Entry, HardState, LogStorage, Snapshot, StorageResult } from '@corvid/raft';
import type { Wal } from './wal.js';

const UNAVAILABLE: StorageResult<never> = { ok: false, reason: 'unavailable' };

function sameMembers(a: readonly bigint[], b: readonly bigint[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

export function sameConfState(a: ConfState, b: ConfState): boolean {
  return sameMembers(a.voters, b.voters) && sameMembers(a.learners, b.learners);
}

export class FreshSnapshotStorage implements LogStorage {
  constructor(
    private readonly wal: Wal,
    private readonly currentConfState: () => ConfState,
    private readonly requestSnapshot: () => void,
  ) {}

  /** The WAL's hard state with the current membership (which may be newer than the WAL snapshot's). */
  initialState(): { readonly hardState: HardState; readonly confState: ConfState } {
    return { hardState: this.wal.initialState().hardState, confState: this.currentConfState() };
  }

  entries(lo: number, hi: number, maxSizeBytes: number): StorageResult<readonly Entry[]> {
    return this.wal.entries(lo, hi, maxSizeBytes);
  }

  term(index: number): StorageResult<number> {
    return this.wal.term(index);
  }

  lastIndex(): number {
    return this.wal.lastIndex();
  }

  firstIndex(): number {
    return this.wal.firstIndex();
  }

  snapshot(): StorageResult<Snapshot> {
    const s = this.wal.snapshot();
    if (s.ok && !sameConfState(s.value.metadata.confState, this.currentConfState())) {
      this.requestSnapshot();
      return UNAVAILABLE;
    }
    return s;
  }
}
