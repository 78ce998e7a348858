/**
 * etcdserverpb.Maintenance: Status, Hash, HashKV, Alarm, Snapshot, MoveLeader and Defragment.
 */
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import type { AlarmStore } from '../alarm/index.js';
import type { AuthGate } from '../auth/index.js';
import type { Backend } from '../storage/index.js';
import type { KvStore } from '../mvcc/index.js';
import type { Proposer } from '../server/proposer.js';
import { ETCD_API_VERSION } from '../version.js';
import { CorvidError } from '../errors/index.js';
import { checkMaintenanceCaller } from './auth-caller.js';
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
  readonly isLearner: () => boolean;
  /** MoveLeader: hands leadership to `target` (checked and timed out as etcd's MoveLeader). */
  readonly moveLeader: (target: bigint) => Promise<void>;
  /** Defragments this member's backend (Backend.defragment with the Raft loop held). */
  readonly defragment: () => Promise<void>;
  /** Snapshot, Hash and HashKV need the root role once auth is on; Alarm a valid token or none (etcd's authMaintenanceServer). */
  readonly auth?: AuthGate;
}

const SERVICE = 'etcdserverpb.Maintenance';

/** etcd 3.4's Status errors: `etcdserver: no leader`, then each alarm in protobuf text form. */
function statusErrors(leader: bigint, alarms: AlarmStore): string[] {
  const errors = leader === 0n ? ['etcdserver: no leader'] : [];
  for (const a of alarms.list(etcdserverpb.AlarmType.NONE)) errors.push(`memberID:${a.memberID} alarm:${etcdserverpb.alarmTypeToJSON(a.alarm)} `);
  return errors;
}

export function createMaintenanceService(ctx: UnaryContext, deps: MaintenanceServiceDeps): ServiceMethods<etcdserverpb.MaintenanceServer, 'alarm' | 'status' | 'hash' | 'hashKv' | 'snapshot' | 'moveLeader' | 'defragment'> {
  const { identity, backend, kv } = deps;
  return {
    // GET reads the applied list; raising and clearing go through the log, so every member agrees.
    alarm: unary(ctx, SERVICE, 'Alarm', async (request: etcdserverpb.AlarmRequest, call): Promise<etcdserverpb.AlarmResponse> => {
      checkMaintenanceCaller(deps.auth, call, false);
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
        errors: statusErrors(raft.leader, deps.alarms),
        dbSizeInUse: BigInt(backend.sizeInUseBytes()),
        isLearner: deps.isLearner(),
      };
    }),
    // etcd answers MoveLeader only on the leader, with an empty response (no header).
    moveLeader: unary(ctx, SERVICE, 'MoveLeader', async (request: etcdserverpb.MoveLeaderRequest): Promise<etcdserverpb.MoveLeaderResponse> => {
      if (deps.raftStatus().leader !== identity.memberId) throw new CorvidError('NotLeader');
      await deps.moveLeader(request.targetID);
      return { header: undefined };
    }),
    // etcd 3.4 answers an empty DefragmentResponse, without a header; its log lines are these.
    defragment: unary(ctx, SERVICE, 'Defragment', async (_request: etcdserverpb.DefragmentRequest, call): Promise<etcdserverpb.DefragmentResponse> => {
      checkMaintenanceCaller(deps.auth, call, true);
      ctx.logger.info('starting defragment');
      try {
        await deps.defragment();
      } catch (err) {
        ctx.logger.warn('failed to defragment', { error: err });
        throw err;
      }
      ctx.logger.info('finished defragment');
      return { header: undefined };
    }),
    hash: unary(ctx, SERVICE, 'Hash', (_request: etcdserverpb.HashRequest, call): etcdserverpb.HashResponse => {
      checkMaintenanceCaller(deps.auth, call, true);
      return { header: responseHeader(identity, BigInt(kv.currentRevision())), hash: backend.hash() };
    }),
    snapshot: (call: ServerWritableStream<etcdserverpb.SnapshotRequest, etcdserverpb.SnapshotResponse>) => {
      const metrics = ctx.metrics.startServerStream(SERVICE, 'Snapshot');
      const allowed = new Promise<void>((resolve) => {
        checkMaintenanceCaller(deps.auth, call, true);
        resolve();
      });
      allowed.then(() => streamSnapshot(backend, deps.snapshotWorkDir, call, metrics.sentMessage)).then(
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
    hashKv: unary(ctx, SERVICE, 'HashKV', async (request: etcdserverpb.HashKVRequest, call): Promise<etcdserverpb.HashKVResponse> => {
      checkMaintenanceCaller(deps.auth, call, true);
      // A scan of the whole history: on a read-pool worker, off the event loop.
      const { hash, compactRevision, revision } = await kv.hashKVInPool(Number(request.revision));
      return { header: responseHeader(identity, BigInt(revision)), hash, compactRevision: BigInt(compactRevision) };
    }),
  };
}
