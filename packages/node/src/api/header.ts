/**
 * The ResponseHeader every etcd response carries: cluster id, member id, the store revision the
 * answer reflects, and the Raft term. Services fill it here, in one place.
 */
import type { etcdserverpb } from '@corvid/proto';

export interface MemberIdentity {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  /** The current Raft term. */
  raftTerm(): bigint;
}

export function responseHeader(identity: MemberIdentity, revision: bigint): etcdserverpb.ResponseHeader {
  return { clusterId: identity.clusterId, memberId: identity.memberId, revision, raftTerm: identity.raftTerm() };
}

/** Completes the header a store response carries (the store sets only the revision). */
export function withHeader<T extends { header: etcdserverpb.ResponseHeader | undefined }>(identity: MemberIdentity, response: T): T {
  response.header = responseHeader(identity, response.header?.revision ?? 0n);
  return response;
}
