/**
 * The operator's only way to reach members: the etcd v3 gRPC API (Cluster, Maintenance, KV.Compact) through
 * @corvid/proto's grpc-js clients, one channel per endpoint, every unary call under a deadline. Nothing here
 * is Corvid-specific, so the same code manages etcd 3.4. A cluster with client TLS is reached with the
 * client Secret's CA, certificate and key (`withTls`); a changed Secret opens new channels.
 */
import { createHash } from 'node:crypto';
import { credentials, Metadata, type ChannelCredentials, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';

type Callback<R> = (error: ServiceError | null, response: R) => void;
type UnaryMethod<Q, R> = (req: Q, meta: Metadata, opts: { deadline: Date }, cb: Callback<R>) => unknown;

/** Probes and membership calls are short; defragmentation rewrites the whole database. */
export const CALL_DEADLINE_MS = 3_000;
export const DEFRAGMENT_DEADLINE_MS = 120_000;

function unary<Q, R>(call: UnaryMethod<Q, R>, req: Q, deadlineMs = CALL_DEADLINE_MS): Promise<R> {
  return new Promise((resolve, reject) => {
    call(req, new Metadata(), { deadline: new Date(Date.now() + deadlineMs) }, (error, response) => {
      if (error !== null) reject(error);
      else resolve(response);
    });
  });
}

/** gRPC status code of an error from these calls, if it is one. */
export const grpcCode = (err: unknown): number | undefined => (typeof (err as Partial<ServiceError>).code === 'number' ? (err as ServiceError).code : undefined);

export interface MemberApi {
  status(): Promise<etcdserverpb.StatusResponse>;
  memberList(): Promise<etcdserverpb.MemberListResponse>;
  memberAdd(peerURLs: string[], isLearner: boolean): Promise<etcdserverpb.MemberAddResponse>;
  memberRemove(id: bigint): Promise<etcdserverpb.MemberRemoveResponse>;
  memberPromote(id: bigint): Promise<etcdserverpb.MemberPromoteResponse>;
  moveLeader(targetId: bigint): Promise<etcdserverpb.MoveLeaderResponse>;
  alarms(): Promise<etcdserverpb.AlarmResponse>;
  disarm(memberId: bigint, alarm: etcdserverpb.AlarmType): Promise<etcdserverpb.AlarmResponse>;
  defragment(): Promise<etcdserverpb.DefragmentResponse>;
  compact(revision: number): Promise<etcdserverpb.CompactionResponse>;
  snapshot(): ClientReadableStream<etcdserverpb.SnapshotResponse>;
}

/** PEM material for a TLS client (a client Secret's `ca.crt`, `tls.crt` and `tls.key`). */
export interface ClientTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Clients for one cluster's member endpoints (`host:port`), plain text or TLS as the cluster asks. */
export interface MemberClients {
  for(endpoint: string): MemberApi;
  /** Drops an endpoint's channels (a deleted pod's member). */
  forget(endpoint: string): void;
}

const fingerprint = (tls: ClientTls | undefined): string =>
  tls === undefined ? 'plaintext' : createHash('sha256').update(tls.ca).update(tls.cert).update(tls.key).digest('hex');

/** One set of clients per member endpoint, reused across passes; `close()` at shutdown. */
export class EtcdClients implements MemberClients {
  private readonly byEndpoint = new Map<string, { api: MemberApi; close: () => void; fingerprint: string }>();

  for(endpoint: string): MemberApi {
    return this.open(endpoint, undefined);
  }

  /** The same cache, reaching endpoints with `tls` (undefined: plain text). */
  withTls(tls: ClientTls | undefined): MemberClients {
    return { for: (endpoint) => this.open(endpoint, tls), forget: (endpoint) => this.forget(endpoint) };
  }

  private open(endpoint: string, tls: ClientTls | undefined): MemberApi {
    const print = fingerprint(tls);
    const known = this.byEndpoint.get(endpoint);
    if (known?.fingerprint === print) return known.api;
    // New, or its credentials changed (a rotated Secret, TLS switched on): close the old channels.
    if (known !== undefined) this.forget(endpoint);
    const creds: ChannelCredentials = tls === undefined ? credentials.createInsecure() : credentials.createSsl(tls.ca, tls.key, tls.cert);
    const cluster = new etcdserverpb.ClusterClient(endpoint, creds);
    const maintenance = new etcdserverpb.MaintenanceClient(endpoint, creds, { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    const kv = new etcdserverpb.KVClient(endpoint, creds);
    const api: MemberApi = {
      status: () => unary(maintenance.status.bind(maintenance), etcdserverpb.StatusRequest.fromPartial({})),
      memberList: () => unary(cluster.memberList.bind(cluster), etcdserverpb.MemberListRequest.fromPartial({})),
      memberAdd: (peerURLs, isLearner) => unary(cluster.memberAdd.bind(cluster), etcdserverpb.MemberAddRequest.fromPartial({ peerURLs, isLearner })),
      memberRemove: (id) => unary(cluster.memberRemove.bind(cluster), etcdserverpb.MemberRemoveRequest.fromPartial({ ID: id })),
      memberPromote: (id) => unary(cluster.memberPromote.bind(cluster), etcdserverpb.MemberPromoteRequest.fromPartial({ ID: id })),
      moveLeader: (targetID) => unary(maintenance.moveLeader.bind(maintenance), etcdserverpb.MoveLeaderRequest.fromPartial({ targetID })),
      alarms: () => unary(maintenance.alarm.bind(maintenance), etcdserverpb.AlarmRequest.fromPartial({ action: etcdserverpb.AlarmRequest_AlarmAction.GET })),
      disarm: (memberID, alarm) => unary(maintenance.alarm.bind(maintenance), etcdserverpb.AlarmRequest.fromPartial({ action: etcdserverpb.AlarmRequest_AlarmAction.DEACTIVATE, memberID, alarm })),
      defragment: () => unary(maintenance.defragment.bind(maintenance), etcdserverpb.DefragmentRequest.fromPartial({}), DEFRAGMENT_DEADLINE_MS),
      compact: (revision) => unary(kv.compact.bind(kv), etcdserverpb.CompactionRequest.fromPartial({ revision: BigInt(revision), physical: false })),
      snapshot: () => maintenance.snapshot(etcdserverpb.SnapshotRequest.fromPartial({})),
    };
    const close = (): void => {
      cluster.close();
      maintenance.close();
      kv.close();
    };
    this.byEndpoint.set(endpoint, { api, close, fingerprint: print });
    return api;
  }

  forget(endpoint: string): void {
    this.byEndpoint.get(endpoint)?.close();
    this.byEndpoint.delete(endpoint);
  }

  close(): void {
    for (const { close } of this.byEndpoint.values()) close();
    this.byEndpoint.clear();
  }
}
