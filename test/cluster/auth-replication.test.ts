/**
 * Goal: auth state is replicated through Raft. Properties, on a 3-member cluster of SUBJECT: users, roles, grants
 * and the auth switch set through one member hold on every member (etcdctl as alice, as root and without a user
 * prints the same everywhere), including a member that was down meanwhile and catches up; a simple token issued by
 * one member works on the others (every member applies the Authenticate entry); the members' stores are identical
 * (HashKV, asked as root).
 * Method: etcdctl 3.4 and raw gRPC against each member's endpoint. CORVID_AUTH_ENTRIES_WHILE_DOWN=5300 makes the
 * returning member catch up from a Raft snapshot (past etcd's 5,000 catch-up entries; --snapshot-count 100): that
 * run is green on etcd, and on Corvid today ends in the follower's "snapshot N is out of bound lastindex(M)" exit
 * (the leader's database copy is newer than its Raft snapshot; a raft-driver issue, not auth's), so the default
 * is a catch-up from the log.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { withCluster, type Cluster, type Slot } from '../harness/cluster.js';
import { etcdctl } from '../harness/etcdctl.js';
import { bytes } from '../harness/grpc.js';
import { maskResult } from '../harness/mask.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { WatchStreamClient } from '../differential/watch-client.js';

const ROOT = ['--user', 'root:rootpw'];
const ALICE = ['--user', 'alice:apw'];
/** Puts while a member is away; above etcd's SnapshotCatchUpEntries (5,000) it needs a snapshot to catch up. */
const ENTRIES_WHILE_DOWN = Number(process.env['CORVID_AUTH_ENTRIES_WHILE_DOWN'] ?? 200);
const WRITERS = 32;
const PHASE_DEADLINE_MS = 30_000;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

async function ok(slot: Slot, args: readonly string[]): Promise<string> {
  const r = await etcdctl(slot.endpoint, args);
  if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')} on ${slot.name} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function view(slot: Slot): Promise<string> {
  const reads: ReadonlyArray<readonly string[]> = [
    [...ROOT, 'user', 'list'],
    [...ROOT, 'role', 'get', 'app'],
    [...ALICE, 'get', '/app/k', '--prefix', '--keys-only', '--consistency=s'],
    [...ALICE, 'get', '/app/bulk/', '--prefix', '--limit', '1', '--keys-only', '-w', 'json', '--consistency=s'],
    [...ALICE, 'put', '/other', 'x'],
    ['get', '/app/k0', '--consistency=s'],
  ];
  const out: string[] = [];
  for (const args of reads) {
    const r = maskResult(await etcdctl(slot.endpoint, args), []);
    out.push(`$ ${args.join(' ')}\n[${r.code}]\n${r.stdout}${r.stderr.replace(/^\{"level":"warn".*\n/gm, '')}`);
  }
  return out.join('\n');
}

function authenticate(slot: Slot, name: string, password: string): Promise<string> {
  const client = new etcdserverpb.AuthClient(slot.endpoint, credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.authenticate(etcdserverpb.AuthenticateRequest.fromPartial({ name, password }), (err, res) => {
      client.close();
      if (err !== null) reject(err);
      else resolve(res.token);
    });
  });
}

