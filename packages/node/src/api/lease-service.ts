/**
 * etcdserverpb.Lease as etcd 3.4's v3rpc LeaseServer and EtcdServer's lease methods:
 * - LeaseGrant: an id of 0 gets a server-chosen positive one; a TTL under the minimum (ceil of
 *   1.5 election timeouts, etcd's minTTL) is raised here, before proposing, so every member applies
 *   the same TTL; too large a TTL and an existing id are refused by the apply, as etcd's lessor.
 * - LeaseRevoke: through the log; the keys go at one revision with the lease.
 * - LeaseKeepAlive: each request is answered in order with the granted TTL, or TTL 0 for a lease
 *   that does not exist; the header is taken before the renewal (etcd: a keepalive must not show
 *   a revision later than a revoke it raced with).
 * - LeaseTimeToLive: unknown → TTL -1, grantedTTL 0, no keys; otherwise from the primary lessor.
 * - LeaseLeases: this member's leases, soonest expiry first.
 * Only grant and revoke go through Raft; renewals and lookups never wait on an apply.
 */
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { etcdserverpb } from '@corvid/proto';
import type { AuthGate } from '../auth/index.js';
import type { Lessor } from '../lease/index.js';
import type { KvStore } from '../mvcc/index.js';
import type { LeaseRenewer } from '../server/lease-renewer.js';
import type { Proposer } from '../server/proposer.js';
import { identifyCall } from './auth-caller.js';
import { drained } from './drained.js';
import { toServiceError } from './errors.js';
import { responseHeader, withHeader, type MemberIdentity } from './header.js';
import { unary, type UnaryContext } from './unary.js';

export interface LeaseServiceDeps {
  readonly identity: MemberIdentity;
  readonly kv: KvStore;
  readonly proposer: Proposer;
  readonly lessor: Lessor;
  readonly renewer: LeaseRenewer;
  /** etcd's minLeaseTTL: ceil(((3 × electionTicks) / 2) × heartbeat) in seconds. */
  readonly minTtlSeconds: number;
  /** A fresh 64-bit id (etcd's reqIDGen.Next()); only its low 63 bits are used. */
  readonly nextId: () => bigint;
  /** Who calls: a revoke needs write permission on every key of the lease (checked by the applier). */
  readonly auth?: AuthGate;
}

const SERVICE = 'etcdserverpb.Lease';
const POSITIVE_INT64 = (1n << 63n) - 1n;

type KeepAliveCall = ServerDuplexStream<etcdserverpb.LeaseKeepAliveRequest, etcdserverpb.LeaseKeepAliveResponse>;

export function createLeaseService(ctx: UnaryContext, deps: LeaseServiceDeps): etcdserverpb.LeaseServer {
  const { identity, kv, proposer, lessor, renewer } = deps;
  const header = (): etcdserverpb.ResponseHeader => responseHeader(identity, BigInt(kv.currentRevision()));
  return {
    leaseGrant: unary(ctx, SERVICE, 'LeaseGrant', async (request: etcdserverpb.LeaseGrantRequest, call) => {
      const who = identifyCall(deps.auth, call);
      let ID = request.ID;
      while (ID === 0n) ID = deps.nextId() & POSITIVE_INT64;
      const TTL = request.TTL < BigInt(deps.minTtlSeconds) ? BigInt(deps.minTtlSeconds) : request.TTL;
      return withHeader(identity, (await proposer.propose({ $case: 'leaseGrant', value: { ID, TTL } }, who)) as etcdserverpb.LeaseGrantResponse);
    }),
    leaseRevoke: unary(ctx, SERVICE, 'LeaseRevoke', async (request: etcdserverpb.LeaseRevokeRequest, call) => {
      const who = identifyCall(deps.auth, call);
      return withHeader(identity, (await proposer.propose({ $case: 'leaseRevoke', value: { ID: request.ID } }, who)) as etcdserverpb.LeaseRevokeResponse);
    }),
    leaseKeepAlive: (call: KeepAliveCall) => {
      const metrics = ctx.metrics.startBidiStream(SERVICE, 'LeaseKeepAlive');
      const cancelled = new AbortController();
      call.on('cancelled', () => cancelled.abort());
      keepAlive(call, renewer, header, cancelled.signal, metrics).then(
        () => {
          metrics.end(cancelled.signal.aborted ? status.CANCELLED : status.OK);
          call.end();
        },
        (err: unknown) => {
          const { error, known } = toServiceError(err);
          if (!known) ctx.logger.error('unexpected error serving request', { service: SERVICE, method: 'LeaseKeepAlive', error: err });
          metrics.end(error.code ?? status.UNKNOWN);
          if (!cancelled.signal.aborted) call.emit('error', { ...error, code: error.code ?? status.UNKNOWN });
        },
      );
    },
    leaseTimeToLive: unary(ctx, SERVICE, 'LeaseTimeToLive', async (request: etcdserverpb.LeaseTimeToLiveRequest) => {
      const found = await renewer.timeToLive(request.ID, request.keys);
      if (found === undefined) return { header: header(), ID: request.ID, TTL: -1n, grantedTTL: 0n, keys: [] };
      return { header: header(), ID: request.ID, TTL: BigInt(found.ttlSeconds), grantedTTL: BigInt(found.grantedTtlSeconds), keys: [...found.keys] };
    }),
    leaseLeases: unary(ctx, SERVICE, 'LeaseLeases', () => ({ header: header(), leases: lessor.list().map((ID) => ({ ID })) })),
  };
}

/** Answers each keepalive in order until the client half-closes; backpressure: one renewal at a time, and writes drain. */
async function keepAlive(
  call: KeepAliveCall,
  renewer: LeaseRenewer,
  header: () => etcdserverpb.ResponseHeader,
  signal: AbortSignal,
  metrics: { receivedMessage(): void; sentMessage(): void },
): Promise<void> {
  try {
    for await (const request of call as AsyncIterable<etcdserverpb.LeaseKeepAliveRequest>) {
      metrics.receivedMessage();
      const response: etcdserverpb.LeaseKeepAliveResponse = { header: header(), ID: request.ID, TTL: 0n };
      const renewed = await renewer.renew(request.ID, signal);
      if (renewed.found) response.TTL = BigInt(renewed.ttlSeconds);
      if (signal.aborted) return;
      metrics.sentMessage();
      // A client that sends keepalives without reading the answers is not read from either: no unbounded buffer.
      if (!call.write(response)) await drained(call);
    }
  } catch (err) {
    // A client that goes away mid-stream ends the iteration with a stream error: nothing to answer.
    if (signal.aborted || (err as NodeJS.ErrnoException | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw err;
  }
}
