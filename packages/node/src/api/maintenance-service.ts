/**
 * etcdserverpb.Maintenance: Status and HashKV. Alarm, Defragment, Hash, Snapshot and MoveLeader
 * answer UNIMPLEMENTED until the maintenance issue (#8) lands.
 */
import type { etcdserverpb } from '@corvid/proto';
import type { Backend } from '../storage/index.js';
import type { KvStore } from '../mvcc/index.js';
import { ETCD_API_VERSION } from '../version.js';
import { responseHeader, type MemberIdentity } from './header.js';
import { unary, type UnaryContext } from './unary.js';

export interface MaintenanceServiceDeps {
  readonly identity: MemberIdentity;
  readonly backend: Backend;
  readonly kv: KvStore;
  /** The last log index applied to the store. */
  readonly appliedIndex: () => number;
  /** The id of the member this one knows as leader (0 for none). */
  readonly leaderId: () => bigint;
}

const SERVICE = 'etcdserverpb.Maintenance';

export function createMaintenanceService(ctx: UnaryContext, deps: MaintenanceServiceDeps): Pick<etcdserverpb.MaintenanceServer, 'status' | 'hashKV'> {
  const { identity, backend, kv } = deps;
  return {
    status: unary(ctx, SERVICE, 'Status', (): etcdserverpb.StatusResponse => {
      const applied = BigInt(deps.appliedIndex());
      return {
        header: responseHeader(identity, BigInt(kv.currentRevision())),
        version: ETCD_API_VERSION,
        dbSize: BigInt(backend.sizeBytes()),
        leader: deps.leaderId(),
        raftIndex: applied,
        raftTerm: identity.raftTerm(),
        raftAppliedIndex: applied,
        errors: [],
        dbSizeInUse: BigInt(backend.sizeInUseBytes()),
        isLearner: false,
      };
    }),
    hashKV: unary(ctx, SERVICE, 'HashKV', (request: etcdserverpb.HashKVRequest): etcdserverpb.HashKVResponse => {
      const { hash, compactRevision, revision } = kv.hashKV(Number(request.revision));
      return { header: responseHeader(identity, BigInt(revision)), hash, compactRevision: BigInt(compactRevision) };
    }),
  };
}
