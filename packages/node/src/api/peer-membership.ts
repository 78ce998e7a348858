/**
 * corvidpb.Membership on the peer port: what a joining member asks a peer (which cluster is this,
 * who is in it), and MemberPromote forwarded from a follower to the leader. The client half
 * makes those calls to another member's peer URLs.
 */
import { credentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { corvidpb } from '@corvid/proto';
import type { Member } from '../cluster/index.js';
import { CorvidError } from '../errors/index.js';
import type { MembershipManager } from '../server/membership-manager.js';
import { fromServiceError, toServiceError } from './errors.js';

export interface MembershipPeerDeps {
  readonly clusterId: bigint;
  readonly membership: Pick<MembershipManager, 'list' | 'promoteOnLeader'>;
}

export function createMembershipPeerService(deps: MembershipPeerDeps): corvidpb.MembershipServer {
  return {
    cluster: (_call, callback) => {
      callback(null, { clusterId: deps.clusterId, members: deps.membership.list() });
    },
    promote: (call, callback) => {
      deps.membership.promoteOnLeader(call.request.id).then(
        (members) => callback(null, { clusterId: deps.clusterId, members }),
        (err: unknown) => callback(toServiceError(err).error, null),
      );
    },
  };
}

/** How long one peer may take to answer before the next URL is tried. */
const PEER_CALL_TIMEOUT_MS = 5000;

function call<T>(url: string, channel: ChannelCredentials, run: (client: InstanceType<typeof corvidpb.MembershipClient>, deadline: Date, done: (err: ServiceError | null, res?: T) => void) => void): Promise<T> {
  const client = new corvidpb.MembershipClient(new URL(url).host, channel);
  return new Promise<T>((resolve, reject) => {
    run(client, new Date(Date.now() + PEER_CALL_TIMEOUT_MS), (err, res) => {
      client.close();
      if (err !== null || res === undefined) reject(err ?? new Error('empty answer'));
      else resolve(res);
    });
  });
}

/** Asks each URL in turn for the cluster it belongs to; the first answer wins. */
export async function fetchCluster(peerUrls: readonly string[], channel: ChannelCredentials = credentials.createInsecure()): Promise<corvidpb.ClusterResponse> {
  for (const url of peerUrls) {
    try {
      return await call<corvidpb.ClusterResponse>(url, channel, (c, deadline, done) => c.cluster({}, new Metadata(), { deadline }, done));
    } catch {
      // try the next URL
    }
  }
  throw new CorvidError('Unhealthy', { detail: `could not retrieve cluster information from the given URLs: ${peerUrls.join(',')}` });
}

/** MemberPromote on the leader, answered with the leader's own error if it refuses. */
export async function forwardPromote(leader: Member, id: bigint, channel: ChannelCredentials = credentials.createInsecure()): Promise<Member[]> {
  let last: unknown = new CorvidError('NoLeader');
  for (const url of leader.peerURLs) {
    try {
      const res = await call<corvidpb.ClusterResponse>(url, channel, (c, deadline, done) => c.promote({ id }, new Metadata(), { deadline }, done));
      return res.members;
    } catch (err) {
      last = err;
      const code = (err as Partial<ServiceError>).code;
      if (code !== undefined && code !== 14 /* UNAVAILABLE: try the next URL */) break;
    }
  }
  throw last instanceof CorvidError ? last : fromServiceError(last as Partial<ServiceError>);
}
