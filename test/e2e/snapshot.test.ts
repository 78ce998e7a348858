/**
 * Goal: `etcdctl snapshot save` works against Corvid as against etcd — the stream ends with the
 * SHA-256 of everything before it, which etcd's restore checks — and the file holds a consistent
 * store: `corvid snapshot restore` (etcd's flags) builds a data dir from it for a new cluster, whose
 * member serves every key with its revision, even though writes went on while the snapshot was
 * taken. `corvid snapshot status` reports it as etcdctl does; a corrupted or truncated file is
 * refused with etcdctl's message and exit code.
 * Method: a real member on 127.0.0.1; etcdctl 3.4 saves the snapshot while a writer keeps
 * putting; the file's trailer is checked, the file restored with the built `corvid` command, a
 * member started on the restored dir, and its keys compared with the source's at the snapshot's
 * revision.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdctl } from '../harness/etcdctl.js';
import { bytes, kvClient, type KvApi } from '../harness/grpc.js';
import { CORVID_MAIN, freePort, ProcessGroup } from '../harness/processes.js';

const KEYS = 300;
const SHA256_BYTES = 32;

const group = new ProcessGroup();
const work = mkdtempSync(join(tmpdir(), 'corvid-snapshot-test-'));
afterAll(async () => {
  await group.cleanup();
  rmSync(work, { recursive: true, force: true });
});

async function keysAt(kv: KvApi, revision: bigint): Promise<string[]> {
  const res = await kv.range({ key: bytes('snap/'), rangeEnd: bytes('snap0'), revision });
  return res.kvs.map((e) => `${e.key.toString()}=${e.value.toString()}@${e.modRevision}`);
}

test('a snapshot saved under writes restores to a member serving the same keys', async () => {
  const source = await group.start('corvid');
  const kv = kvClient(source.endpoint);
  let restoredKv: KvApi | undefined;
  try {
    for (let i = 0; i < KEYS; i++) await kv.put({ key: bytes(`snap/${String(i).padStart(4, '0')}`), value: Buffer.alloc(512, i % 256) });
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing && i < 10_000; i++) await kv.put({ key: bytes('busy'), value: bytes(String(i)) });
    })();
    const file = join(work, 'snap.db');
    const saved = await etcdctl(source.endpoint, ['snapshot', 'save', file]);
    writing = false;
    await writer;
    expect(saved.code).toBe(0);
    expect(saved.stdout).toBe(`Snapshot saved at ${file}\n`);

    const blob = readFileSync(file);
    const body = blob.subarray(0, blob.length - SHA256_BYTES);
    expect(createHash('sha256').update(body).digest().equals(blob.subarray(blob.length - SHA256_BYTES))).toBe(true);

    const status = corvid(['snapshot', 'status', file, '-w', 'json']);
    expect(status.code).toBe(0);
    const info = JSON.parse(status.stdout) as { hash: number; revision: number; totalKey: number; totalSize: number };
    expect(info.totalSize).toBe(body.length);
    expect(info.revision).toBeGreaterThanOrEqual(KEYS + 1);
    expect(info.totalKey).toBeGreaterThan(KEYS);

    const dataDir = join(work, 'restored');
    const peerPort = await freePort();
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const restore = corvid(['snapshot', 'restore', file, '--name', 'restored', '--data-dir', dataDir,
      '--initial-cluster', `restored=${peerUrl}`, '--initial-cluster-token', 'restored-cluster', '--initial-advertise-peer-urls', peerUrl]);
    expect(restore.code).toBe(0);
    expect(restore.stderr).toContain('"msg":"restored snapshot"');
    const restored = await group.start('corvid', { dataDir, name: 'restored', peerPort, initialClusterToken: 'restored-cluster' });
    restoredKv = kvClient(restored.endpoint);
    const restoredRange = await restoredKv.range({ key: bytes('snap/'), rangeEnd: bytes('snap0') });
    const revision = restoredRange.header?.revision ?? 0n;
    expect(revision).toBeGreaterThanOrEqual(BigInt(KEYS + 1));
    expect(restoredRange.kvs).toHaveLength(KEYS);
    // The snapshot is the source's store as of one revision, key for key.
    expect(revision).toBe(BigInt(info.revision));
    expect(await keysAt(restoredKv, revision)).toEqual(await keysAt(kv, revision));
    // A new cluster: a new identity, the restored member its only member.
    expect(restoredRange.header?.clusterId).not.toBe((await kv.range({ key: bytes('x') })).header?.clusterId);

    // A flipped byte, a truncated file: refused as etcdctl refuses them, and no data dir is left half-made.
    const corrupt = Buffer.from(blob);
    corrupt[5000] = (corrupt[5000] ?? 0) ^ 0xff;
    writeFileSync(join(work, 'corrupt.db'), corrupt);
    const bad = corvid(['snapshot', 'restore', join(work, 'corrupt.db'), '--data-dir', join(work, 'bad')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}$/m);
    writeFileSync(join(work, 'short.db'), blob.subarray(0, 10_000));
    const short = corvid(['snapshot', 'restore', join(work, 'short.db'), '--data-dir', join(work, 'short')]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('Error: snapshot missing hash but --skip-hash-check=false');
  } finally {
    kv.close();
    restoredKv?.close();
  }
}, 60_000);

function corvid(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CORVID_MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
