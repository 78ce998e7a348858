/**
 * Log compaction, as etcd's triggerSnapshot: once `snapshotCount` entries were applied since the
 * last snapshot, record a Raft snapshot at the applied index (metadata only: the state machine is
 * the backend itself, copied when a follower needs it) and compact the WAL up
 * to `applied - catchUpEntries`, keeping etcd's SnapshotCatchUpEntries of slack for slow followers.
 *
 * Order matters for recovery: the backend must hold everything up to the snapshot durably before
 * the WAL forgets it (`store.flushed()` first), because a restart replays the WAL from the
 * backend's applied index. Deletion runs in chunks, one transaction each, yielding between them, so
 * a 100,000-entry compaction never stalls the event loop.
 */
import type { ConfState } from '@corvid/raft';
import type { Wal } from './wal.js';

/** etcd's SnapshotCatchUpEntries. */
export const SNAPSHOT_CATCH_UP_ENTRIES = 5000;
/** Entries deleted per WAL transaction while compacting. */
export const COMPACTION_CHUNK_ENTRIES = 10_000;

export interface DurableStore {
  /** Resolves once every backend commit so far is durable. */
  flushed(): Promise<void>;
}

export interface LogCompactorOptions {
  readonly wal: Wal;
  readonly store: DurableStore;
  readonly snapshotCount: number;
  readonly catchUpEntries?: number;
  readonly chunkEntries?: number;
}

export class LogCompactor {
  private snapshotIndex: number;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: LogCompactorOptions) {
    const snap = options.wal.snapshot();
    this.snapshotIndex = snap.ok ? snap.value.metadata.index : 0;
  }

  /** Index of the last recorded snapshot. */
  lastSnapshotIndex(): number {
    return this.snapshotIndex;
  }

  /**
   * Starts a snapshot + compaction if one is due (or `force`d: the membership changed) and none is
   * running; the returned promise (also
   * awaited by `close()`) rejects if the WAL or the backend fails.
   */
  maybeStart(applied: number, confState: ConfState, force = false): Promise<void> | null {
    if (this.stopped || this.running !== null) return null;
    const due = applied - this.snapshotIndex > this.options.snapshotCount || (force && applied > this.snapshotIndex);
    if (!due) return null;
    const run = this.snapshotAndCompact(applied, confState).finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  private async snapshotAndCompact(applied: number, confState: ConfState): Promise<void> {
    const { wal, store } = this.options;
    await store.flushed();
    if (this.stopped) return;
    if (!(await wal.createSnapshot(applied, confState, new Uint8Array(0)))) {
      // A leader's snapshot is being saved or was saved meanwhile: the next applied batch tries again.
      const snap = wal.snapshot();
      this.snapshotIndex = Math.max(this.snapshotIndex, snap.ok ? snap.value.metadata.index : 0);
      return;
    }
    this.snapshotIndex = applied;
    const target = applied - (this.options.catchUpEntries ?? SNAPSHOT_CATCH_UP_ENTRIES);
    const chunk = this.options.chunkEntries ?? COMPACTION_CHUNK_ENTRIES;
    while (!this.stopped && target >= wal.firstIndex()) {
      // False while a leader's snapshot is being saved: it replaces the log anyway.
      if (!(await wal.compact(Math.min(target, wal.firstIndex() - 1 + chunk)))) break;
    }
  }

  /** Stops after the current chunk and waits for it (a failure was already reported to its starter). */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.running !== null) await Promise.allSettled([this.running]);
  }
}
