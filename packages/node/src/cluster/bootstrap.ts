/**
 * The cluster a new member bootstraps from --initial-cluster, checked as etcd 3.4 checks it
 * (etcdmain and etcdserver/cluster.go): the local name must be listed, with exactly the URLs of
 * --initial-advertise-peer-urls, and no peer URL may appear twice. Ids come from identity.ts, so
 * they equal etcd's.
 */
import type { Config } from '../config/index.js';
import { computeClusterId, computeMemberId } from './identity.js';

export interface BootstrapMember {
  readonly id: bigint;
  readonly name: string;
  readonly peerUrls: readonly string[];
}

export interface BootstrapCluster {
  readonly clusterId: bigint;
  readonly self: BootstrapMember;
  readonly members: readonly BootstrapMember[];
}

/** A start-up refusal with etcd's own words; the command logs it and exits 1. */
export class BootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapError';
  }
}

export function resolveInitialCluster(config: Pick<Config, 'name' | 'initialCluster' | 'initialAdvertisePeerUrls' | 'initialClusterToken'>): BootstrapCluster {
  const members = config.initialCluster.map((m) => ({ id: computeMemberId(m.peerUrls, config.initialClusterToken), name: m.name, peerUrls: m.peerUrls }));
  const self = members.find((m) => m.name === config.name);
  if (self === undefined) throw new BootstrapError(`couldn't find local name "${config.name}" in the initial cluster configuration`);
  const listed = [...self.peerUrls].sort().join(',');
  const advertised = [...config.initialAdvertisePeerUrls].sort().join(',');
  if (listed !== advertised) {
    throw new BootstrapError(
      `--initial-cluster has ${config.name}=${self.peerUrls.join(',')} but missing from --initial-advertise-peer-urls=${config.initialAdvertisePeerUrls.join(',')} (resolved urls: "${advertised}" != "${listed}")`,
    );
  }
  // etcd's checkDuplicateURL: two ids on one URL would let a member count itself twice towards a quorum.
  const urls = members.flatMap((m) => m.peerUrls);
  if (new Set(urls).size !== urls.length) throw new BootstrapError(`initial cluster ${urlsMapString(members)} has duplicate url`);
  return { clusterId: computeClusterId(members.map((m) => m.id)), self, members };
}

/** etcd's types.URLsMap.String(): every name=url pair, sorted. */
function urlsMapString(members: readonly BootstrapMember[]): string {
  return members.flatMap((m) => m.peerUrls.map((u) => `${m.name}=${u}`)).sort().join(',');
}
