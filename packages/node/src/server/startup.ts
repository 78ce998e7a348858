/**
 * Who this member is and which cluster it starts in, decided once as etcd decides it:
 * - a data dir that has an identity keeps it (--initial-cluster* are then ignored, as etcd does);
 * - `--initial-cluster-state new`: the ids come from the peer URLs and the token
 *   (cluster/bootstrap.ts); the founders are written into the membership and the WAL starts from
 *   the founding snapshot holding them as voters;
 * - `--initial-cluster-state existing`: a peer is asked for the cluster; --initial-cluster must
 *   list exactly its members (the new one, added with MemberAdd, included), and this member's id
 *   is the one MemberAdd gave it. Its log starts empty: the leader sends it a snapshot.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { BootstrapError, formatId, resolveInitialCluster, type Member, type MembershipStore } from '../cluster/index.js';
import type { Config } from '../config/index.js';
import { bootstrapWal, type Wal, type WalIdentity } from '../raft-driver/index.js';
import type { Backend } from '../storage/index.js';
import type { Logger } from '../util/logger.js';

export interface RemoteCluster {
  readonly clusterId: bigint;
  readonly members: readonly Member[];
}

export interface StartupDeps {
  readonly config: Config;
  readonly wal: Wal;
  readonly backend: Backend;
  readonly members: MembershipStore;
  readonly appliedIndex: number;
  readonly logger: Logger;
  /** Asks the members at these peer URLs for their cluster (the first to answer). */
  readonly fetchCluster: (peerUrls: readonly string[]) => Promise<RemoteCluster>;
}

export interface StartupPlan {
  readonly identity: WalIdentity;
  /** The cluster a joiner asked about: its peers until a snapshot brings the membership. */
  readonly remoteMembers: readonly Member[];
}

const sameUrls = (a: readonly string[], b: readonly string[]): boolean => [...a].sort().join(',') === [...b].sort().join(',');

function otherPeerUrls(config: Config): string[] {
  return config.initialCluster.filter((m) => m.name !== config.name).flatMap((m) => m.peerUrls);
}

export async function planStartup(deps: StartupDeps): Promise<StartupPlan> {
  const { config, wal, members, logger } = deps;
  const saved = wal.identity();
  if (saved !== undefined) {
    if (!members.isEmpty()) return { identity: saved, remoteMembers: [] };
    // A joiner restarted before its snapshot arrived: it still needs to know where its peers are.
    try {
      return { identity: saved, remoteMembers: (await deps.fetchCluster(otherPeerUrls(config))).members };
    } catch (err) {
      logger.warn('cannot reach the cluster to learn its members; waiting to be contacted', { error: err });
      return { identity: saved, remoteMembers: [] };
    }
  }
  const plan = config.initialClusterState === 'existing' ? await join(deps) : await found(deps);
  wal.saveIdentity(plan.identity);
  return plan;
}

async function found({ config, wal, backend, members, appliedIndex, fetchCluster }: StartupDeps): Promise<StartupPlan> {
  const bootstrap = resolveInitialCluster(config);
  // etcd's isMemberBootstrapped: a member that already served this cluster (it published client
  // URLs) must not found it again from an empty data dir — it could vote twice in one term.
  const remote = await fetchCluster(otherPeerUrls(config)).catch(() => undefined);
  const published = remote?.members.find((m) => m.ID === bootstrap.self.id && m.clientURLs.length > 0);
  if (remote?.clusterId === bootstrap.clusterId && published !== undefined) {
    throw new BootstrapError(`member ${formatId(bootstrap.self.id)} has already been bootstrapped`);
  }
  const founders: Member[] = bootstrap.members.map((m) => ({ ID: m.id, name: m.name, peerURLs: [...m.peerUrls], clientURLs: [], isLearner: false }));
  if (members.isEmpty()) backend.writeSync((txn) => members.seed(txn, founders));
  // A data dir written before clustering has an applied index but no WAL: its log starts after it.
  bootstrapWal(wal, founders.map((m) => m.ID), Math.max(1, appliedIndex));
  return { identity: { memberId: bootstrap.self.id, clusterId: bootstrap.clusterId }, remoteMembers: [] };
}

/** etcd's GetClusterFromRemotePeers + ValidateClusterAndAssignIDs. */
async function join({ config, fetchCluster }: StartupDeps): Promise<StartupPlan> {
  const urls = otherPeerUrls(config);
  let remote: RemoteCluster;
  try {
    remote = await fetchCluster(urls);
  } catch {
    throw new BootstrapError(`cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs (${urls.join(',')})`);
  }
  const clusterName = formatId(remote.clusterId);
  if (remote.members.length !== config.initialCluster.length) {
    throw new BootstrapError(`error validating peerURLs ${clusterName}: member count is unequal`);
  }
  for (const local of config.initialCluster) {
    if (!remote.members.some((m) => sameUrls(m.peerURLs, local.peerUrls))) {
      throw new BootstrapError(`error validating peerURLs ${clusterName}: unmatched member while checking PeerURLs (${local.peerUrls.join(',')})`);
    }
  }
  const self = remote.members.find((m) => sameUrls(m.peerURLs, config.initialAdvertisePeerUrls));
  if (self === undefined) throw new BootstrapError(`couldn't find local name "${config.name}" in the initial cluster configuration`);
  if (self.name !== '') throw new BootstrapError(`member ${formatId(self.ID)} has already been bootstrapped`);
  return { identity: { memberId: self.ID, clusterId: remote.clusterId }, remoteMembers: remote.members };
}

/**
 * Removes what an earlier run left behind: received snapshot files (installed, refused as stale, or
 * half-received `.part` files) and the backend copies made to send to followers. Called once the
 * raft driver has installed the snapshot its WAL may still be waiting for.
 */
export function removeSnapshotLeftovers(memberDir: string, snapshotDir: string): void {
  for (const name of existsSync(snapshotDir) ? readdirSync(snapshotDir) : []) rmSync(joinPath(snapshotDir, name), { force: true });
  for (const name of readdirSync(memberDir)) {
    if (name.startsWith('snap-out-') || name.startsWith('snapshot-')) rmSync(joinPath(memberDir, name), { recursive: true, force: true });
  }
}
