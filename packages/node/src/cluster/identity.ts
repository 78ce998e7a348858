/**
 * Member and cluster ids derived exactly as etcd derives them, so a member started with the same
 * flags as an etcd member gets the same ids (the default member is 8e9e05c52164694d in cluster
 * cdf818194e3a8c32, as with etcd).
 * - member id: first 8 bytes (big-endian) of sha1(sorted peer URLs joined + cluster token).
 * - cluster id: first 8 bytes of sha1(the member ids, sorted, each as 8 big-endian bytes).
 */
import { createHash } from 'node:crypto';

export function computeMemberId(peerUrls: readonly string[], clusterToken: string): bigint {
  const joined = [...peerUrls].sort().join('') + clusterToken;
  return createHash('sha1').update(joined).digest().readBigUInt64BE(0);
}

export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => bytes.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(bytes).digest().readBigUInt64BE(0);
}

/** etcd prints ids as lower-case hex without leading zeros. */
export function formatId(id: bigint): string {
  return id.toString(16);
}
