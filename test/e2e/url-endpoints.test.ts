/**
 * Goal: etcdctl 3.4 with its endpoints written as URLs (`--endpoints http://127.0.0.1:PORT`) can
 * run the Maintenance commands that dial the URL as given and so send `:authority:
 * http://127.0.0.1:PORT` (etcd issue #13192), which Node's HTTP/2 layer refuses unless the client
 * listener rewrites it (packages/node/src/api/h2/authority-fix.ts); and ordinary grpc-js clients
 * on the same port, whose connections are handed over untouched, keep working alongside.
 * Method: one real member on 127.0.0.1; etcdctl `endpoint status -w json`, `endpoint hashkv` and
 * `snapshot save` with a URL endpoint, checked for success and values that agree with the same
 * commands through a host:port endpoint and with a grpc-js client's view.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { etcdctl } from '../harness/etcdctl.js';
import { bytes, kvClient, maintenanceClient } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT, freePort, type Member } from '../harness/processes.js';

const SHA256_BYTES = 32;

const group = new ProcessGroup();
let member: Member;
beforeAll(async () => {
  // A fixed client port, so the advertised client URL that `--cluster` dials is the real one.
  member = await group.start(SUBJECT, { clientPort: await freePort() });
});
afterAll(async () => {
  await group.cleanup();
});

interface EndpointStatus {
  Endpoint: string;
  Status: { header: { member_id: number; revision: number }; version: string; dbSize: number; leader: number; raftIndex: number };
}

test('endpoint status -w json answers through a URL endpoint, as through host:port', async () => {
  const viaUrl = await etcdctl(member.clientUrl, ['endpoint', 'status', '-w', 'json']);
  expect(viaUrl).toMatchObject({ code: 0, stderr: '' });
  const [status] = JSON.parse(viaUrl.stdout) as EndpointStatus[];
  expect(status?.Endpoint).toBe(member.clientUrl);
  expect(status?.Status.version).toMatch(/^3\.4\./);
  expect(status?.Status.header.member_id).toBeGreaterThan(0);
  expect(status?.Status.leader).toBe(status?.Status.header.member_id);
  expect(status?.Status.raftIndex).toBeGreaterThan(0);
  expect(status?.Status.dbSize).toBeGreaterThan(0);

  const [plain] = JSON.parse((await etcdctl(member.endpoint, ['endpoint', 'status', '-w', 'json'])).stdout) as EndpointStatus[];
  expect(plain?.Status.header.member_id).toBe(status?.Status.header.member_id);

  const cluster = await etcdctl(member.clientUrl, ['endpoint', 'status', '--cluster']);
  expect(cluster).toMatchObject({ code: 0, stderr: '' });
  expect(cluster.stdout).toContain(`${member.clientUrl}, `);
});

test('endpoint hashkv through a URL endpoint matches the hash through host:port', async () => {
  const kv = kvClient(member.endpoint);
  try {
    for (let i = 0; i < 20; i++) await kv.put({ key: bytes(`url/${i}`), value: bytes(`v${i}`) });
  } finally {
    kv.close();
  }
  const viaUrl = await etcdctl(member.clientUrl, ['endpoint', 'hashkv']);
  expect(viaUrl.code).toBe(0);
  const match = /^(\S+), (\d+)\n$/.exec(viaUrl.stdout);
  expect(match?.[1]).toBe(member.clientUrl);
  expect(Number(match?.[2])).toBeGreaterThan(0);
  const plain = await etcdctl(member.endpoint, ['endpoint', 'hashkv']);
  expect(plain.stdout).toBe(`${member.endpoint}, ${match?.[2]}\n`);
});

test('snapshot save through a URL endpoint writes a file whose trailer checks', async () => {
  const file = join(await group.tempDir('corvid-url-snapshot-'), 'snap.db');
  const saved = await etcdctl(member.clientUrl, ['snapshot', 'save', file]);
  expect(saved.code).toBe(0);
  expect(saved.stdout).toBe(`Snapshot saved at ${file}\n`);
  const blob = readFileSync(file);
  expect(blob.length).toBeGreaterThan(SHA256_BYTES);
  const body = blob.subarray(0, blob.length - SHA256_BYTES);
  expect(createHash('sha256').update(body).digest().equals(blob.subarray(blob.length - SHA256_BYTES))).toBe(true);
});

test('a grpc-js client on the same port works while etcdctl uses a URL endpoint', async () => {
  const kv = kvClient(member.endpoint);
  const maintenance = maintenanceClient(member.endpoint);
  try {
    const [status, put] = await Promise.all([
      etcdctl(member.clientUrl, ['endpoint', 'status', '-w', 'json']),
      (async () => {
        let last = await kv.put({ key: bytes('url/side'), value: bytes('0') });
        for (let i = 1; i < 50; i++) last = await kv.put({ key: bytes('url/side'), value: bytes(String(i)) });
        return last;
      })(),
    ]);
    expect(status.code).toBe(0);
    const range = await kv.range({ key: bytes('url/side') });
    expect(range.kvs[0]?.value.toString()).toBe('49');
    expect(range.header?.revision).toBe(put.header?.revision);
    const viaGrpc = await maintenance.status();
    expect(viaGrpc.header?.revision).toBe(range.header?.revision);
  } finally {
    kv.close();
    maintenance.close();
  }
});
