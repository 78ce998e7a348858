/**
 * One Watch stream (etcd's serverWatchStream): the requests of one bidi call, the watchers it
 * created by id, and the WatchSink through which the watchable store delivers to them. What
 * etcd's sendLoop does per response lives here: prev_kv (read at mod revision - 1), fragments,
 * progress notification bookkeeping. Control responses (created, canceled, progress) are always
 * written; event responses only while the call's write buffer has room — otherwise `send`
 * refuses and the store catches the watcher up from history once the call drains.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { etcdserverpb, type mvccpb } from '@corvid/proto';
import { keyRange, revisionFromWire, toKeyValue, type KvStore } from '../mvcc/index.js';
import type { WatchableStore, WatchDelivery, Watcher, WatchSink } from '../mvcc/watch/index.js';
import { responseHeader, type MemberIdentity } from './header.js';
import { watchFragments } from './watch-fragment.js';

export type WatchCall = ServerDuplexStream<etcdserverpb.WatchRequest, etcdserverpb.WatchResponse>;

export interface WatchStreamDeps {
  readonly identity: MemberIdentity;
  readonly store: WatchableStore;
  readonly kv: KvStore;
  /** Responses of a `fragment` watcher this large are split: etcd's --max-request-bytes + 512 KiB (grpcOverheadBytes). */
  readonly fragmentBytes: number;
  /** etcd's --experimental-watch-progress-notify-interval (10 minutes by default). */
  readonly progressNotifyIntervalMs: number;
  /** How often a deferred progress request looks again whether every watcher is synced. */
  readonly progressRetryMs: number;
  /** etcd's isWatchPermitted: why the caller may not read [key, rangeEnd), as a cancel_reason; undefined if they may. */
  readonly watchRefusal?: (key: Uint8Array, rangeEnd: Uint8Array) => string | undefined;
}

/** etcd's mvcc errors, sent as a created+canceled response's cancel_reason (mvcc/watcher.go). */
const ERR_EMPTY_WATCHER_RANGE = 'mvcc: watcher range is empty';
const ERR_WATCHER_DUPLICATE_ID = 'mvcc: duplicate watch ID provided on the WatchStream';
/** clientv3.InvalidWatchID: the watch_id of a refused create and of a progress response. */
const INVALID_WATCH_ID = -1n;
const ZERO_KEY = Buffer.from([0]);

interface StreamWatcher {
  readonly watcher: Watcher;
  readonly prevKv: boolean;
  readonly fragment: boolean;
  readonly progressNotify: boolean;
  /** etcd's progress[id]: true until an event is sent; a tick sends a notification only while true. */
  progressDue: boolean;
}

export class WatchStream implements WatchSink {
  private readonly watchers = new Map<bigint, StreamWatcher>();
  private nextId = 0n;
  private full = false;
  private closed = false;
  /** Events written to the call and not yet flushed (counted in pending_events_total until then, or until close). */
  private unflushedEvents = 0;
  private progressTimer: NodeJS.Timeout | null = null;
  private deferredProgress: NodeJS.Timeout | null = null;

  constructor(private readonly call: WatchCall, private readonly deps: WatchStreamDeps) {
    deps.store.metrics.streams.inc();
    call.on('drain', () => {
      this.full = false;
      deps.store.kick();
    });
  }

  /** Serves one request of the stream (etcd's recvLoop); an unknown or empty request is ignored, as etcd does. */
  onRequest(request: etcdserverpb.WatchRequest): void {
    const union = request.requestUnion;
    if (this.closed || union === undefined) return;
    if (union.$case === 'createRequest') this.create(union.value);
    else if (union.$case === 'cancelRequest') this.cancel(union.value.watchId);
    else this.progressRequest();
  }

  // ---- WatchSink ----

  blocked(): boolean {
    return this.full;
  }

  send(delivery: WatchDelivery): boolean {
    const sw = this.watchers.get(delivery.watcher.id);
    if (this.closed || sw?.watcher !== delivery.watcher) return true; // cancelled meanwhile: drop
    if (this.full) return false;
    const compactRevision = delivery.compactRevision ?? 0;
    const events = sw.prevKv ? delivery.events.map((ev) => this.withPrevKv(ev)) : delivery.events;
    const response: etcdserverpb.WatchResponse = {
      header: responseHeader(this.deps.identity, BigInt(delivery.revision)),
      watchId: sw.watcher.id,
      created: false,
      canceled: compactRevision !== 0,
      compactRevision: BigInt(compactRevision),
      cancelReason: '',
      fragment: false,
      events: [...events],
    };
    if (events.length > 0) sw.progressDue = false;
    const metrics = this.deps.store.metrics;
    metrics.events.inc(events.length);
    const parts = sw.fragment ? watchFragments(response, this.deps.fragmentBytes) : [response];
    for (const part of parts) this.write(part, part.events.length);
    if (delivery.committedAtMs !== undefined) metrics.eventDelaySeconds.observe((performance.now() - delivery.committedAtMs) / 1000);
    return true;
  }

