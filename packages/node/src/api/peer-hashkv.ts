/**
 * HashKV between members, for the corruption check (server/corrupt-check.ts). etcd 3.4 serves it
 * as `/members/hashkv` on the peer URL; here it is etcd's own Maintenance service on the peer
 * port with only HashKV implemented (as api/lease-peer.ts serves Lease there), never on the client
 * API. The answer is the member's own: header member id and current revision, hash and compact
 * revision at the asked revision, or Compacted / FutureRev as etcd's HashByRev.
 */
import { credentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import type { HashKvResult } from '../mvcc/index.js';
import { responseHeader, type MemberIdentity } from './header.js';
import { fromServiceError, toServiceError } from './errors.js';

export interface HashKvPeerDeps {
  readonly identity: MemberIdentity;
  /** The store's HashKV at `revision` (0: current), off the event loop. */
  readonly hashKV: (revision: number) => Promise<HashKvResult>;
}

/** The answering half, registered on the peer listeners. */
export function createHashKvPeerService(deps: HashKvPeerDeps): Pick<etcdserverpb.MaintenanceServer, 'hashKv'> {
  return {
    hashKv: (call, callback) => {
      deps.hashKV(Number(call.request.revision)).then(
        ({ hash, compactRevision, revision }) => callback(null, { header: responseHeader(deps.identity, BigInt(revision)), hash, compactRevision: BigInt(compactRevision) }),
        (err: unknown) => callback(toServiceError(err).error, null),
      );
    },
  };
}

/**
 * Asks one member for its HashKV at `revision`, trying its peer URLs in turn (etcd's
 * getPeerHashKVs). Rejects with the CorvidError of the last URL's answer (Compacted, FutureRev,
 * or Timeout when none answered or `signal` aborted the call).
 */
export async function fetchPeerHashKV(peerUrls: readonly string[], revision: number, timeoutMs: number, signal: AbortSignal, channel: ChannelCredentials = credentials.createInsecure()): Promise<etcdserverpb.HashKVResponse> {
  let last: unknown = new Error('no peer URL');
  for (const url of peerUrls) {
    if (signal.aborted) break;
    const client = new etcdserverpb.MaintenanceClient(new URL(url).host, channel);
    try {
      return await new Promise<etcdserverpb.HashKVResponse>((resolve, reject) => {
        const call = client.hashKv({ revision: BigInt(revision) }, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err: ServiceError | null, res?: etcdserverpb.HashKVResponse) => {
          signal.removeEventListener('abort', cancel);
          if (err !== null || res === undefined) reject(err ?? new Error('empty answer'));
          else resolve(res);
        });
        const cancel = (): void => call.cancel();
        signal.addEventListener('abort', cancel, { once: true });
      });
    } catch (err) {
      last = err;
    } finally {
      client.close();
    }
  }
  throw fromServiceError(last as Partial<ServiceError>);
}
