/**
 * etcdserverpb.Cluster: MemberList for the single member. MemberAdd/Remove/Update/Promote answer
 * UNIMPLEMENTED until clustering (#4) lands.
 */
import type { etcdserverpb } from '@corvid/proto';
import { responseHeader, type MemberIdentity } from './header.js';
import { unary, type ServiceMethods, type UnaryContext } from './unary.js';

export interface ClusterServiceDeps {
  readonly identity: MemberIdentity;
  readonly members: () => etcdserverpb.Member[];
}

const SERVICE = 'etcdserverpb.Cluster';

export function createClusterService(ctx: UnaryContext, deps: ClusterServiceDeps): ServiceMethods<etcdserverpb.ClusterServer, 'memberList'> {
  return {
    memberList: unary(ctx, SERVICE, 'MemberList', (): etcdserverpb.MemberListResponse => ({
      // etcd's cluster header carries no revision (v3rpc/member.go).
      header: responseHeader(deps.identity, 0n),
      members: deps.members(),
    })),
  };
}
