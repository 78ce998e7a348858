/**
 * Goal: `etcdctl defrag` does on Corvid what it does on etcd 3.4 — the member's file shrinks after
 * deletes and a compaction (Status.dbSize), every key keeps its value and revisions, a long range
 * running meanwhile is not cut short, writes and watches go on afterwards; `defrag --cluster` on a
 * 3-member cluster under a write load loses no acknowledged write and the members' HashKV agree;
 * a member killed with SIGKILL right after a defragmentation restarts with all its data.
 * Method: real members on 127.0.0.1 (CORVID_TEST_SUBJECT=etcd runs the same on etcd 3.4), driven
 * by etcdctl 3.4 (defrag, endpoint status, get -w json) and gRPC clients; the cluster case uses
 * the cluster suites' WriteLoad and checks every acknowledged write by a linearizable read.
 */
import { withCluster } from '../harness/cluster.js';
import { etcdctl } from '../harness/etcdctl.js';
import { bytes, kvClient, type KvApi } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { missingWrites, WriteLoad } from '../cluster/write-load.js';
import { WatchStreamClient } from '../differential/watch-client.js';

/** Enough live keys that a full range goes to Corvid's read pool (more than its 512 inline entries). */
const LIVE_KEYS = 1_500;
const DOOMED_KEYS = 600;
const VALUE_BYTES = 2_000;
const PUT_CONCURRENCY = 32;
const PHASE_DEADLINE_MS = 30_000;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

async function putAll(kv: KvApi, keys: readonly string[], value: Buffer): Promise<void> {
  for (let i = 0; i < keys.length; i += PUT_CONCURRENCY) {
    await Promise.all(keys.slice(i, i + PUT_CONCURRENCY).map(async (k) => kv.put({ key: bytes(k), value })));
  }
}

const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

/** Fills a member with live keys (each written twice) and doomed ones, deletes the doomed and compacts away the history. */
async function fragment(endpoint: string): Promise<void> {
  const kv = kvClient(endpoint);
  try {
    await putAll(kv, names('live/', LIVE_KEYS), Buffer.alloc(VALUE_BYTES, 'a'));
    await putAll(kv, names('live/', LIVE_KEYS), Buffer.alloc(VALUE_BYTES, 'b'));
    await putAll(kv, names('doomed/', DOOMED_KEYS), Buffer.alloc(VALUE_BYTES * 4, 'x'));
    const deleted = await kv.deleteRange({ key: bytes('doomed/'), rangeEnd: bytes('doomed0') });
    expect(Number(deleted.deleted)).toBe(DOOMED_KEYS);
    await kv.compact({ revision: deleted.header?.revision ?? 0n, physical: true });
  } finally {
    kv.close();
  }
}

async function dbSize(endpoint: string): Promise<number> {
  const res = await etcdctl(endpoint, ['endpoint', 'status', '-w', 'json']);
  expect(res.code).toBe(0);
  return (JSON.parse(res.stdout) as Array<{ Status: { dbSize: number } }>)[0]?.Status.dbSize ?? -1;
}

/** Every key with its value, create/mod revision and version, as etcdctl prints them (the header's term masked). */
async function everything(endpoint: string): Promise<string> {
  const res = await etcdctl(endpoint, ['get', '', '--prefix', '-w', 'json']);
  expect(res.code).toBe(0);
  return res.stdout.replace(/"raft_term":\d+/, '"raft_term":0');
}

async function defrag(member: Member): Promise<void> {
  const res = await etcdctl(member.endpoint, ['defrag']);
  expect(res).toEqual({ code: 0, stdout: `Finished defragmenting etcd member[${member.endpoint}]\n`, stderr: '' });
}

