/**
 * A raw gRPC Lease client for the lease suites (grant, revoke, time-to-live, leases, and one keepalive
 * round trip on a bidi stream), and the masks that make two members' lease output comparable: lease ids
 * (hex in etcdctl's text, decimal in its JSON) become <L1>, <L2>… in the order they were granted, the
 * remaining TTL becomes <remaining> (checked against a range by the suites), and etcd's attached-keys list,
 * printed in Go map order, is sorted.
 */
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';

type Req<T> = etcdserverpb.DeepPartial<T>;
type Callback<R> = (error: ServiceError | null, response: R) => void;
type UnaryMethod<Q, R> = (req: Q, meta: Metadata, opts: { deadline: Date }, cb: Callback<R>) => unknown;

const CALL_DEADLINE_MS = 5_000;

function unary<Q, R>(call: UnaryMethod<Q, R>, req: Q): Promise<R> {
  return new Promise((resolve, reject) => {
    call(req, new Metadata(), { deadline: new Date(Date.now() + CALL_DEADLINE_MS) }, (error, response) => {
      if (error !== null) reject(error);
      else resolve(response);
    });
  });
}

export interface LeaseApi {
  grant(req: Req<etcdserverpb.LeaseGrantRequest>): Promise<etcdserverpb.LeaseGrantResponse>;
  revoke(req: Req<etcdserverpb.LeaseRevokeRequest>): Promise<etcdserverpb.LeaseRevokeResponse>;
  timeToLive(req: Req<etcdserverpb.LeaseTimeToLiveRequest>): Promise<etcdserverpb.LeaseTimeToLiveResponse>;
  leases(): Promise<etcdserverpb.LeaseLeasesResponse>;
  /** Sends each id on one keepalive stream and returns the answers in order. */
  keepAlive(ids: readonly bigint[]): Promise<etcdserverpb.LeaseKeepAliveResponse[]>;
  close(): void;
}

export function leaseClient(endpoint: string): LeaseApi {
  const client = new etcdserverpb.LeaseClient(endpoint, credentials.createInsecure());
  return {
    grant: (req) => unary(client.leaseGrant.bind(client), etcdserverpb.LeaseGrantRequest.fromPartial(req)),
    revoke: (req) => unary(client.leaseRevoke.bind(client), etcdserverpb.LeaseRevokeRequest.fromPartial(req)),
    timeToLive: (req) => unary(client.leaseTimeToLive.bind(client), etcdserverpb.LeaseTimeToLiveRequest.fromPartial(req)),
    leases: () => unary(client.leaseLeases.bind(client), etcdserverpb.LeaseLeasesRequest.fromPartial({})),
    keepAlive: (ids) =>
      new Promise((resolve, reject) => {
        const stream = client.leaseKeepAlive(new Metadata(), { deadline: new Date(Date.now() + CALL_DEADLINE_MS) });
        const answers: etcdserverpb.LeaseKeepAliveResponse[] = [];
        stream.on('data', (res: etcdserverpb.LeaseKeepAliveResponse) => {
          answers.push(res);
          if (answers.length === ids.length) {
            stream.cancel();
            resolve(answers);
          }
        });
        stream.on('error', (err: ServiceError) => {
          if (answers.length < ids.length) reject(err);
        });
        for (const ID of ids) stream.write({ ID });
      }),
    close: () => client.close(),
  };
}

/** Replaces each granted lease id (hex and decimal forms) by <L1>, <L2>…, in grant order. */
export class LeaseIdMask {
  private readonly ids: bigint[] = [];

  add(id: bigint): string {
    this.ids.push(id);
    return `<L${this.ids.length}>`;
  }

  /** The id etcdctl printed in `lease <hex> granted with TTL(...)`. */
  addFromGrant(stdout: string): bigint | undefined {
    const hex = /lease ([0-9a-f]{16}) granted/.exec(stdout)?.[1];
    if (hex === undefined) return undefined;
    const id = BigInt(`0x${hex}`);
    this.add(id);
    return id;
  }

  apply(text: string): string {
    let out = text;
    this.ids.forEach((id, i) => {
      out = out.replaceAll(id.toString(16).padStart(16, '0'), `<L${i + 1}>`).replaceAll(id.toString(10), `<L${i + 1}>`);
    });
    return out
      .replace(/remaining\(-?\d+s\)/g, 'remaining(<n>s)')
      .replace(/"ttl":\d+,"granted-ttl"/g, '"ttl":<n>,"granted-ttl"')
      .replace(/attached keys\(\[([^\]]*)\]\)/g, (_m, keys: string) => `attached keys([${keys.split(' ').sort().join(' ')}])`)
      .replace(/"keys":\[([^\]]*)\]/g, (_m, keys: string) => `"keys":[${keys.split(',').sort().join(',')}]`);
  }
}
