/**
 * Keepalives and TimeToLive from followers to the leader (etcd's leasehttp: `/leases` and
 * `/leases/internal` on the leader's peer URL). Here the hop is etcd's own Lease service on the
 * peer port, with only LeaseKeepAlive and LeaseTimeToLive implemented, answered by the leader's
 * `renewLocal` / `timeToLiveLocal` (never forwarded again; NotLeader once leadership moved).
 * `PeerLeaseForwarder` is the follower's half: one call per renewal to the leader's peer URLs, as
 * etcd posts one HTTP request per renewal. A lease that does not exist travels as a value (TTL 0 /
 * TTL -1), never as an error.
 */
import { credentials, Metadata, type ChannelCredentials, type ServerDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { CorvidError } from '../errors/index.js';
import type { LeaderLeases, LeaseForwarder, LeaseTimeToLive, RenewResult } from '../server/lease-renewer.js';
import { toServiceError } from './errors.js';

type KeepAliveCall = ServerDuplexStream<etcdserverpb.LeaseKeepAliveRequest, etcdserverpb.LeaseKeepAliveResponse>;
const EMPTY_HEADER: etcdserverpb.ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };

/** The leader's half, served on the peer port. `leases` is read when a call arrives (the member builds it after the peer listener). */
export function createLeasePeerService(leases: () => LeaderLeases | undefined): Pick<etcdserverpb.LeaseServer, 'leaseKeepAlive' | 'leaseTimeToLive'> {
  const ready = (): LeaderLeases => {
    const l = leases();
    if (l === undefined) throw new CorvidError('NotLeader', { detail: 'not serving leases yet' });
    return l;
  };
  return {
    leaseKeepAlive: (call: KeepAliveCall) => {
      const cancelled = new AbortController();
      call.on('cancelled', () => cancelled.abort());
      const serve = async (): Promise<void> => {
        for await (const request of call as AsyncIterable<etcdserverpb.LeaseKeepAliveRequest>) {
          const renewed = await ready().renewLocal(request.ID, cancelled.signal);
          call.write({ header: EMPTY_HEADER, ID: request.ID, TTL: renewed.found ? BigInt(renewed.ttlSeconds) : 0n });
        }
      };
      serve().then(
        () => call.end(),
        (err: unknown) => {
          if (!cancelled.signal.aborted) call.emit('error', toServiceError(err).error);
        },
      );
    },
    leaseTimeToLive: (call, callback) => {
      const run = async (): Promise<etcdserverpb.LeaseTimeToLiveResponse> => {
        const found = await ready().timeToLiveLocal(call.request.ID, call.request.keys);
        if (found === undefined) return { header: EMPTY_HEADER, ID: call.request.ID, TTL: -1n, grantedTTL: 0n, keys: [] };
        return { header: EMPTY_HEADER, ID: call.request.ID, TTL: BigInt(found.ttlSeconds), grantedTTL: BigInt(found.grantedTtlSeconds), keys: [...found.keys] };
      };
      run().then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err).error, null),
      );
    },
  };
}

/** The follower's half: `peerUrls(leaderId)` from the applied membership. */
export class PeerLeaseForwarder implements LeaseForwarder {
  private readonly clients = new Map<string, InstanceType<typeof etcdserverpb.LeaseClient>>();

  constructor(
    private readonly peerUrls: (memberId: bigint) => readonly string[],
    /** Peer TLS's credentials for https peer URLs; insecure otherwise. */
    private readonly channel: ChannelCredentials = credentials.createInsecure(),
  ) {}

  async renew(leaderId: bigint, id: bigint, signal: AbortSignal): Promise<RenewResult> {
    const res = await this.first(leaderId, (client) => keepAliveOnce(client, id, signal));
    return res.TTL > 0n ? { found: true, ttlSeconds: Number(res.TTL) } : { found: false };
  }

  async timeToLive(leaderId: bigint, id: bigint, keys: boolean, signal: AbortSignal): Promise<LeaseTimeToLive | undefined> {
    const res = await this.first(leaderId, (client) => timeToLiveCall(client, { ID: id, keys }, signal));
    if (res.TTL === -1n) return undefined;
    return { ttlSeconds: Number(res.TTL), grantedTtlSeconds: Number(res.grantedTTL), keys: res.keys.map((k) => Buffer.from(k)) };
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  /** Tries the leader's peer URLs in turn; a failed hop is a CorvidError the renewer retries. */
  private async first<T>(leaderId: bigint, run: (client: InstanceType<typeof etcdserverpb.LeaseClient>) => Promise<T>): Promise<T> {
    let last: unknown;
    for (const url of this.peerUrls(leaderId)) {
      try {
        return await run(this.client(url));
      } catch (err) {
        last = err;
      }
    }
    throw new CorvidError('Timeout', { cause: last, detail: `lease call to leader ${leaderId.toString(16)} failed` });
  }

  private client(url: string): InstanceType<typeof etcdserverpb.LeaseClient> {
    const host = new URL(url).host;
    let client = this.clients.get(host);
    if (client === undefined) {
      client = new etcdserverpb.LeaseClient(host, this.channel);
      this.clients.set(host, client);
    }
    return client;
  }
}

function keepAliveOnce(client: InstanceType<typeof etcdserverpb.LeaseClient>, id: bigint, signal: AbortSignal): Promise<etcdserverpb.LeaseKeepAliveResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.leaseKeepAlive(new Metadata());
    let settled = false;
    const finish = (err: unknown, res?: etcdserverpb.LeaseKeepAliveResponse): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      stream.cancel();
      if (res !== undefined) resolve(res);
      else reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onAbort = (): void => finish(new CorvidError('Timeout'));
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (res: etcdserverpb.LeaseKeepAliveResponse) => finish(null, res));
    stream.on('error', (err: ServiceError) => finish(err));
    stream.on('end', () => finish(new Error('keepalive stream ended without an answer')));
    stream.write({ ID: id });
  });
}

function timeToLiveCall(client: InstanceType<typeof etcdserverpb.LeaseClient>, req: etcdserverpb.LeaseTimeToLiveRequest, signal: AbortSignal): Promise<etcdserverpb.LeaseTimeToLiveResponse> {
  return new Promise((resolve, reject) => {
    const call = client.leaseTimeToLive(req, new Metadata(), (err: ServiceError | null, res: etcdserverpb.LeaseTimeToLiveResponse) => {
      signal.removeEventListener('abort', onAbort);
      if (err !== null) reject(err);
      else resolve(res);
    });
    const onAbort = (): void => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