function hashKvAsRoot(slot: Slot, token: string, revision: number): Promise<number> {
  const client = new etcdserverpb.MaintenanceClient(slot.endpoint, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('token', token);
  return new Promise((resolve, reject) => {
    client.hashKv(etcdserverpb.HashKVRequest.fromPartial({ revision: BigInt(revision) }), metadata, { deadline: new Date(Date.now() + 5_000) }, (err, res) => {
      client.close();
      if (err !== null) reject(err);
      else resolve(res.hash);
    });
  });
}

function rangeWith(slot: Slot, token: string): Promise<string> {
  const client = new etcdserverpb.KVClient(slot.endpoint, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('token', token);
  return new Promise((resolve) => {
    client.range(etcdserverpb.RangeRequest.fromPartial({ key: bytes('/app/k0') }), metadata, { deadline: new Date(Date.now() + 5_000) }, (err, res) => {
      client.close();
      resolve(err !== null ? `${err.code} ${err.details}` : `ok ${res.kvs.length}`);
    });
  });
}

/** `count` puts of /app/bulk/N as alice, WRITERS at a time, over `slots`' endpoints. */
async function putAsAlice(slots: readonly Slot[], token: string, count: number): Promise<void> {
  const clients = slots.map((slot) => new etcdserverpb.KVClient(slot.endpoint, credentials.createInsecure()));
  const metadata = new Metadata();
  metadata.set('token', token);
  let next = 0;
  const writer = async (w: number): Promise<void> => {
    const client = clients[w % clients.length] as etcdserverpb.KVClient;
    while (next < count) {
      const i = next++;
      await new Promise<void>((resolve, reject) => {
        client.put(etcdserverpb.PutRequest.fromPartial({ key: bytes(`/app/bulk/${i}`), value: bytes('v') }), metadata, { deadline: new Date(Date.now() + 10_000) }, (err) => (err === null ? resolve() : reject(err)));
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  } finally {
    for (const c of clients) c.close();
  }
}

async function setUp(cluster: Cluster, via: Slot): Promise<void> {
  await ok(via, ['user', 'add', 'root:rootpw']);
  await ok(via, ['auth', 'enable']);
  await ok(via, [...ROOT, 'user', 'add', 'alice:apw']);
  await ok(via, [...ROOT, 'role', 'add', 'app']);
  await ok(via, [...ROOT, 'role', 'grant-permission', 'app', 'readwrite', '/app/', '--prefix']);
  await ok(via, [...ROOT, 'user', 'grant-role', 'alice', 'app']);
  expect(cluster.running()).toHaveLength(2);
}

test(`${SUBJECT}: auth set through one member holds on all, a member that was away included`, async () => {
  await withCluster(group, { kind: SUBJECT, size: 3, snapshotCount: 100 }, async (cluster) => {
    const [m0, m1, m2] = cluster.slots as [Slot, Slot, Slot];
    await cluster.stop(m2);
    await cluster.waitReady(PHASE_DEADLINE_MS);
    await setUp(cluster, m0);
    for (let i = 0; i < 10; i++) await ok(i % 2 === 0 ? m0 : m1, [...ALICE, 'put', `/app/k${i}`, String(i)]);
    await putAsAlice([m0, m1], await authenticate(m0, 'alice', 'apw'), ENTRIES_WHILE_DOWN);
    await cluster.restart(m2);
    await cluster.waitReady(PHASE_DEADLINE_MS);
    // HashKV is root's once auth is on (the harness's waitConverged asks without a user): same applied index, then
    // the same HashKV at one revision, asked as root.
    await waitFor(async () => new Set((await cluster.statuses()).map((s) => s?.raftAppliedIndex)).size === 1, PHASE_DEADLINE_MS, 'equal applied indexes');
    const rootToken = await authenticate(m0, 'root', 'rootpw');
    const revision = Number((await cluster.status(m0)).header?.revision ?? 0);
    const hashes = await Promise.all([m0, m1, m2].map((slot) => hashKvAsRoot(slot, rootToken, revision)));
    expect(new Set(hashes).size).toBe(1);

    const expected = await view(m0);
    expect(expected).toContain('[/app/, /app0) (prefix /app/)');
    expect(expected).toContain('etcdserver: permission denied');
    expect(expected).toContain('etcdserver: user name is empty');
    expect(await view(m1)).toEqual(expected);
    expect(await view(m2)).toEqual(expected);
    if (ENTRIES_WHILE_DOWN > 5_000) expect(m2.process?.outputTail(10_000)).toMatch(/"msg":"received and saved database snapshot"/);

    // A token issued by one member is known to the others once they applied its entry (a member that has not
    // waits for it), so a client may authenticate on one member and call another at once.
    for (const [issuer, user] of [[m1, m0], [m2, m1], [m0, m2]] as const) {
      const token = await authenticate(issuer, 'alice', 'apw');
      expect(`${user.name}: ${await rangeWith(user, token)}`).toBe(`${user.name}: ok 1`);
    }
    // Watches too: a stream opened with a token from another member creates its watcher.
    for (const [issuer, user] of [[m0, m2], [m2, m1]] as const) {
      const token = await authenticate(issuer, 'alice', 'apw');
      const watch = new WatchStreamClient(user.endpoint, { metadata: { token } });
      try {
        watch.create({ key: bytes('/app/k0') });
        await watch.waitFor(1);
        expect(`${user.name}: created ${String(watch.responses[0]?.created)}, canceled ${String(watch.responses[0]?.canceled)} ${watch.responses[0]?.cancelReason ?? ''}`).toBe(`${user.name}: created true, canceled false `);
      } finally {
        watch.close();
      }
    }
    // etcdctl balancing over every member.
    const all = [m0, m1, m2].map((slot) => slot.endpoint).join(',');
    for (let i = 0; i < 6; i++) {
      const put = await etcdctl(all, [...ALICE, 'put', '/app/k0', `round ${i}`]);
      expect(`${put.code} ${put.stdout}`).toBe('0 OK\n');
    }
  }, 150_000);
}, 180_000);
