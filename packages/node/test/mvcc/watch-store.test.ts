/**
 * Goal: the watchable store delivers committed changes per watcher in revision order with no gaps or duplicates —
 * live (synced), from history in bounded steps (unsynced), and after its stream was full — and handles filters,
 * compacted and negative start revisions and progress as etcd 3.4 does.
 * Method: a real KvStore and Applier on LMDB (the mvcc Harness) with a WatchableStore over them; sinks record
 * deliveries and can refuse (a full stream). Catch-up steps run on setImmediate, so tests await a few turns.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { mvccpb } from '@corvid/proto';
import { keyRange } from '../../src/mvcc/index.js';
import { WatchableStore, type WatchDelivery, type Watcher, type WatchSink } from '../../src/mvcc/watch/index.js';
import { b, compactOp, encodeEntry, Harness, putOp, delOp } from './harness.js';

class RecordingSink implements WatchSink {
  readonly deliveries: WatchDelivery[] = [];
  full = false;
  /** Sends accepted before the sink fills up (a gRPC write returning false), if set. */
  budget: number | undefined;
  send(d: WatchDelivery): boolean {
    if (this.full) return false;
    this.deliveries.push(d);
    if (this.budget !== undefined && --this.budget <= 0) this.full = true;
    return true;
  }
  blocked(): boolean {
    return this.full;
  }
  revisions(): number[] {
    return this.deliveries.flatMap((d) => d.events.map((e) => Number(e.kv?.modRevision)));
  }
}

const NO_FILTER = { noPut: false, noDelete: false };
let h: Harness;
let store: WatchableStore;

function open(options: ConstructorParameters<typeof WatchableStore>[2] = {}): void {
  h = Harness.open();
  store = new WatchableStore(h.kv, h.backend, options);
}

function watch(sink: WatchSink, key: string, end = '', startRevision = 0, filters = NO_FILTER): Watcher {
  return store.watch({ id: 0n, range: keyRange(b(key), b(end)), startRevision, filters, sink });
}

async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

afterEach(async () => {
  store.close();
  await h.close();
});