test(`${SUBJECT}: defrag shrinks the file and keeps every key, a concurrent long range, writes and watches`, async () => {
  const member = await group.start(SUBJECT);
  await fragment(member.endpoint);
  const kv = kvClient(member.endpoint);
  const watch = new WatchStreamClient(member.endpoint);
  try {
    watch.create({ key: bytes('after/'), rangeEnd: bytes('after0') });
    await watch.waitFor(1);
    const sizeBefore = await dbSize(member.endpoint);
    const before = await everything(member.endpoint);

    // Long ranges (read-pool jobs on Corvid) run while the member defragments; each must answer in full.
    let defragging = true;
    const ranges = (async () => {
      const counts: number[] = [];
      while (defragging || counts.length === 0) {
        const res = await kv.range({ key: bytes('live/'), rangeEnd: bytes('live0') });
        counts.push(res.kvs.length);
      }
      return counts;
    })();
    try {
      await defrag(member);
    } finally {
      defragging = false;
    }
    expect(new Set(await ranges)).toEqual(new Set([LIVE_KEYS]));

    expect(await dbSize(member.endpoint)).toBeLessThan(sizeBefore);
    expect(await everything(member.endpoint)).toBe(before);

    const put = await kv.put({ key: bytes('after/1'), value: bytes('v') });
    await watch.waitFor(2);
    const event = watch.responses[1]?.events[0];
    expect(event?.kv?.key.toString()).toBe('after/1');
    expect(event?.kv?.modRevision).toBe(put.header?.revision);
    // A second defrag of a compact file keeps it as it is.
    await defrag(member);
    expect((await kv.range({ key: bytes('after/1') })).kvs[0]?.value.toString()).toBe('v');
    // etcd's metrics: two defragmentations timed, none in flight.
    const metrics = await (await fetch(`${member.clientUrl}/metrics`)).text();
    expect(metrics).toMatch(/^etcd_disk_backend_defrag_duration_seconds_count 2$/m);
    if (SUBJECT === 'corvid') expect(metrics).toMatch(/^etcd_disk_defrag_inflight 0$/m);
  } finally {
    watch.close();
    kv.close();
  }
}, 120_000);

test(`${SUBJECT}: a member killed right after defrag restarts with all its data`, async () => {
  let member = await group.start(SUBJECT);
  await fragment(member.endpoint);
  await defrag(member);
  const kv = kvClient(member.endpoint);
  try {
    await kv.put({ key: bytes('live/after-defrag'), value: bytes('kept') });
  } finally {
    kv.close();
  }
  const before = await everything(member.endpoint);
  await member.kill();
  member = await group.restart(member);
  expect(await everything(member.endpoint)).toBe(before);
}, 120_000);

test(`${SUBJECT}: defrag --cluster under a write load loses no acknowledged write and the members agree`, async () => {
  await withCluster(group, { kind: SUBJECT, size: 3 }, async (cluster) => {
    const first = cluster.slots[0];
    if (first === undefined) throw new Error('no member');
    await fragment(first.endpoint);
    const load = new WriteLoad(cluster.endpoints(), 3);
    try {
      await waitFor(() => load.acked.length >= 50, PHASE_DEADLINE_MS, '50 acknowledged writes before the defrag');
      const res = await etcdctl(first.endpoint, ['defrag', '--cluster']);
      expect(res.code).toBe(0);
      expect(res.stdout.split('\n').filter((l) => l.startsWith('Finished defragmenting etcd member[')).sort()).toEqual(
        cluster.slots.map((s) => `Finished defragmenting etcd member[${s.clientUrl}]`).sort(),
      );
      const acked = load.acked.length;
      await waitFor(() => load.acked.length >= acked + 50, PHASE_DEADLINE_MS, '50 acknowledged writes after the defrag');
    } finally {
      await load.stop();
    }
    const { hashes } = await cluster.waitConverged(PHASE_DEADLINE_MS);
    expect(new Set(hashes).size).toBe(1);
    for (const slot of cluster.slots) expect(await missingWrites(slot.endpoint, load.acked)).toEqual([]);
  });
}, 180_000);
