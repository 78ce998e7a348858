/**
 * Goal: `etcdctl snapshot save` works against Corvid as against etcd — the stream ends with the
 * SHA-256 of everything before it, which etcd's restore checks — and the file holds a consistent
 * store: a member started on it serves every key with its revision, even though writes went on
 * while the snapshot was taken.
 * Method: a real member on 127.0.0.1; etcdctl 3.4 saves the snapshot while a writer keeps
 * putting; the file's trailer is checked, its body installed as a new member's data dir, and that
 * member's keys compared with the source's at the snapshot's revision.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdctl } from '../harness/etcdctl.js';
import { bytes, kvClient, type KvApi } from '../harness/grpc.js';
import { ProcessGroup } from '../harness/processes.js';

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

    const dataDir = join(work, 'restored');
    mkdirSync(join(dataDir, 'member', 'db'), { recursive: true });
    writeFileSync(join(dataDir, 'member', 'db', 'data.mdb'), body);
    const restored = await group.start('corvid', { dataDir });
    restoredKv = kvClient(restored.endpoint);
    const restoredRange = await restoredKv.range({ key: bytes('snap/'), rangeEnd: bytes('snap0') });
    const revision = restoredRange.header?.revision ?? 0n;
    expect(revision).toBeGreaterThanOrEqual(BigInt(KEYS + 1));
    expect(restoredRange.kvs).toHaveLength(KEYS);
    // The snapshot is the source's store as of one revision, key for key.
    expect(await keysAt(restoredKv, revision)).toEqual(await keysAt(kv, revision));
  } finally {
    kv.close();
    restoredKv?.close();
  }
}, 60_000);
