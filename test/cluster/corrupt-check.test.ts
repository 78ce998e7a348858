/**
 * Goal: the corruption check between members behaves as etcd 3.4.23's (etcdserver/corrupt.go).
 * - A member whose store was really corrupted (a stored value changed on disk while it was
 *   stopped) is found by the leader's periodic check (--experimental-corrupt-check-time): the
 *   CORRUPT alarm appears in `etcdctl alarm list` (member 0, as etcd 3.4.23 raises it), writes get
 *   `etcdserver: corrupt cluster`, /health is false on every member.
 * - A healthy cluster under write load and compactions runs many checks and raises nothing.
 * - --experimental-initial-corrupt-check refuses to start the corrupted member with etcd's text,
 *   while a healthy member restarted with the same flag starts.
 * - With the CORRUPT alarm raised (by Maintenance.Alarm, since etcd's bolt file cannot be edited
 *   here), etcd 3.4 and Corvid answer the same etcdctl commands with the same output.
 * Method: real 3-member Corvid clusters; the store is edited with the `lmdb` package in the
 * member's `<data-dir>/member/db` (layout: packages/node/src/storage/schema.ts): the newest
 * version of one key, in the `history` table (what HashKV covers, as etcd's key bucket) and in the
 * `live` table (what reads return).
 */
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { open } from 'lmdb';
import { etcdserverpb } from '@corvid/proto';
import { Cluster, hexId, withCluster, type Slot } from '../harness/cluster.js';
import { etcdctl } from '../harness/etcdctl.js';
import { MEMBER_KINDS, ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { WriteLoad } from './write-load.js';

const CHECK_INTERVAL = '300ms';
const PHASE_DEADLINE_MS = 20_000;
const CORRUPTED_KEY = 'corrupt-me';
/** A record is flags(1) create(8) mod(8) version(8) lease(8), then the value (mvcc/record.ts). */
const RECORD_VALUE_OFFSET = 33;
/** Periodic checks a healthy cluster must pass under load before the test trusts "no alarm". */
const HEALTHY_CHECKS = 8;

const group = new ProcessGroup();
/** Corvid's store is edited on disk and its metrics read: these run only when Corvid is the subject. */
const corvidTest = SUBJECT === 'corvid' ? test : test.skip;
afterAll(async () => group.cleanup());

/** Flips the last byte of the newest value of `key` in the stopped member's store; returns the values before and after. */
async function corruptValue(slot: Slot, key: string): Promise<{ before: string; after: string }> {
  const env = open<Buffer, Buffer>({ path: join(slot.dataDir, 'member', 'db'), keyEncoding: 'binary', encoding: 'binary', maxDbs: 16 });
  try {
    const live = env.openDB<Buffer, Buffer>({ name: 'live', keyEncoding: 'binary', encoding: 'binary' });
    const history = env.openDB<Buffer, Buffer>({ name: 'history', keyEncoding: 'binary', encoding: 'binary' });
    const userKey = Buffer.from(key);
    // escape(key) 0x00 ~main ~sub: the first entry after escape(key) 0x00 is the newest version (the key has no 0x00 byte).
    const prefix = Buffer.concat([userKey, Buffer.from([0])]);
    const [newest] = [...history.getRange({ start: prefix, end: Buffer.concat([userKey, Buffer.from([1])]), limit: 1 })];
    const record = live.get(userKey);
    if (newest === undefined || record === undefined) throw new Error(`${key} is not in ${slot.name}'s store`);
    const flip = (r: Buffer): Buffer => {
      const out = Buffer.from(r);
      out[out.length - 1] = (out[out.length - 1] as number) ^ 0x01;
      return out;
    };
    env.transactionSync(() => {
      history.putSync(newest.key, flip(newest.value));
      live.putSync(userKey, flip(record));
    });
    return { before: record.subarray(RECORD_VALUE_OFFSET).toString(), after: flip(record).subarray(RECORD_VALUE_OFFSET).toString() };
  } finally {
    await env.close();
  }
}

/** /health's status and body (etcd answers 503 with http.Error's newline when unhealthy). */
async function health(slot: Slot): Promise<string> {
  const res = await fetch(`${slot.clientUrl}/health`);
  return `${res.status} ${JSON.stringify(await res.text())}`;
}

/** The value of `corvid_server_corruption_checks_total{result}` on one member (0 when absent). */
async function checksCounted(slot: Slot, result: string): Promise<number> {
  const text = await (await fetch(`${slot.clientUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`corvid_server_corruption_checks_total{result="${result}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** Writes `key` and waits until every member holds the same store (equal HashKV at one revision). */
async function writeAndConverge(cluster: Cluster): Promise<void> {
  const leader = await cluster.leader();
  const put = await etcdctl(leader.endpoint, ['put', CORRUPTED_KEY, 'the-value']);
  expect(put.stdout.trim()).toBe('OK');
  const { hashes } = await cluster.waitConverged(PHASE_DEADLINE_MS);
  expect(new Set(hashes).size).toBe(1);
}

/** A follower, stopped, its store corrupted. */
async function stopAndCorruptFollower(cluster: Cluster): Promise<Slot> {
  const leader = await cluster.leader();
  const follower = cluster.slots.find((s) => s !== leader) as Slot;
  await cluster.status(follower);
  await cluster.stop(follower);
  const { before, after } = await corruptValue(follower, CORRUPTED_KEY);
  expect([before, after]).toEqual(['the-value', 'the-valud']);
  return follower;
}

corvidTest('corvid: a member corrupted on disk is found by the periodic check: CORRUPT alarm, writes refused, /health false', async () => {
  await withCluster(group, { kind: 'corvid', size: 3, extraArgs: ['--experimental-corrupt-check-time', CHECK_INTERVAL] }, async (cluster) => {
    await writeAndConverge(cluster);
    expect((await etcdctl(cluster.slots[0]?.endpoint as string, ['alarm', 'list'])).stdout).toBe('');
    const corrupted = await stopAndCorruptFollower(cluster);
    await cluster.restart(corrupted);
    await cluster.waitReady(PHASE_DEADLINE_MS);
    // The corrupted member serves the corrupted value to a serializable read: the damage is real.
    expect((await etcdctl(corrupted.endpoint, ['get', CORRUPTED_KEY, '--consistency=s', '--print-value-only'])).stdout.trim()).toBe('the-valud');

    const leader = await cluster.leader();
    const alarms = await waitFor(async () => {
      const out = (await etcdctl(leader.endpoint, ['alarm', 'list'])).stdout;
      return out === '' ? undefined : out;
    }, PHASE_DEADLINE_MS, 'the CORRUPT alarm');
    expect(alarms).toBe('alarm:CORRUPT \n');
    // The leader that found it names the member whose hash differed (the alarm names member 0, as
    // etcd 3.4.23's): the corrupted one, unless the corrupted member was leading at that moment.
    const finders = cluster.slots.flatMap((s) => (s.process?.outputTail(4000) ?? '').split('\n')
      .filter((line) => line.includes('"msg":"same compact revision then hashes must match"'))
      .map((line) => ({ finder: s, named: (JSON.parse(line) as Record<string, string>)['follower-peer-id'] })));
    expect(finders.length).toBeGreaterThan(0);
    for (const { finder, named } of finders) {
      if (finder !== corrupted) expect(named).toBe(hexId(corrupted.id as bigint));
      expect(await checksCounted(finder, 'corrupt')).toBeGreaterThanOrEqual(1);
    }

    for (const s of cluster.slots) {
      const put = await etcdctl(s.endpoint, ['put', 'after', 'corruption']);
      expect(put.code).toBe(1);
      expect(put.stderr).toContain('Error: etcdserver: corrupt cluster');
      expect(await health(s)).toBe('503 "{\\"health\\":\\"false\\"}\\n"');
    }
  }, 60_000);
}, 90_000);

corvidTest('corvid: a healthy cluster under write load and compactions passes every periodic check', async () => {
  await withCluster(group, { kind: 'corvid', size: 3, extraArgs: ['--experimental-corrupt-check-time', '200ms'] }, async (cluster) => {
    const leader = await cluster.leader();
    // Summed over the members: leadership may move under load, and only the leader checks.
    const okChecks = async (): Promise<number> => (await Promise.all(cluster.slots.map(async (s) => checksCounted(s, 'ok')))).reduce((a, b) => a + b, 0);
    const load = new WriteLoad(cluster.endpoints(), 4);
    try {
      const okBefore = await okChecks();
      let compactions = 0;
      await waitFor(async () => {
        // Compact now and then, so checks also run across compact revisions that move.
        const rev = load.acked.at(-1)?.revision;
        if (rev !== undefined && rev > 50) {
          const compacted = await etcdctl(leader.endpoint, ['compact', String(rev - 20)]);
          if (compacted.code === 0) compactions++;
        }
        return (await okChecks()) - okBefore >= HEALTHY_CHECKS && compactions >= 3;
      }, 60_000, `${HEALTHY_CHECKS} passed corruption checks under load`);
      expect(load.acked.length).toBeGreaterThan(0);
    } finally {
      await load.stop();
    }
    for (const s of cluster.slots) expect(await checksCounted(s, 'corrupt')).toBe(0);
    expect((await etcdctl(leader.endpoint, ['alarm', 'list'])).stdout).toBe('');
    for (const s of cluster.slots) expect(await health(s)).toBe('200 "{\\"health\\":\\"true\\"}"');
  }, 90_000);
}, 120_000);

corvidTest("corvid: --experimental-initial-corrupt-check refuses to start a corrupted member with etcd's text", async () => {
  await withCluster(group, { kind: 'corvid', size: 3, extraArgs: ['--experimental-initial-corrupt-check'] }, async (cluster) => {
    await writeAndConverge(cluster);
    // A healthy member restarted with the check passes it and serves.
    const healthy = cluster.slots.find((s) => s !== cluster.slots[0]) as Slot;
    await cluster.restart(healthy);
    await cluster.waitReady(PHASE_DEADLINE_MS);
    expect(healthy.process?.outputTail(400)).toContain('"msg":"initial corruption checking passed; no corruption"');

    const corrupted = await stopAndCorruptFollower(cluster);
    await cluster.restart(corrupted);
    cluster.expectExit(corrupted);
    await waitFor(() => corrupted.process?.hasExited() === true, PHASE_DEADLINE_MS, 'the corrupted member to exit');
    const refused = corrupted.process?.outputTail(400) ?? '';
    expect(refused).toContain('"msg":"found different hash values from remote peer"');
    expect(refused).toContain(`"msg":"failed to start member","error":{"message":"${hexId(corrupted.id as bigint)} found data inconsistency with peers"`);
    expect(refused).toContain('[process exited: code=1 signal=null]');
    expect(refused).not.toContain('serving client traffic');
  }, 60_000);
}, 90_000);

/** Raises CORRUPT for member 0 through Maintenance.Alarm (what the leader's check proposes). */
async function raiseCorrupt(endpoint: string): Promise<void> {
  const client = new etcdserverpb.MaintenanceClient(endpoint, credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) => {
      client.alarm({ action: etcdserverpb.AlarmRequest_AlarmAction.ACTIVATE, memberID: 0n, alarm: etcdserverpb.AlarmType.CORRUPT }, (err) => (err === null ? resolve() : reject(err)));
    });
  } finally {
    client.close();
  }
}

/** What etcdctl shows for each command while CORRUPT is raised, then after `alarm disarm`. */
async function underCorruptAlarm(cluster: Cluster): Promise<string[]> {
  const endpoint = (await cluster.leader()).endpoint;
  const slot = cluster.slots[0] as Slot;
  const seen: string[] = [];
  const runWith = async (stdin: string | undefined, ...args: string[]): Promise<void> => {
    const r = await etcdctl(endpoint, args, stdin);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
    seen.push(`${args.join(' ')} → ${r.code} ${r.stdout.trim().replaceAll('\n', '|')} ${errors.join(' ')}`.trim());
  };
  const run = async (...args: string[]): Promise<void> => runWith(undefined, ...args);
  await run('put', 'k', 'v');
  await raiseCorrupt(endpoint);
  await run('alarm', 'list');
  await run('put', 'k', 'v2');
  await run('del', 'k');
  await run('compact', '1');
  await run('lease', 'grant', '10');
  await run('get', 'k', '--print-value-only');
  await run('get', 'k', '--print-value-only', '--consistency=s');
  // A read-only txn is served (etcd answers it outside the log); one that writes is refused.
  await runWith('value("k") = "v"\n\nget k\n\nget k\n\n', 'txn', '--interactive=false');
  await runWith('value("k") = "v"\n\nput k v4\n\nget k\n\n', 'txn', '--interactive=false');
  seen.push(`/health ${await health(slot)}`);
  await run('alarm', 'disarm');
  await run('alarm', 'list');
  await run('put', 'k', 'v3');
  seen.push(`/health ${await health(slot)}`);
  return seen;
}

test('etcd and corvid: the same answers while the CORRUPT alarm is raised, and after it is disarmed', async () => {
  const seen: Record<string, string[]> = {};
  for (const kind of new Set(MEMBER_KINDS)) {
    seen[kind] = await withCluster(group, { kind, size: 1, extraArgs: ['--experimental-corrupt-check-time', '1s', '--experimental-initial-corrupt-check'] }, underCorruptAlarm, 60_000);
  }
  expect(seen['etcd']).toEqual([
    'put k v → 0 OK',
    'alarm list → 0 alarm:CORRUPT',
    'put k v2 → 1  Error: etcdserver: corrupt cluster',
    'del k → 1  Error: etcdserver: corrupt cluster',
    'compact 1 → 1  Error: etcdserver: corrupt cluster',
    'lease grant 10 → 1  Error: failed to grant lease (etcdserver: corrupt cluster)',
    'get k --print-value-only → 0 v',
    'get k --print-value-only --consistency=s → 0 v',
    'txn --interactive=false → 0 SUCCESS||k|v',
    'txn --interactive=false → 1  Error: etcdserver: corrupt cluster',
    '/health 503 "{\\"health\\":\\"false\\"}\\n"',
    'alarm disarm → 0 alarm:CORRUPT',
    'alarm list → 0',
    'put k v3 → 0 OK',
    '/health 200 "{\\"health\\":\\"true\\"}"',
  ]);
  expect(seen[SUBJECT]).toEqual(seen['etcd']);
}, 120_000);
