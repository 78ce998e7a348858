/**
 * Goal (issue 5, "Must show"): watchers across a leader failover receive every event exactly once, in order — raw
 * streams on the survivors straight through, a raw stream on the killed leader resumed on a survivor from its last
 * revision + 1, and an `etcd3` client watcher (which reconnects and resumes by itself).
 * Method: like the cluster suites, run against one kind (CORVID_TEST_SUBJECT=etcd proves it on etcd 3.4): a
 * 3-member cluster under a WriteLoad of puts (one revision each, so revisions must be contiguous), an all-keys watch
 * on every member and an etcd3 watcher over all endpoints; SIGKILL the leader mid-load, let the load carry on, then
 * check every watcher against the revisions the cluster reached and the writes it acknowledged.
 */
import { Etcd3 } from 'etcd3';
import { withCluster } from '../harness/cluster.js';
import { bytes, kvClient } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { WriteLoad } from '../cluster/write-load.js';
import { WatchStreamClient } from '../differential/watch-client.js';

const CLIENTS = 3;
const WRITES_BEFORE_KILL = 150;
const WRITES_AFTER = 60;
const PHASE_DEADLINE_MS = 20_000;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

interface Seen {
  readonly rev: number;
  readonly key: string;
  readonly value: string;
}

const seenOf = (s: WatchStreamClient): Seen[] =>
  s.responses.flatMap((r) => r.events.map((e) => ({ rev: Number(e.kv?.modRevision), key: Buffer.from(e.kv?.key ?? []).toString(), value: Buffer.from(e.kv?.value ?? []).toString() })));

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test(`${SUBJECT}: watchers across a leader failover see every event exactly once, in order`, async () => {
  await withCluster(group, { kind: SUBJECT, size: 3 }, async (cluster) => {
    const first = cluster.slots[0];
    if (first === undefined) throw new Error('no member');
    const kv0 = kvClient(first.endpoint);
    const start = Number((await kv0.range({ key: bytes('load/') })).header?.revision);
    kv0.close();
    const streams = cluster.slots.map((slot) => ({ slot, stream: new WatchStreamClient(slot.endpoint) }));
    for (const { stream } of streams) stream.create({ key: bytes('load/'), rangeEnd: bytes('load0'), startRevision: BigInt(start + 1) });
    const client = new Etcd3({ hosts: cluster.endpoints().map((e) => `http://${e}`) });
    const viaClient: number[] = [];
    const watcher = await client.watch().prefix('load/').startRevision(String(start + 1)).create();
    watcher.on('put', (kv) => viaClient.push(Number(kv.mod_revision)));
    const load = new WriteLoad(cluster.endpoints(), CLIENTS);
    const resumed: WatchStreamClient[] = [];
    try {
      await waitFor(() => load.acked.length >= WRITES_BEFORE_KILL, PHASE_DEADLINE_MS, `${WRITES_BEFORE_KILL} acknowledged writes`);
      const oldLeader = await cluster.leader();
      await cluster.kill(oldLeader);
      const survivors = cluster.slots.filter((s) => s !== oldLeader);
      const newLeader = await cluster.waitReady(PHASE_DEADLINE_MS, survivors);
      const acked = load.acked.length;
      await waitFor(() => load.acked.length >= acked + WRITES_AFTER, PHASE_DEADLINE_MS, `${WRITES_AFTER} writes after the failover`);
      await load.stop();
      const kv = kvClient(newLeader.endpoint);
      const last = Number((await kv.range({ key: bytes('load/') })).header?.revision);
      kv.close();

      // The killed member's stream ends; resume it on a survivor from its last revision + 1.
      const killed = streams.find((s) => s.slot === oldLeader);
      const before = killed === undefined ? [] : seenOf(killed.stream);
      const again = new WatchStreamClient(newLeader.endpoint);
      resumed.push(again);
      again.create({ key: bytes('load/'), rangeEnd: bytes('load0'), startRevision: BigInt((before.at(-1)?.rev ?? start) + 1) });

      const live = streams.filter((s) => s.slot !== oldLeader);
      await waitFor(
        () => live.every((s) => seenOf(s.stream).at(-1)?.rev === last) && seenOf(again).at(-1)?.rev === last && viaClient.at(-1) === last,
        PHASE_DEADLINE_MS,
        'every watcher to reach the last revision',
      );
      const expected = range(start + 1, last);
      for (const { stream } of live) expect(seenOf(stream).map((e) => e.rev)).toEqual(expected);
      const joined = [...before, ...seenOf(again)];
      expect(joined.map((e) => e.rev)).toEqual(expected);
      expect(viaClient).toEqual(expected);
      // Every acknowledged write is the event at its revision.
      const byRev = new Map(joined.map((e) => [e.rev, e]));
      expect(load.acked.filter((w) => byRev.get(w.revision)?.key !== w.key || byRev.get(w.revision)?.value !== w.value)).toEqual([]);
      expect(seenOf((live[0] as (typeof live)[number]).stream)).toEqual(joined);
    } finally {
      await load.stop();
      await watcher.cancel();
      client.close();
      for (const s of [...streams.map((x) => x.stream), ...resumed]) s.close();
    }
  });
}, 90_000);
