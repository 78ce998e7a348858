/**
 * `corvid snapshot restore` (etcd's `etcdctl snapshot restore`): builds a member's data dir from a
 * snapshot file — the same keys and revisions, a new cluster identity. The backend is the
 * snapshot's LMDB file; its membership is replaced by the new cluster's founders; the WAL starts
 * from the founding snapshot at the backend's applied index and the identity is saved, so the
 * member starts with no further flags (as with etcd, --initial-cluster* are then ignored). Every
 * member of the new cluster restores the same file with its own --name.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveInitialCluster, type Member, MembershipStore } from '../cluster/index.js';
import type { Config } from '../config/index.js';
import { bootstrapWal, Wal } from '../raft-driver/index.js';
import { Backend } from '../storage/index.js';
import { extractSnapshotDb, SnapshotFileError, verifySnapshotFile } from '../storage/snapshot-file.js';
import { META_APPLIED_INDEX, decodeMetaInt } from '../storage/schema.js';
import { linkWalDir } from './wal-dir.js';

export interface RestoreOptions {
  readonly snapshotPath: string;
  readonly skipHashCheck: boolean;
  /** --name, --data-dir, --wal-dir, --initial-cluster, --initial-cluster-token, --initial-advertise-peer-urls. */
  readonly config: Pick<Config, 'name' | 'dataDir' | 'walDir' | 'initialCluster' | 'initialClusterToken' | 'initialAdvertisePeerUrls'>;
  readonly onProgress?: (phase: 'verify' | 'copy', done: number, total: number) => void;
}

export interface RestoreResult {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly appliedIndex: number;
}

export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreResult> {
  const { config } = options;
  const cluster = resolveInitialCluster(config);
  if (existsSync(config.dataDir)) throw new SnapshotFileError(`data-dir "${config.dataDir}" exists`);
  // etcdctl's check too: a WAL already there would keep its old hard state and entries beside the new store.
  if (config.walDir !== '' && existsSync(config.walDir)) throw new SnapshotFileError(`wal-dir "${config.walDir}" exists`);
  const file = await verifySnapshotFile(options.snapshotPath, options.skipHashCheck, (done, total) => options.onProgress?.('verify', done, total));
  const dbDir = join(config.dataDir, 'member', 'db');
  mkdirSync(dbDir, { recursive: true });
  options.onProgress?.('copy', 0, file.dbBytes);
  await extractSnapshotDb(file, join(dbDir, 'data.mdb'));
  options.onProgress?.('copy', file.dbBytes, file.dbBytes);

  // As etcdctl's --wal-dir: the WAL goes there; the member is then started with the same --wal-dir.
  linkWalDir(config.dataDir, config.walDir);
  const backend = Backend.open({ dataDir: config.dataDir });
  const wal = Wal.open({ dataDir: config.dataDir });
  try {
    const members = new MembershipStore(backend);
    const founders: Member[] = cluster.members.map((m) => ({ ID: m.id, name: m.name, peerURLs: [...m.peerUrls], clientURLs: [], isLearner: false }));
    backend.writeSync((txn) => members.replaceAll(txn, founders));
    const appliedIndex = Math.max(1, decodeMetaInt(backend.meta.get(META_APPLIED_INDEX), 0));
    bootstrapWal(wal, founders.map((m) => m.ID), appliedIndex);
    wal.saveIdentity({ memberId: cluster.self.id, clusterId: cluster.clusterId });
    return { memberId: cluster.self.id, clusterId: cluster.clusterId, appliedIndex };
  } finally {
    await wal.close();
    await backend.close();
  }
}
