/**
 * The operator's only way to reach members: the etcd v3 gRPC API (Cluster, Maintenance, KV.Compact) through
 * @corvid/proto's grpc-js clients, one channel per endpoint, every unary call under a deadline. Nothing here
 * is Corvid-specific, so the same code manages etcd 3.4.
 */
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

/** One set of clients per member endpoint (`host:port`), reused across passes; `close()` at shutdown. */
export class EtcdClients {
  private readonly byEndpoint = new Map<string, { api: MemberApi; close: () => void }>();

  constructor(private readonly creds: ChannelCredentials = credentials.createInsecure()) {}

  for(endpoint: string): MemberApi {
    const known = this.byEndpoint.get(endpoint);
    if (known !== undefined) return known.api;
    const cluster = new etcdserverpb.ClusterClient(endpoint, this.creds);
    const maintenance = new etcdserverpb.MaintenanceClient(endpoint, this.creds, { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    const kv = new etcdserverpb.KVClient(endpoint, this.creds);
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
    this.byEndpoint.set(endpoint, { api, close });
    return api;
  }

  /** Drops an endpoint's channels (a deleted pod's member). */
  forget(endpoint: string): void {
    this.byEndpoint.get(endpoint)?.close();
    this.byEndpoint.delete(endpoint);
  }

  close(): void {
    for (const { close } of this.byEndpoint.values()) close();
    this.byEndpoint.clear();
  }
}
