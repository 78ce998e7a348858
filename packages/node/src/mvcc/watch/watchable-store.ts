/**
 * etcd's watchableStore over Corvid's KvStore. Watchers live in one of two groups:
 * - synced: at the current revision; each committed batch (KvStore.onCommit, in the applier's
 *   turn right after the commit) is matched through a WatcherIndex, one revision at a time, and
 *   sent at once;
 * - unsynced: started in the past, or fell behind because their stream was full. A catch-up step
 *   (setImmediate, one bounded history read per step, yielding between steps) sends them what
 *   they missed — in responses of at most 1,000 of the watcher's own revisions, as etcd groups
 *   them — and moves them to synced once they reach the current revision.
 * A stream that cannot take more (its sink is blocked) is never buffered for: its synced watchers
 * become unsynced at the revision they missed and catch up from history once it drains (etcd
 * keeps such "victims" in memory; history is our buffer). Everything runs on the event loop, and
 * a step reads and moves watchers in one synchronous turn, so no commit can fall between the read
 * and the move: per watcher, revision order, no gaps, no duplicates.
 */
import type { Registry } from 'prom-client';
import { mvccpb } from '@corvid/proto';
import type { Backend } from '../../storage/index.js';
import type { KeyRange } from '../key-range.js';
import type { KvStore } from '../kv-store.js';
import type { ChangeEvent } from '../kv-write.js';
import { toKeyValue } from '../record.js';
import { readChanges } from './history.js';
import { WatchMetrics } from './metrics.js';
import { WatcherIndex } from './watcher-index.js';
import { Watcher, type WatcherFilters, type WatchSink } from './watcher.js';

/** etcd's watchBatchMaxRevs: at most this many of a watcher's revisions in one catch-up response. */
export const CATCH_UP_MAX_REVISIONS = 1000;
/** Store revisions and events read from history per catch-up step (it stops at the revision boundary past either). */
export const STEP_MAX_REVISIONS = 4096;
export const STEP_MAX_EVENTS = 4096;
/** etcd's maxWatchersPerSync: unsynced watchers served per catch-up step. */
export const WATCHERS_PER_STEP = 512;
/** How often watchers waiting on a full stream, or on nothing, are looked at again (etcd: 100 ms). */
export const SYNC_RETRY_MS = 100;

export interface WatchableStoreOptions {
  readonly registry?: Registry;
  readonly catchUpMaxRevisions?: number;
  readonly stepMaxRevisions?: number;
  readonly stepMaxEvents?: number;
  readonly watchersPerStep?: number;
  readonly retryMs?: number;
  /** Monotonic milliseconds, for the commit→send latency. */
  readonly nowMs?: () => number;
}

export interface WatchParams {
  readonly id: bigint;
  readonly range: KeyRange;
  /** The wire start_revision: 0 = the current revision + 1; in the past = catch up; negative as etcd 3.4 (see docs/watch.md). */
  readonly startRevision: number;
  readonly filters: WatcherFilters;
  readonly sink: WatchSink;
}

