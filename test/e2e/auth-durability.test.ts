/**
 * Goal: auth state is durable and travels with the store — users, roles, grants and the auth switch survive a
 * SIGTERM restart, a SIGKILL restart and a snapshot restored into a new member; with auth on, the leader still
 * expires leases whose keys the owner of no token could write (its revokes are made as root); a snapshot may be
 * saved by root only.
 * Method: one SUBJECT member (etcd under CORVID_TEST_SUBJECT=etcd, which proves the test): etcdctl 3.4 sets auth up,
 * then the same set of etcdctl reads (as root, as alice, and without a user) must print the same after each restart
 * and on the restored member.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdctl, ETCDCTL_BIN } from '../harness/etcdctl.js';
import { maskResult } from '../harness/mask.js';
import { CORVID_MAIN, freePort, ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const group = new ProcessGroup();
const work = mkdtempSync(join(tmpdir(), 'corvid-auth-durability-'));
afterAll(async () => {
  await group.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const ROOT = ['--user', 'root:rootpw'];
const ALICE = ['--user', 'alice:apw'];

async function ok(member: Member, args: readonly string[]): Promise<string> {
  const r = await etcdctl(member.endpoint, args);
  if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** What a user sees of the auth state: each read's masked output. */
async function authView(member: Member): Promise<string> {
  const reads: ReadonlyArray<readonly string[]> = [
    [...ROOT, 'user', 'list'],
    [...ROOT, 'role', 'list'],
    [...ROOT, 'user', 'get', 'alice', '--detail'],
    [...ALICE, 'get', '/app/', '--prefix'],
    [...ALICE, 'put', '/other', 'x'],
    ['get', '/app/a'],
  ];
  const out: string[] = [];
  for (const args of reads) {
    const r = maskResult(await etcdctl(member.endpoint, args), []);
    out.push(`$ ${args.join(' ')}\n[${r.code}]\n${r.stdout}${r.stderr.replace(/^\{"level":"warn".*\n/gm, '')}`);
  }
  return out.join('\n');
}

async function setUp(member: Member): Promise<void> {
  await ok(member, ['user', 'add', 'root:rootpw']);
  await ok(member, ['auth', 'enable']);
  await ok(member, [...ROOT, 'user', 'add', 'alice:apw']);
  await ok(member, [...ROOT, 'role', 'add', 'app']);
  await ok(member, [...ROOT, 'role', 'grant-permission', 'app', 'readwrite', '/app/', '--prefix']);
  await ok(member, [...ROOT, 'user', 'grant-role', 'alice', 'app']);
  await ok(member, [...ALICE, 'put', '/app/a', '1']);
}

test(`auth survives restarts and a snapshot restore, and leases still expire (${SUBJECT})`, async () => {
  let member = await group.start(SUBJECT);
  await setUp(member);
  const before = await authView(member);
  expect(before).toContain('Role app');
  expect(before).toContain('/app/a\n1');
  expect(before).toContain('etcdserver: permission denied');
  expect(before).toContain('etcdserver: user name is empty');

  expect(await member.stop()).toBe(true);
  member = await group.restart(member);
  expect(await authView(member)).toEqual(before);

  await member.kill();
  member = await group.restart(member);
  expect(await authView(member)).toEqual(before);

  // A lease of alice's expires and takes its key with it: the leader revokes as root.
  const granted = await ok(member, [...ALICE, 'lease', 'grant', '3']);
  const leaseId = /lease ([0-9a-f]+) granted/.exec(granted)?.[1];
  expect(leaseId).toBeDefined();
  await ok(member, [...ALICE, 'put', '/app/leased', 'l', `--lease=${leaseId ?? ''}`]);
  expect(await ok(member, [...ROOT, 'get', '/app/leased'])).toBe('/app/leased\nl\n');
  await waitFor(async () => (await ok(member, [...ROOT, 'get', '/app/leased'])) === '', 15_000, 'the leased key to go with its lease');

  // Snapshots are root's; the restored member has the same users, roles and switch.
  const file = join(work, 'auth.db');
  const refused = await etcdctl(member.endpoint, [...ALICE, 'snapshot', 'save', file]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('auth: permission denied');
  expect((await ok(member, [...ROOT, 'snapshot', 'save', file])).trim()).toBe(`Snapshot saved at ${file}`);
  const dataDir = join(work, 'restored');
  const peerPort = await freePort();
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const restoreArgs = ['snapshot', 'restore', file, '--name', 'restored', '--data-dir', dataDir,
    '--initial-cluster', `restored=${peerUrl}`, '--initial-cluster-token', 'restored-cluster', '--initial-advertise-peer-urls', peerUrl];
  const restore = SUBJECT === 'etcd'
    ? spawnSync(ETCDCTL_BIN, restoreArgs, { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, timeout: 30_000 })
    : spawnSync(process.execPath, [CORVID_MAIN, ...restoreArgs], { encoding: 'utf8', timeout: 30_000 });
  expect(restore.status).toBe(0);
  const restored = await group.start(SUBJECT, { dataDir, name: 'restored', peerPort, initialClusterToken: 'restored-cluster' });
  expect(await authView(restored)).toEqual(before);
}, 120_000);
