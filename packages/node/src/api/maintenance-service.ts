/**
 * etcdserverpb.Maintenance: Status, Hash, HashKV, Alarm and Snapshot. Defragment and MoveLeader
 * answer UNIMPLEMENTED until their issues (#8, #4) land.
 */
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import type { AlarmStore } from '../alarm/index.js';
import type { Backend } from '../storage/index.js';
import type { KvStore } from '../mvcc/index.js';
import type { Proposer } from '../server/proposer.js';
import { ETCD_API_VERSION } from '../version.js';
import { toServiceError } from './errors.js';
import { responseHeader, type MemberIdentity } from './header.js';
import { streamSnapshot } from './snapshot-stream.js';
import { unary, type ServiceMethods, type UnaryContext } from './unary.js';

export interface MaintenanceServiceDeps {
  readonly identity: MemberIdentity;
  readonly backend: Backend;
  readonly kv: KvStore;
  readonly alarms: AlarmStore;
  readonly proposer: Proposer;
  /** Where a snapshot's temporary copy is made (the member's data folder: same disk, no cross-device copy). */
  readonly snapshotWorkDir: string;
  /** Raft's view: the leader this member knows (0n for none), term, commit and applied index. */
  readonly raftStatus: () => { readonly leader: bigint; readonly term: number; readonly commitIndex: number; readonly appliedIndex: number };
}

const SERVICE = 'etcdserverpb.Maintenance';

export function createMaintenanceService(ctx: UnaryContext, deps: MaintenanceServiceDeps): ServiceMethods<etcdserverpb.MaintenanceServer, 'alarm' | 'status' | 'hash' | 'hashKv' | 'snapshot'> {
  const { identity, backend, kv } = deps;
  return {
    // GET reads the applied list; raising and clearing go through the log, so every member agrees.
    alarm: unary(ctx, SERVICE, 'Alarm', async (request: etcdserverpb.AlarmRequest): Promise<etcdserverpb.AlarmResponse> => {
      if (request.action === etcdserverpb.AlarmRequest_AlarmAction.GET) {
        // etcd answers Alarm without a header (its maintenance server does not fill one).
        return { header: undefined, alarms: deps.alarms.list(request.alarm) };
      }
      return (await deps.proposer.propose({ $case: 'alarm', value: request })) as etcdserverpb.AlarmResponse;
    }),
    status: unary(ctx, SERVICE, 'Status', (): etcdserverpb.StatusResponse => {
      const raft = deps.raftStatus();
      return {
        header: responseHeader(identity, BigInt(kv.currentRevision())),
        version: ETCD_API_VERSION,
        dbSize: BigInt(backend.sizeBytes()),
        leader: raft.leader,
        // As etcd 3.4's maintenance server: RaftIndex is the committed index (rg.CommittedIndex()).
        raftIndex: BigInt(raft.commitIndex),
        raftTerm: BigInt(raft.term),
        raftAppliedIndex: BigInt(raft.appliedIndex),
        errors: [],
        dbSizeInUse: BigInt(backend.sizeInUseBytes()),
        isLearner: false,
      };
    }),
    hash: unary(ctx, SERVICE, 'Hash', (): etcdserverpb.HashResponse => ({
      header: responseHeader(identity, BigInt(kv.currentRevision())),
      hash: backend.hash(),
    })),
    snapshot: (call: ServerWritableStream<etcdserverpb.SnapshotRequest, etcdserverpb.SnapshotResponse>) => {
      const metrics = ctx.metrics.startServerStream(SERVICE, 'Snapshot');
      streamSnapshot(backend, deps.snapshotWorkDir, call, metrics.sentMessage).then(
        () => {
          metrics.end(status.OK);
          call.end();
        },
        (err: unknown) => {
          const { error, known } = toServiceError(err);
          if (!known) ctx.logger.error('snapshot failed', { error: err });
          metrics.end(error.code ?? status.UNKNOWN);
          call.emit('error', error);
        },
      );
    },
    hashKv: unary(ctx, SERVICE, 'HashKV', (request: etcdserverpb.HashKVRequest): etcdserverpb.HashKVResponse => {
      const { hash, compactRevision, revision } = kv.hashKV(Number(request.revision));
      return { header: responseHeader(identity, BigInt(revision)), hash, compactRevision: BigInt(compactRevision) };
    }),
  };
}