export class WatchableStore {
  readonly metrics: WatchMetrics;
  private readonly synced = new WatcherIndex();
  private readonly unsynced = new Set<Watcher>();
  private readonly options: Required<Omit<WatchableStoreOptions, 'registry'>>;
  private step: NodeJS.Immediate | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly kv: KvStore, private readonly backend: Backend, options: WatchableStoreOptions = {}) {
    this.metrics = new WatchMetrics(options.registry);
    this.options = {
      catchUpMaxRevisions: options.catchUpMaxRevisions ?? CATCH_UP_MAX_REVISIONS,
      stepMaxRevisions: options.stepMaxRevisions ?? STEP_MAX_REVISIONS,
      stepMaxEvents: options.stepMaxEvents ?? STEP_MAX_EVENTS,
      watchersPerStep: options.watchersPerStep ?? WATCHERS_PER_STEP,
      retryMs: options.retryMs ?? SYNC_RETRY_MS,
      nowMs: options.nowMs ?? (() => performance.now()),
    };
    kv.onCommit((changes) => this.notify(changes));
    kv.onReload(() => this.restore());
    kv.onClose(() => this.close());
  }

  /** The current revision (etcd's watchStream.Rev()). */
  rev(): number {
    return this.kv.currentRevision();
  }

  /**
   * Registers a watcher (etcd's watchableStore.watch): synced when it starts after the current
   * revision (or at 0), otherwise unsynced and caught up from history.
   */
  watch(params: WatchParams): Watcher {
    const cur = this.kv.currentRevision();
    const start = params.startRevision === 0 ? cur + 1 : params.startRevision;
    const w = new Watcher(params.id, params.range, start, params.filters, params.sink);
    this.metrics.watchers.inc();
    if (start > cur) {
      w.state = 'synced';
      this.synced.add(w);
    } else {
      this.unsynced.add(w);
      this.metrics.slowWatchers.inc();
      this.scheduleStep();
    }
    return w;
  }

  /** Removes a watcher; nothing is sent to it afterwards. */
  cancel(w: Watcher): void {
    if (w.state === 'synced') this.synced.delete(w);
    if (w.state === 'unsynced') {
      this.unsynced.delete(w);
      this.metrics.slowWatchers.dec();
    }
    if (w.state === 'synced' || w.state === 'unsynced') this.metrics.watchers.dec();
    w.state = 'canceled';
  }

  /** etcd's progress(): a synced watcher gets an empty response at the current revision; false if it is not synced. */
  progress(w: Watcher): boolean {
    if (w.state !== 'synced') return false;
    w.sink.send({ watcher: w, events: [], revision: this.kv.currentRevision() });
    return true;
  }

  /** Asks for a catch-up step soon (a stream drained, so its waiting watchers can go on). */
  kick(): void {
    if (this.unsynced.size > 0) this.scheduleStep();
  }

  /**
   * The store was re-read from disk (etcd's watchableStore.Restore): a snapshot may have brought
   * revisions no commit published, so every synced watcher goes back to catching up from its
   * next revision (or learns that it was compacted away).
   */
  restore(): void {
    for (const w of [...this.synced]) {
      this.synced.delete(w);
      w.state = 'unsynced';
      this.unsynced.add(w);
      this.metrics.slowWatchers.inc();
    }
    this.scheduleStep();
  }

  syncedCount(): number {
    return this.synced.size();
  }

  unsyncedCount(): number {
    return this.unsynced.size;
  }

  close(): void {
    this.closed = true;
    if (this.step !== null) clearImmediate(this.step);
    if (this.retry !== null) clearTimeout(this.retry);
    this.step = null;
    this.retry = null;
  }

  /** A committed batch: match each revision's changes against the synced watchers and send. */
  private notify(changes: readonly ChangeEvent[]): void {
    if (this.synced.size() === 0) return;
    const committedAtMs = this.options.nowMs();
    let i = 0;
    while (i < changes.length) {
      const main = (changes[i] as ChangeEvent).main;
      const matched = new Map<Watcher, mvccpb.Event[]>();
      for (; i < changes.length && (changes[i] as ChangeEvent).main === main; i++) {
        const change = changes[i] as ChangeEvent;
        let event: mvccpb.Event | undefined;
        this.synced.forEachMatch(change.key, (w) => {
          if (w.minRev > main) return; // a start_revision in the future
          event ??= toEvent(change);
          const list = matched.get(w);
          if (list === undefined) matched.set(w, [event]);
          else list.push(event);
        });
      }
      for (const [w, events] of matched) this.sendSynced(w, events, main, committedAtMs);
    }
  }

  private sendSynced(w: Watcher, all: readonly mvccpb.Event[], rev: number, committedAtMs: number): void {
    const events = w.filter(all);
    if (events.length > 0 && !w.sink.send({ watcher: w, events, revision: rev, committedAtMs })) {
      // A full stream: fall back to history from this revision instead of buffering.
      this.synced.delete(w);
      w.state = 'unsynced';
      w.minRev = rev;
      this.unsynced.add(w);
      this.metrics.slowWatchers.inc();
      this.scheduleRetry();
      return;
    }
    w.minRev = rev + 1;
  }

  private scheduleStep(): void {
    if (this.step !== null || this.closed) return;
    this.step = setImmediate(() => {
      this.step = null;
      this.syncStep();
    });
  }

  private scheduleRetry(): void {
    if (this.retry !== null || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.syncStep();
    }, this.options.retryMs);
    this.retry.unref();
  }

  /** One catch-up step (etcd's syncWatchers) for up to `watchersPerStep` unsynced watchers whose stream can take more. */
  private syncStep(): void {
    if (this.closed) return;
    const cur = this.kv.currentRevision();
    const compactRev = this.kv.view().compactRev;
    const batch: Watcher[] = [];
    let waiting = false;
    for (const w of [...this.unsynced]) {
      if (batch.length >= this.options.watchersPerStep) break;
      if (w.sink.blocked()) {
        waiting = true;
      } else if (w.minRev < compactRev) {
        // etcd's chooseAll: the watcher's next revision is gone; tell it and drop it (and what it had pending).
        if (w.sink.send({ watcher: w, events: [], revision: 0, compactRevision: compactRev })) this.finish(w, 'compacted');
        else waiting = true;
      } else if (w.minRev <= 0) {
        // start_revision -1 on a never-compacted store: etcd 3.4 reads no history for it and syncs it.
        w.minRev = cur + 1;
        this.toSynced(w);
      } else if (w.minRev > cur) {
        if (this.flush(w, cur)) this.toSynced(w);
        else waiting = true;
      } else {
        batch.push(w);
      }
    }
    if (batch.length > 0) this.catchUp(batch, cur);
    if ([...this.unsynced].some((w) => !w.sink.blocked())) this.scheduleStep();
    else if (waiting || this.unsynced.size > 0) this.scheduleRetry();
  }

  private catchUp(batch: readonly Watcher[], cur: number): void {
    const fromRev = Math.min(...batch.map((w) => w.minRev));
    const chunk = readChanges(this.backend, fromRev, cur, this.options.stepMaxRevisions, this.options.stepMaxEvents);
    const index = new WatcherIndex();
    for (const w of batch) index.add(w);
    const matched = new Map<Watcher, mvccpb.Event[]>();
    for (const change of chunk.changes) {
      let event: mvccpb.Event | undefined;
      index.forEachMatch(change.key, (w) => {
        if (change.main < w.minRev) return;
        event ??= toEvent(change);
        const list = matched.get(w);
        if (list === undefined) matched.set(w, [event]);
        else list.push(event);
      });
    }
    for (const w of batch) {
      const cut = this.accumulate(w, matched.get(w) ?? [], cur);
      if (cut !== undefined) {
        w.minRev = cut; // its stream is full: the rest is read again once it drains
        continue;
      }
      w.minRev = Math.max(w.minRev, chunk.throughRev + 1);
      if (w.minRev > cur && this.flush(w, cur)) this.toSynced(w);
    }
  }

  /**
   * Adds a watcher's events to its pending response, sending it each time it holds
   * `catchUpMaxRevisions` revisions (etcd's watchBatchMaxRevs: a catch-up response carries at most
   * that many of the watcher's own revisions). Returns the revision it stopped at if a send was
   * refused, undefined once every event is pending or sent.
   */
  private accumulate(w: Watcher, events: readonly mvccpb.Event[], cur: number): number | undefined {
    for (const ev of events) {
      const rev = Number(ev.kv?.modRevision);
      if (rev !== w.pendingLastRev) {
        if (w.pendingRevs >= this.options.catchUpMaxRevisions && !this.flush(w, cur)) return rev;
        w.pendingRevs += 1;
        w.pendingLastRev = rev;
      }
      w.pending.push(ev);
    }
    return undefined;
  }

  /** Sends a watcher's pending catch-up events (after its filters); false if its stream refused them. */
  private flush(w: Watcher, cur: number): boolean {
    if (w.pending.length === 0) return true;
    const events = w.filter(w.pending);
    // etcd reports the current revision in a catch-up response's header.
    if (events.length > 0 && !w.sink.send({ watcher: w, events, revision: cur })) return false;
    w.pending = [];
    w.pendingRevs = 0;
    w.pendingLastRev = 0;
    return true;
  }

  private toSynced(w: Watcher): void {
    this.unsynced.delete(w);
    this.metrics.slowWatchers.dec();
    w.state = 'synced';
    this.synced.add(w);
  }

  private finish(w: Watcher, state: 'compacted'): void {
    this.unsynced.delete(w);
    this.metrics.slowWatchers.dec();
    this.metrics.watchers.dec();
    w.state = state;
  }
}

/** A change as etcd's event: a delete's kv carries only the key and its mod revision. */
function toEvent(change: ChangeEvent): mvccpb.Event {
  return {
    type: change.record.tombstone ? mvccpb.Event_EventType.DELETE : mvccpb.Event_EventType.PUT,
    kv: toKeyValue(change.key, change.record, false),
    prevKv: undefined,
  };
}
