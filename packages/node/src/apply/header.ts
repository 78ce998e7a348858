/** Response headers made by the applier: only the revision; the server fills the rest. */
import type { etcdserverpb } from '@corvid/proto';

export function revisionHeader(revision: number): etcdserverpb.ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision: BigInt(revision), raftTerm: 0n };
}