describe('WatchableStore', () => {
  it('sends each committed revision to synced watchers at once, one delivery per revision, in order', () => {
    open();
    const sink = new RecordingSink();
    const w = watch(sink, 'a', 'b');
    expect(w.state).toBe('synced');
    const at = h.applier.appliedIndex();
    h.applier.applyBatch([encodeEntry(at + 1, putOp('a1', 'x')), encodeEntry(at + 2, putOp('zz', 'x')), encodeEntry(at + 3, delOp('a', 'b'))]);
    expect(sink.deliveries.map((d) => [d.revision, d.events.map((e) => e.type)])).toEqual([
      [2, [mvccpb.Event_EventType.PUT]],
      [4, [mvccpb.Event_EventType.DELETE]],
    ]);
    expect(sink.deliveries[1]?.events[0]?.kv).toMatchObject({ key: b('a1'), modRevision: 4n, createRevision: 0n, version: 0n });
  });

  it('applies NOPUT and NODELETE, and sends nothing when every event is filtered', () => {
    open();
    const noPut = new RecordingSink();
    const noDelete = new RecordingSink();
    watch(noPut, 'k', '', 0, { noPut: true, noDelete: false });
    watch(noDelete, 'k', '', 0, { noPut: false, noDelete: true });
    h.put('k', '1');
    h.del('k');
    expect(noPut.revisions()).toEqual([3]);
    expect(noDelete.revisions()).toEqual([2]);
  });

  it('catches a past watcher up in bounded steps, at most catchUpMaxRevisions of its revisions per response, then live', async () => {
    open({ catchUpMaxRevisions: 3, stepMaxRevisions: 2 });
    for (let i = 0; i < 10; i++) h.put(`k${i % 3}`, `${i}`); // revisions 2..11
    const sink = new RecordingSink();
    const w = watch(sink, 'k', 'l', 4);
    expect(w.state).toBe('unsynced');
    await turns();
    expect(w.state).toBe('synced');
    expect(sink.revisions()).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(sink.deliveries.map((d) => d.events.length)).toEqual([3, 3, 2]);
    expect(sink.deliveries.every((d) => d.revision === 11)).toBe(true);
    h.put('k1', 'live');
    expect(sink.revisions().at(-1)).toBe(12);
  });

  it('groups a catch-up as etcd does: one response for few events spread over many revisions', async () => {
    open({ catchUpMaxRevisions: 5, stepMaxRevisions: 4 });
    for (let i = 0; i < 30; i++) h.put(i % 10 === 0 ? 'a' : `other${i}`, `${i}`); // a at 2, 12, 22
    const sink = new RecordingSink();
    watch(sink, 'a', '', 2);
    await turns();
    expect(sink.deliveries.map((d) => d.events.map((e) => Number(e.kv?.modRevision)))).toEqual([[2, 12, 22]]);
  });

  it('keeps a catch-up response pending while its stream is full, then sends it without gaps', async () => {
    open({ catchUpMaxRevisions: 2, stepMaxRevisions: 3, retryMs: 5 });
    for (let i = 0; i < 8; i++) h.put('k', `${i}`); // 2..9
    const sink = new RecordingSink();
    sink.budget = 1;
    const w = watch(sink, 'k', '', 2);
    await turns();
    expect(w.state).toBe('unsynced');
    expect(sink.revisions()).toEqual([2, 3]);
    sink.budget = undefined;
    sink.full = false;
    store.kick();
    await turns();
    expect(w.state).toBe('synced');
    expect(sink.revisions()).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sink.deliveries.map((d) => d.events.length)).toEqual([2, 2, 2, 2]);
  });

  it('parks a watcher whose stream is full and later replays exactly what it missed', async () => {
    open({ retryMs: 5 });
    const sink = new RecordingSink();
    const w = watch(sink, 'k', 'l');
    h.put('k1', 'a'); // 2, delivered
    sink.full = true;
    for (let i = 0; i < 5; i++) h.put('k1', `b${i}`); // 3..7, refused
    expect(w.state).toBe('unsynced');
    expect((await store.metrics.slowWatchers.get()).values[0]?.value).toBe(1);
    sink.full = false;
    store.kick();
    await turns();
    h.put('k2', 'c'); // 8, live again
    expect(sink.revisions()).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(w.state).toBe('synced');
  });

  it('cancels a watcher whose start is compacted, with compact_revision; -1 on a fresh store just goes live', async () => {
    open();
    const fresh = new RecordingSink();
    const w1 = watch(fresh, 'k', '', -1);
    await turns();
    expect(w1.state).toBe('synced');
    expect(fresh.deliveries).toEqual([]);
    for (let i = 0; i < 5; i++) h.put('k', `${i}`); // 2..6
    h.ok(compactOp(4));
    const old = new RecordingSink();
    const w2 = watch(old, 'k', '', 3);
    const atCompact = new RecordingSink();
    watch(atCompact, 'k', '', 4);
    await turns();
    expect(w2.state).toBe('compacted');
    expect(old.deliveries).toEqual([expect.objectContaining({ compactRevision: 4, revision: 0, events: [] })]);
    expect(atCompact.revisions()).toEqual([4, 5, 6]);
    expect(fresh.revisions()).toEqual([2, 3, 4, 5, 6]);
  });

  it('after a reload (a snapshot installed) replays from history what no commit published', async () => {
    open();
    const sink = new RecordingSink();
    const w = watch(sink, 'k', 'l');
    h.put('k1', 'a'); // 2, published
    // Revisions 3 and 4 land without publishCommitted, as a snapshot's state does.
    h.backend.writeSync((txn) => {
      for (const value of ['b', 'c']) {
        const write = h.kv.beginWrite(txn);
        write.put(txn, b('k1'), b(value), 0n, h.kv.versionAt(b('k1'), h.kv.currentRevision()));
        h.kv.endWrite(txn, write);
      }
      h.kv.persist(txn);
    });
    h.kv.reload();
    expect(w.state).toBe('unsynced');
    await turns();
    expect(w.state).toBe('synced');
    h.put('k2', 'd'); // 5
    expect(sink.revisions()).toEqual([2, 3, 4, 5]);
  });

  it('registers etcd\'s watch metrics and the commit→send histogram on the injected registry', async () => {
    const registry = new Registry();
    open({ registry });
    watch(new RecordingSink(), 'k');
    h.put('k', '1');
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    for (const name of ['etcd_debugging_mvcc_watcher_total', 'etcd_debugging_mvcc_slow_watcher_total', 'etcd_debugging_mvcc_watch_stream_total', 'etcd_debugging_mvcc_events_total', 'etcd_debugging_mvcc_pending_events_total', 'corvid_watch_event_delay_seconds']) {
      expect(names).toContain(name);
    }
    expect((await store.metrics.watchers.get()).values[0]?.value).toBe(1);
  });

  it('answers progress only for synced watchers', async () => {
    open();
    h.put('k', '1');
    const sink = new RecordingSink();
    const w = watch(sink, 'k', '', 1);
    expect(store.progress(w)).toBe(false);
    await turns();
    expect(store.progress(w)).toBe(true);
    expect(sink.deliveries.at(-1)).toMatchObject({ events: [], revision: 2 });
  });
});
