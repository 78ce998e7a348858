/**
 * The auth token of a call, from its metadata as etcd 3.4 reads it: `token` (what clientv3
 * sends), else `authorization` (the JSON gateway's header).
 */
import type { Metadata } from '@grpc/grpc-js';

export function tokenOf(metadata: Metadata | undefined): string | undefined {
  if (metadata === undefined) return undefined;
  const value = metadata.get('token')[0] ?? metadata.get('authorization')[0];
  return value === undefined ? undefined : typeof value === 'string' ? value : value.toString('utf8');
}
