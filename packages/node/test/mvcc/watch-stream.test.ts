/**
 * Goal: the per-stream half of Watch — fragmentation as etcd's sendFragments cuts, progress_notify ticks (elided
 * after events), and the hasleader rule (refused without a leader, closed when it goes) — without a network.
 * Method: a fake gRPC call (an EventEmitter recording writes) over a real KvStore on LMDB; fragments are checked
 * against a naive cutter that encodes every candidate response whole.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Metadata, status } from '@grpc/grpc-js';
import { etcdserverpb, mvccpb } from '@corvid/proto';
import { watchFragments } from '../../src/api/watch-fragment.js';
import { WatchService } from '../../src/api/watch-service.js';
import type { WatchCall } from '../../src/api/watch-stream.js';
import { WatchableStore } from '../../src/mvcc/watch/index.js';
import { createLogger } from '../../src/util/logger.js';
import { b, Harness } from './harness.js';

class FakeCall extends EventEmitter {
  readonly metadata = new Metadata();
  readonly written: etcdserverpb.WatchResponse[] = [];
  error: { code?: number; details?: string } | undefined;
  constructor() {
    super();
    this.on('error', (e: { code?: number; details?: string }) => (this.error = e));
  }
  write(message: etcdserverpb.WatchResponse, callback?: () => void): boolean {
    this.written.push(message);
    callback?.();
    return true;
  }
}

/** etcd's sendFragments, encoding each candidate whole. */
function naiveFragments(wr: etcdserverpb.WatchResponse, max: number): etcdserverpb.WatchResponse[] {
  const size = (r: etcdserverpb.WatchResponse): number => etcdserverpb.WatchResponse.encode(r).finish().length;
  if (size(wr) < max || wr.events.length < 2) return [wr];
  const out: etcdserverpb.WatchResponse[] = [];
  let idx = 0;
  for (;;) {
    const cur = { ...wr, fragment: true, events: [] as mvccpb.Event[] };
    for (const ev of wr.events.slice(idx)) {
      cur.events.push(ev);
      if (cur.events.length > 1 && size(cur) >= max) {
        cur.events.pop();
        break;
      }
      idx++;
    }
    if (idx === wr.events.length) cur.fragment = false;
    out.push(cur);
    if (!cur.fragment) return out;
  }
}

const event = (key: string, bytes: number): mvccpb.Event => ({
  type: mvccpb.Event_EventType.PUT,
  kv: { key: b(key), createRevision: 5n, modRevision: 300n, version: 1n, value: Buffer.alloc(bytes, 1), lease: 0n },
  prevKv: undefined,
});

describe('watchFragments', () => {
  it('cuts where etcd cuts, for many sizes and limits', () => {
    for (const limit of [100, 1000, 5000]) {
      for (const sizes of [[10], [10, 10], [500, 500, 500], [2000, 3, 3, 3000, 1, 1, 1, 4000], Array.from({ length: 40 }, (_, i) => (i * 37) % 300)]) {
        const wr = etcdserverpb.WatchResponse.fromPartial({ header: { clusterId: 1n, memberId: 2n, revision: 300n, raftTerm: 2n }, watchId: 3n, events: sizes.map((n, i) => event(`k${i}`, n)) });
        expect(watchFragments(wr, limit)).toEqual(naiveFragments(wr, limit));
      }
    }
  });
});

describe('WatchService', () => {
  let h: Harness;
  let store: WatchableStore;
  let service: WatchService | undefined;
  let leader = true;
  const identity = { clusterId: 1n, memberId: 2n, raftTerm: () => 3n };

  function open(progressNotifyIntervalMs = 60_000): etcdserverpb.WatchServer {
    h = Harness.open();
    store = new WatchableStore(h.kv, h.backend);
    service = new WatchService({ identity, store, kv: h.kv, fragmentBytes: 1 << 20, progressNotifyIntervalMs, hasLeader: () => leader, leaderCheckIntervalMs: 60_000, logger: createLogger('error', () => undefined) });
    return service.implementation();
  }

  afterEach(async () => {
    service?.close();
    store.close();
    await h.close();
    leader = true;
  });

  const create = (call: FakeCall, value: etcdserverpb.DeepPartial<etcdserverpb.WatchCreateRequest>): void => {
    call.emit('data', etcdserverpb.WatchRequest.fromPartial({ requestUnion: { $case: 'createRequest', value } }));
  };

  it('sends progress notifications to idle progress_notify watchers, and skips a tick after events', async () => {
    const impl = open(30);
    const call = new FakeCall();
    impl.watch(call as unknown as WatchCall);
    create(call, { key: b('k'), progressNotify: true });
    create(call, { key: b('other') });
    await waitUntil(() => call.written.length >= 3);
    expect(call.written[2]).toMatchObject({ watchId: 0n, events: [], created: false, header: { revision: 1n } });
    h.put('k', 'v');
    const afterEvent = call.written.length;
    expect(call.written[afterEvent - 1]?.events).toHaveLength(1);
    await waitUntil(() => call.written.length >= afterEvent + 1);
    // The tick right after an event is elided, so at least one interval passes with nothing: then progress resumes.
    expect(call.written.slice(afterEvent).every((r) => r.watchId === 0n && r.events.length === 0 && r.header?.revision === 2n)).toBe(true);
    call.emit('cancelled');
  });

  it('counts written events as pending until flushed, and none once the call is gone', async () => {
    const impl = open();
    const call = new FakeCall();
    const flushes: Array<() => void> = [];
    call.write = (message: etcdserverpb.WatchResponse, callback?: () => void): boolean => {
      call.written.push(message);
      if (callback !== undefined) flushes.push(callback);
      return true;
    };
    impl.watch(call as unknown as WatchCall);
    create(call, { key: b('k') });
    h.put('k', '1');
    h.put('k', '2');
    const pending = async (): Promise<number | undefined> => (await store.metrics.pendingEvents.get()).values[0]?.value;
    expect(await pending()).toBe(2);
    flushes.shift()?.(); // the created response
    flushes.shift()?.();
    expect(await pending()).toBe(1);
    call.emit('cancelled');
    expect(await pending()).toBe(0);
    flushes.shift()?.();
    expect(await pending()).toBe(0);
  });

  it('refuses a hasleader stream without a leader, and closes one after three leaderless checks', () => {
    const impl = open();
    leader = false;
    const refused = new FakeCall();
    refused.metadata.set('hasleader', 'true');
    impl.watch(refused as unknown as WatchCall);
    expect(refused.error).toMatchObject({ code: status.UNAVAILABLE, details: 'etcdserver: no leader' });
    leader = true;
    const open1 = new FakeCall();
    open1.metadata.set('hasleader', 'true');
    const plain = new FakeCall();
    impl.watch(open1 as unknown as WatchCall);
    impl.watch(plain as unknown as WatchCall);
    create(open1, { key: b('k') });
    leader = false;
    service?.checkLeader();
    service?.checkLeader();
    expect(open1.error).toBeUndefined();
    service?.checkLeader();
    expect(open1.error).toMatchObject({ code: status.UNAVAILABLE, details: 'etcdserver: no leader' });
    expect(plain.error).toBeUndefined();
    expect(store.syncedCount()).toBe(0);
  });
});

async function waitUntil(condition: () => boolean, deadlineMs = 5_000): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
