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
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
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

/**
 * Default units of work (entries examined + versions deleted) per chunk: about a millisecond here,
 * each chunk its own commit (100 rather than etcd's batch of 1,000 keys: put p99 while compacting
 * 1,000,000 versions was 4.6x the p99 without at 1,000, 2.5-3.1x at 250 and 1.6-1.8x at 100, quiet
 * machine, bench:compare --compaction; docs/benchmarks.md). A put waits for the chunk in progress.
 */
export const COMPACTION_CHUNK_ENTRIES = 100;
/** Pause after a chunk, as a multiple of the chunk's duration. */
const PAUSE_PER_CHUNK_MS_RATIO = 2;

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
    let lastChunkMs = 0;
    for (;;) {
      // Pause twice as long as the last chunk took, so compaction holds at most a third of the
      // event loop while writes come in: with 64 clients in a closed loop a put's latency grows as
      // the loop's share left to puts shrinks (half: p99 2.3x). etcd 3.4 sleeps 10 ms after each
      // batch of 1,000 keys.
      await (lastChunkMs >= 0.5 ? sleep(PAUSE_PER_CHUNK_MS_RATIO * lastChunkMs) : yieldToLoop());
      // A defragmentation holds the writers while it copies the file.
      await this.backend.whenWritable();
      if (this.stopping) return;
      const target = this.state.compactRev();
      const chunkStartMs = performance.now();
      const next = this.chunk(cursor, target);
      lastChunkMs = performance.now() - chunkStartMs;
      if (next !== null) {
        cursor = next;
        continue;
      }
      this.backend.writeSync(() => {
        this.backend.meta.put(META_FINISHED_COMPACT_REVISION, encodeMetaInt(target));
      });
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

  /**
   * One chunk: walks `revs` from `cursor` and compacts each key it meets, until chunkEntries units
   * of work (entries examined + versions deleted) are spent. Returns where the next chunk starts
   * (a key left unfinished is met again there), or null when nothing is left up to `target`.
   */
  private chunk(cursor: Buffer, target: number): Buffer | null {
    const t0 = performance.now();
    const met: Array<{ revKey: Buffer; key: Buffer }> = [];
    scanDb(this.backend.revs, cursor, encodeRevKey(target + 1, 0), (revKey, revValue) => {
      met.push({ revKey, key: revValue.subarray(1) });
      return met.length < this.chunkEntries;
    });
    const last = met[met.length - 1];
    if (last === undefined) return null;
    let next = nextRevKey(last.revKey);
    const deleted = this.backend.writeSync((txn) => {
      const done = new Set<string>();
      let budget = this.chunkEntries;
      let total = 0;
      for (const { revKey, key } of met) {
        const id = key.toString('latin1');
        if (done.has(id)) continue;
        const { deleted: n, finished } = compactKey(txn, this.backend, key, target, Math.max(1, budget));
        total += n;
        budget -= n + 1;
        if (!finished) {
          next = revKey; // meet this key again
          break;
        }
        done.add(id);
        if (budget <= 0) {
          next = nextRevKey(revKey);
          break;
        }
      }
      return total;
    });
    this.metrics.compactionKeysTotal.inc(deleted);
    this.metrics.compactionPauseMs.observe(performance.now() - t0);
    return next;
  }
}

function nextRevKey(revKey: Buffer): Buffer {
  const { main, sub } = decodeRevKey(revKey);
  return sub === 0xffffffff ? encodeRevKey(main + 1, 0) : encodeRevKey(main, sub + 1);
}

/**
 * Deletes the versions of `key` that no read at or above `target` can see: all but its newest
 * version <= target, and that one too if it is a tombstone; at most `maxDeletes` of them.
 * `finished` is false when some are left for another call (the call is idempotent).
 */
export function compactKey(
  _txn: WriteTxn,
  backend: Backend,
  key: Buffer,
  target: number,
  maxDeletes: number,
): { deleted: number; finished: boolean } {
  const doomed: Buffer[] = [];
  let first = true;
  let finished = true;
  let tombstone: Buffer | null = null;
  scanDb(backend.history, encodeHistoryKey(key, target, 0xffffffff), historyKeyAfter(key), (hkey, value) => {
    if (first) {
      first = false;
      // A newest tombstone goes last: while older versions remain it must hide them.
      if (isTombstoneRecord(value)) tombstone = hkey;
      return true;
    }
    if (doomed.length >= maxDeletes) {
      finished = false;
      return false;
    }
    doomed.push(hkey);
    return true;
  });
  if (finished && tombstone !== null) doomed.push(tombstone);
  for (const hkey of doomed) {
    const { main, sub } = historyKeyRevision(hkey);
    backend.history.removeSync(hkey);
    backend.revs.removeSync(encodeRevKey(main, sub));
  }
  return { deleted: doomed.length, finished };
}
