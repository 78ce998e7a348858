/**
 * One watcher (etcd's mvcc.watcher): a key interval, the next revision it must receive, its
 * filters, and the sink of the stream it belongs to. The watchable store moves it between its
 * synced and unsynced groups; the stream owns its id and its per-stream options (prev_kv,
 * fragment, progress_notify).
 */
import { mvccpb } from '@corvid/proto';
import type { KeyRange } from '../key-range.js';

/** What a watcher's stream receives: events, or the news that its start revision was compacted. */
export interface WatchDelivery {
  readonly watcher: Watcher;
  /** Events in revision order, all events of each revision included (after the filters). */
  readonly events: readonly mvccpb.Event[];
  /** The store revision the response reports (etcd: the txn's revision when synced, the current one when catching up; 0 for compaction). */
  readonly revision: number;
  /** Set when the watcher's next revision has been compacted away: the watcher is done. */
  readonly compactRevision?: number;
  /** performance.now() at the commit, for synced deliveries (the commit→send latency histogram). */
  readonly committedAtMs?: number;
}

/**
 * The stream side of a watcher. `send` returns false when the stream cannot take more now (its
 * gRPC write buffer is full): nothing was sent and the watcher falls back to catching up from
 * history, so a slow consumer never makes the store buffer without bound.
 */
export interface WatchSink {
  send(delivery: WatchDelivery): boolean;
  /** True while the stream's write buffer is full; the store skips its watchers until it drains. */
  blocked(): boolean;
}

export interface WatcherFilters {
  readonly noPut: boolean;
  readonly noDelete: boolean;
}

export type WatcherState = 'synced' | 'unsynced' | 'compacted' | 'canceled';

export class Watcher {
  /** The next revision this watcher must receive: every event below it was delivered (or skipped by start_revision). */
  minRev: number;
  state: WatcherState = 'unsynced';
  /** Catch-up events read but not sent yet (at most etcd's watchBatchMaxRevs revisions of them). */
  pending: mvccpb.Event[] = [];
  pendingRevs = 0;
  pendingLastRev = 0;

  constructor(
    readonly id: bigint,
    readonly range: KeyRange,
    startRev: number,
    readonly filters: WatcherFilters,
    readonly sink: WatchSink,
  ) {
    this.minRev = startRev;
  }

  /** Drops the events the filters refuse (etcd's FilterFunc: NOPUT drops puts, NODELETE deletes). */
  filter(events: readonly mvccpb.Event[]): readonly mvccpb.Event[] {
    if (!this.filters.noPut && !this.filters.noDelete) return events;
    return events.filter((ev) => !(ev.type === mvccpb.Event_EventType.PUT ? this.filters.noPut : this.filters.noDelete));
  }
}
