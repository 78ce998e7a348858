// Goal: restoreSnapshot builds one member of a new multi-member cluster from a snapshot file: the
// backend's membership is exactly the --initial-cluster founders, the WAL holds this member's id
// and the new cluster id, and with --wal-dir the WAL lives in that directory (as etcdctl puts it
// there), reached through <data-dir>/member/wal.
// Method: a snapshot file made as Maintenance.Snapshot makes one (a backend copy plus its SHA-256),
// restored into temp dirs; the result is read back with Backend, MembershipStore and Wal.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from '@jest/globals';
import { MembershipStore, resolveInitialCluster } from '../../src/cluster/index.js';
import { Wal } from '../../src/raft-driver/index.js';
import { restoreSnapshot } from '../../src/server/snapshot-restore.js';
import { Backend } from '../../src/storage/index.js';

const work = mkdtempSync(join(tmpdir(), 'corvid-restore-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A snapshot file of an empty backend: the LMDB copy, then the SHA-256 of it. */
async function snapshotFile(): Promise<string> {
  const backend = Backend.open({ dataDir: join(work, 'source') });
  mkdirSync(join(work, 'copy'));
  const db = await backend.copyTo(join(work, 'copy'));
  await backend.close();
  const body = readFileSync(db);
  const file = join(work, 'snap.db');
  writeFileSync(file, Buffer.concat([body, createHash('sha256').update(body).digest()]));
  return file;
}

const initialCluster = [
  { name: 'm0', peerUrls: ['http://127.0.0.1:31500'] },
  { name: 'm1', peerUrls: ['http://127.0.0.1:31501'] },
  { name: 'm2', peerUrls: ['http://127.0.0.1:31502'] },
];

it('restores m1 of a new 3-member cluster, its WAL in --wal-dir', async () => {
  const snapshotPath = await snapshotFile();
  const dataDir = join(work, 'm1');
  const walDir = join(work, 'm1-wal');
  const config = {
    name: 'm1', dataDir, walDir, initialCluster, initialClusterToken: 'restored', initialAdvertisePeerUrls: ['http://127.0.0.1:31501'],
  };
  const result = await restoreSnapshot({ snapshotPath, skipHashCheck: false, config });
  const expected = resolveInitialCluster(config);
  expect(result.memberId).toBe(expected.self.id);
  expect(result.clusterId).toBe(expected.clusterId);

  expect(lstatSync(join(dataDir, 'member', 'wal')).isSymbolicLink()).toBe(true);
  expect(realpathSync(join(dataDir, 'member', 'wal'))).toBe(realpathSync(walDir));
  const wal = Wal.open({ dataDir });
  try {
    expect(wal.identity()).toEqual({ memberId: expected.self.id, clusterId: expected.clusterId });
  } finally {
    await wal.close();
  }
  const backend = Backend.open({ dataDir });
  try {
    const members = new MembershipStore(backend).list();
    expect(members.map((m) => `${m.name} ${m.ID.toString(16)} ${m.peerURLs.join(',')} ${String(m.isLearner)}`).sort())
      .toEqual(expected.members.map((m) => `${m.name} ${m.id.toString(16)} ${m.peerUrls.join(',')} false`).sort());
  } finally {
    await backend.close();
  }
});
