// --target-leader: asks each endpoint for Maintenance.Status and picks the one whose member id is the leader's, so
// a run measures the leader alone (etcd benchmark's --target-leader).
import grpc from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';

function status(endpoint: string): Promise<etcdserverpb.StatusResponse> {
  const client = new etcdserverpb.MaintenanceClient(endpoint, grpc.credentials.createInsecure());
  return new Promise<etcdserverpb.StatusResponse>((resolve, reject) => {
    client.status({}, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, r) => (err === null ? resolve(r) : reject(err)));
  }).finally(() => client.close());
}

export async function findLeader(endpoints: readonly string[]): Promise<string> {
  for (const endpoint of endpoints) {
    try {
      const r = await status(endpoint);
      if (r.leader !== 0n && r.leader === r.header?.memberId) return endpoint;
    } catch (err) {
      if (!(err instanceof Error)) throw err; // an unreachable member cannot be the one we want
    }
  }
  throw new Error(`--target-leader: no leader among ${endpoints.join(',')}`);
}