  /** Cancels every watcher and stops the timers (the call is over, or is being failed by the service). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const sw of this.watchers.values()) this.deps.store.cancel(sw.watcher);
    this.watchers.clear();
    if (this.progressTimer !== null) clearInterval(this.progressTimer);
    if (this.deferredProgress !== null) clearTimeout(this.deferredProgress);
    this.deps.store.metrics.streams.dec();
    // A cancelled call may never run its write callbacks: take its events out of the gauge now.
    this.deps.store.metrics.pendingEvents.dec(this.unflushedEvents);
    this.unflushedEvents = 0;
  }

  private create(c: etcdserverpb.WatchCreateRequest): void {
    const wsrev = this.deps.store.rev();
    // etcd: an empty key is "\0", the smallest key; range_end "\0" means every key >= key.
    const range = keyRange(c.key.length === 0 ? ZERO_KEY : c.key, c.rangeEnd);
    const refuse = (reason: string): void => this.control({ header: this.header(wsrev), watchId: INVALID_WATCH_ID, created: true, canceled: true, cancelReason: reason });
    // Checked first, on the key and range end as etcd's recvLoop rewrites them: a range end "\0" becomes
    // empty, so the check is then on the key alone.
    const checkedEnd = c.rangeEnd.length === 1 && c.rangeEnd[0] === 0 ? Buffer.alloc(0) : c.rangeEnd;
    const denied = this.deps.watchRefusal?.(c.key.length === 0 ? ZERO_KEY : c.key, checkedEnd);
    if (denied !== undefined) return refuse(denied);
    if (range.empty) return refuse(ERR_EMPTY_WATCHER_RANGE);
    let id = c.watchId;
    if (id === 0n) {
      // AutoWatchID: the next id not taken on this stream.
      while (this.watchers.has(this.nextId)) this.nextId += 1n;
      id = this.nextId;
      this.nextId += 1n;
    } else if (this.watchers.has(id)) {
      return refuse(ERR_WATCHER_DUPLICATE_ID);
    }
    const filters = {
      noPut: c.filters.includes(etcdserverpb.WatchCreateRequest_FilterType.NOPUT),
      noDelete: c.filters.includes(etcdserverpb.WatchCreateRequest_FilterType.NODELETE),
    };
    const watcher = this.deps.store.watch({ id, range, startRevision: revisionFromWire(c.startRevision), filters, sink: this });
    this.watchers.set(id, { watcher, prevKv: c.prevKv, fragment: c.fragment, progressNotify: c.progressNotify, progressDue: true });
    if (c.progressNotify) this.startProgressTimer();
    // Written in the same turn as the registration: no event can reach the client before it.
    this.control({ header: this.header(wsrev), watchId: id, created: true });
  }

  private cancel(id: bigint): void {
    const sw = this.watchers.get(id);
    if (sw === undefined) return; // etcd: ErrWatcherNotExist, and no response
    this.deps.store.cancel(sw.watcher);
    this.watchers.delete(id);
    this.control({ header: this.header(this.deps.store.rev()), watchId: id, canceled: true });
  }

  /**
   * A progress request: one response with watch_id -1 at the current revision, sent once every
   * watcher of the stream is synced (so its revision never runs ahead of an event still to come).
   */
  private progressRequest(): void {
    if (this.deferredProgress !== null) return;
    const answer = (): void => {
      this.deferredProgress = null;
      if (this.closed) return;
      const behind = [...this.watchers.values()].some((sw) => sw.watcher.state === 'unsynced');
      if (behind) {
        this.deferredProgress = setTimeout(answer, this.deps.progressRetryMs);
        return;
      }
      this.control({ header: this.header(this.deps.store.rev()), watchId: INVALID_WATCH_ID });
    };
    answer();
  }

  private startProgressTimer(): void {
    if (this.progressTimer !== null) return;
    this.progressTimer = setInterval(() => {
      for (const sw of this.watchers.values()) {
        if (!sw.progressNotify) continue;
        if (sw.progressDue) this.deps.store.progress(sw.watcher);
        sw.progressDue = true;
      }
    }, this.deps.progressNotifyIntervalMs);
    this.progressTimer.unref();
  }

  private withPrevKv(ev: mvccpb.Event): mvccpb.Event {
    const kv = ev.kv;
    if (kv === undefined) return ev;
    const prev = this.deps.kv.versionAt(kv.key, Number(kv.modRevision) - 1);
    if (prev === undefined) return ev;
    return { ...ev, prevKv: toKeyValue(kv.key, { ...prev, value: Buffer.from(prev.value) }, false) };
  }

  private header(rev: number): etcdserverpb.ResponseHeader {
    return responseHeader(this.deps.identity, BigInt(rev));
  }

  private control(partial: Partial<etcdserverpb.WatchResponse>): void {
    this.write(etcdserverpb.WatchResponse.fromPartial(partial), 0);
  }

  private write(response: etcdserverpb.WatchResponse, events: number): void {
    const pending = this.deps.store.metrics.pendingEvents;
    pending.inc(events);
    this.unflushedEvents += events;
    const more = this.call.write(response, () => {
      if (this.closed) return;
      pending.dec(events);
      this.unflushedEvents -= events;
    });
    if (!more) this.full = true;
  }
}
