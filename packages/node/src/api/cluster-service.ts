/**
 * etcdserverpb.Cluster: MemberList from the applied membership; MemberAdd, MemberRemove,
 * MemberUpdate and MemberPromote through the MembershipManager (server/), which runs etcd's
 * safety checks and proposes the change. Responses as etcd's v3rpc/member.go builds them.
 */
import type { etcdserverpb } from '@corvid/proto';
import type { AuthGate } from '../auth/index.js';
import type { MembershipManager } from '../server/membership-manager.js';
import { identifyCall, type CallLike } from './auth-caller.js';
import { responseHeader, type MemberIdentity } from './header.js';
import { unary, type ServiceMethods, type UnaryContext } from './unary.js';

export interface ClusterServiceDeps {
  readonly identity: MemberIdentity;
  readonly membership: MembershipManager;
  /** Membership changes need the root role once auth is on (etcd's checkMembershipOperationPermission). */
  readonly auth?: AuthGate;
}

const SERVICE = 'etcdserverpb.Cluster';

export function createClusterService(
  ctx: UnaryContext,
  deps: ClusterServiceDeps,
): ServiceMethods<etcdserverpb.ClusterServer, 'memberList' | 'memberAdd' | 'memberRemove' | 'memberUpdate' | 'memberPromote'> {
  const { identity, membership } = deps;
  // etcd's cluster header carries no revision (v3rpc/member.go).
  const header = (): etcdserverpb.ResponseHeader => responseHeader(identity, 0n);
  const checkRoot = (call: CallLike): void => deps.auth?.checkAdmin(identifyCall(deps.auth, call));
  return {
    memberList: unary(ctx, SERVICE, 'MemberList', (): etcdserverpb.MemberListResponse => ({ header: header(), members: membership.list() })),
    memberAdd: unary(ctx, SERVICE, 'MemberAdd', async (request: etcdserverpb.MemberAddRequest, call): Promise<etcdserverpb.MemberAddResponse> => {
      checkRoot(call);
      const { member, members } = await membership.add(request.peerURLs, request.isLearner);
      // etcd answers with the new member's id, peer URLs and learner flag only (it has no name yet).
      return { header: header(), member: { ID: member.ID, name: '', peerURLs: member.peerURLs, clientURLs: [], isLearner: member.isLearner }, members };
    }),
    memberRemove: unary(ctx, SERVICE, 'MemberRemove', async (request: etcdserverpb.MemberRemoveRequest, call): Promise<etcdserverpb.MemberRemoveResponse> => {
      checkRoot(call);
      return { header: header(), members: await membership.remove(request.ID) };
    }),
    memberUpdate: unary(ctx, SERVICE, 'MemberUpdate', async (request: etcdserverpb.MemberUpdateRequest, call): Promise<etcdserverpb.MemberUpdateResponse> => {
      checkRoot(call);
      return { header: header(), members: await membership.update(request.ID, request.peerURLs) };
    }),
    memberPromote: unary(ctx, SERVICE, 'MemberPromote', async (request: etcdserverpb.MemberPromoteRequest, call): Promise<etcdserverpb.MemberPromoteResponse> => {
      checkRoot(call);
      return { header: header(), members: await membership.promote(request.ID) };
    }),
  };
}
