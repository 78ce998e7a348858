/**
 * Physical compaction, off the synchronous write path. Applying a Compaction only moves the
 * compact revision (reads below it fail at once); this removes the versions it made unreachable
 * in bounded chunks, each its own small write transaction, yielding to the event loop between
 * chunks. It walks `revs` over (finished, target] and, for each key met, deletes every version
 * older than the key's newest version <= target, and that version too if it is a tombstone.
 * Reads at or above the compact revision never see a difference, so chunks can interleave with
 * applies freely. Progress is only recorded at the end; a crash restarts from the last finished
 * revision and redoes idempotent work.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CorvidError } from '../errors/index.js';
import type { Backend, WriteTxn } from '../storage/index.js';
import {
  META_FINISHED_COMPACT_REVISION,
  decodeRevKey,
  encodeHistoryKey,
  encodeMetaInt,
  encodeRevKey,
  historyKeyAfter,
  historyKeyRevision,
} from '../storage/schema.js';
import type { MvccMetrics } from './metrics.js';
import { scanDb } from './reader.js';
import { isTombstoneRecord } from './record.js';

/** Default number of `revs` entries one chunk examines. */
export const COMPACTION_CHUNK_ENTRIES = 1000;

export interface CompactionState {
  /** The applied (logical) compact revision: the target. */
  compactRev(): number;
  finishedRev(): number;
  setFinishedRev(rev: number): void;
}

interface Waiter {
  readonly rev: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class Compactor {
  private running: Promise<void> | null = null;
  private stopping = false;
  private waiters: Waiter[] = [];

  constructor(
    private readonly backend: Backend,
    private readonly state: CompactionState,
    private readonly metrics: MvccMetrics,
    private readonly chunkEntries: number = COMPACTION_CHUNK_ENTRIES,
  ) {}

  /** Starts the background job if there is work and it is not running. */
  schedule(): void {
    if (this.running !== null || this.stopping || this.state.finishedRev() >= this.state.compactRev()) return;
    this.running = this.run().finally(() => {
      this.running = null;
      this.schedule();
    });
  }

  /**
   * Resolves once old versions up to `rev` (or up to the compact revision, if lower: nothing
   * further is scheduled) are physically gone and durable.
   */
  whenCompacted(rev: number): Promise<void> {
    const target = Math.min(rev, this.state.compactRev());
    if (this.state.finishedRev() >= target) return Promise.resolve();
    if (this.stopping) return Promise.reject(new CorvidError('Stopped'));
    return new Promise((resolve, reject) => {
      this.waiters.push({ rev: target, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Stops after the current chunk and waits for it; waiters get CorvidError('Stopped').
   * Unfinished work resumes on the next open.
   */
  async close(): Promise<void> {
    this.stopping = true;
    await this.running;
    for (const w of this.waiters) w.reject(new CorvidError('Stopped'));
    this.waiters = [];
  }

  private async run(): Promise<void> {
    const startedMs = performance.now();
    let cursor = encodeRevKey(this.state.finishedRev() + 1, 0);
    for (;;) {
      await yieldToLoop();
      if (this.stopping) return;
      const target = this.state.compactRev();
      const next = this.chunk(cursor, target);
      if (next !== null) {
        cursor = next;
        continue;
      }
      this.backend.writeSync(() => this.backend.meta.put(META_FINISHED_COMPACT_REVISION, encodeMetaInt(target)));
      this.state.setFinishedRev(target);
      if (this.state.compactRev() > target) continue;
      break;
    }
    this.metrics.compactionTotalMs.observe(performance.now() - startedMs);
    await this.backend.flushed();
    this.release();
  }

  private release(): void {
    const finished = this.state.finishedRev();
    const ready = this.waiters.filter((w) => w.rev <= finished);
    this.waiters = this.waiters.filter((w) => w.rev > finished);
    for (const w of ready) w.resolve();
  }

  /** Compacts the keys of up to chunkEntries `revs` entries from `cursor`; null when none are left. */
  private chunk(cursor: Buffer, target: number): Buffer | null {
    const t0 = performance.now();
    const keys = new Map<string, Buffer>();
    const seen: { last: Buffer | null; n: number } = { last: null, n: 0 };
    scanDb(this.backend.revs, cursor, encodeRevKey(target + 1, 0), (revKey, revValue) => {
      const key = revValue.subarray(1);
      keys.set(key.toString('latin1'), key);
      seen.last = revKey;
      seen.n += 1;
      return seen.n < this.chunkEntries;
    });
    const last = seen.last;
    if (last === null) return null;
    const deleted = this.backend.writeSync((txn) => {
      let total = 0;
      for (const key of keys.values()) total += compactKey(txn, this.backend, key, target);
      return total;
    });
    this.metrics.compactionKeysTotal.inc(deleted);
    this.metrics.compactionPauseMs.observe(performance.now() - t0);
    const { main, sub } = decodeRevKey(last);
    return sub === 0xffffffff ? encodeRevKey(main + 1, 0) : encodeRevKey(main, sub + 1);
  }
}

/**
 * Deletes the versions of `key` that no read at or above `target` can see: all but its newest
 * version <= target, and that one too if it is a tombstone. Returns how many were deleted.
 */
export function compactKey(_txn: WriteTxn, backend: Backend, key: Buffer, target: number): number {
  const doomed: Buffer[] = [];
  let first = true;
  scanDb(backend.history, encodeHistoryKey(key, target, 0xffffffff), historyKeyAfter(key), (hkey, value) => {
    if (first) {
      first = false;
      if (!isTombstoneRecord(value)) return true;
    }
    doomed.push(hkey);
    return true;
  });
  for (const hkey of doomed) {
    const { main, sub } = historyKeyRevision(hkey);
    backend.history.removeSync(hkey);
    backend.revs.removeSync(encodeRevKey(main, sub));
  }
  return doomed.length;
}
