/**
 * etcdserverpb.Maintenance: Status, Hash, HashKV and listing alarms. Defragment, Snapshot and
 * MoveLeader answer UNIMPLEMENTED until the maintenance issue (#8) lands.
 */
import { etcdserverpb } from '@corvid/proto';
import { CorvidError } from '../errors/index.js';
import type { Backend } from '../storage/index.js';
import type { KvStore } from '../mvcc/index.js';
import { ETCD_API_VERSION } from '../version.js';
import { responseHeader, type MemberIdentity } from './header.js';
import { unary, type ServiceMethods, type UnaryContext } from './unary.js';

export interface MaintenanceServiceDeps {
  readonly identity: MemberIdentity;
  readonly backend: Backend;
  readonly kv: KvStore;
  /** Raft's view: the leader this member knows (0n for none), term, commit and applied index. */
  readonly raftStatus: () => { readonly leader: bigint; readonly term: number; readonly commitIndex: number; readonly appliedIndex: number };
}

const SERVICE = 'etcdserverpb.Maintenance';

export function createMaintenanceService(ctx: UnaryContext, deps: MaintenanceServiceDeps): ServiceMethods<etcdserverpb.MaintenanceServer, 'alarm' | 'status' | 'hash' | 'hashKv'> {
  const { identity, backend, kv } = deps;
  return {
    // Corvid raises no alarm yet (the space quota arrives with #8): the list is truthfully empty,
    // and raising or clearing one is refused until then.
    alarm: unary(ctx, SERVICE, 'Alarm', (request: etcdserverpb.AlarmRequest): etcdserverpb.AlarmResponse => {
      if (request.action !== etcdserverpb.AlarmRequest_AlarmAction.GET) throw new CorvidError('NotYetImplemented', { detail: 'raising or clearing alarms arrives with the space quota' });
      // etcd answers Alarm without a header (its maintenance server does not fill one).
      return { header: undefined, alarms: [] };
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
    hashKv: unary(ctx, SERVICE, 'HashKV', (request: etcdserverpb.HashKVRequest): etcdserverpb.HashKVResponse => {
      const { hash, compactRevision, revision } = kv.hashKV(Number(request.revision));
      return { header: responseHeader(identity, BigInt(revision)), hash, compactRevision: BigInt(compactRevision) };
    }),
  };
}
