/**
 * etcdserverpb.KV: checks each request as etcd's v3rpc does, serves ranges from the store and
 * sends writes through the proposer, then completes the response header.
 */
import { etcdserverpb } from '@corvid/proto';
import type { QuotaChecker, QuotaRequest } from '../alarm/index.js';
import type { AuthGate } from '../auth/index.js';
import { CorvidError, isCorvidError } from '../errors/index.js';
import { withPreEncodedRange, type KvStore } from '../mvcc/index.js';
import type { Proposer } from '../server/proposer.js';
import { identifyCall } from './auth-caller.js';
import { withHeader, type MemberIdentity } from './header.js';
import { sendPreFramedRanges } from './pre-framed.js';
import { unary, type UnaryContext } from './unary.js';
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxn } from './validate.js';

export interface KvServiceDeps {
  readonly identity: MemberIdentity;
  readonly kv: KvStore;
  readonly proposer: Proposer;
  readonly maxTxnOps: number;
  readonly quota: QuotaChecker;
  /** Resolves when a linearizable read may be served locally (ReadIndex); serializable reads skip it. */
  readonly readBarrier: () => Promise<void>;
  /** Who calls and what they may read; writes are checked by the applier with the caller named here. */
  readonly auth?: AuthGate;
}

const SERVICE = 'etcdserverpb.KV';

/** etcd's KV service definition, sending the ranges the read pool encoded as they are. */
export const KV_SERVICE_DEFINITION = withPreEncodedRange(etcdserverpb.KVService);
sendPreFramedRanges();

export function createKvService(ctx: UnaryContext, deps: KvServiceDeps): etcdserverpb.KVServer {
  const { identity, kv, proposer } = deps;
  return {
    range: unary(ctx, SERVICE, 'Range', async (request: etcdserverpb.RangeRequest, call) => {
      checkRangeRequest(request);
      if (!request.serializable) await deps.readBarrier();
      // etcd's doSerialize: the caller, then their read permission, before the read.
      deps.auth?.checkRead(identifyCall(deps.auth, call), request.key, request.rangeEnd);
      // Small reads are fastest inline; a long one would stall Raft and the applier, so it goes
      // to the read pool (mvcc/read-pool), which answers at its own, newer-or-equal snapshot.
      const inline = kv.rangeInline(request);
      if (inline !== undefined) return withHeader(identity, inline);
      return kv.rangeInPool(request, { clusterId: identity.clusterId, memberId: identity.memberId, raftTerm: identity.raftTerm() });
    }),
    put: unary(ctx, SERVICE, 'Put', async (request: etcdserverpb.PutRequest, call) => {
      await checkQuota(deps, { $case: 'put', value: request });
      checkPutRequest(request);
      return withHeader(identity, (await proposer.propose({ $case: 'put', value: request }, identifyCall(deps.auth, call))) as etcdserverpb.PutResponse);
    }),
    deleteRange: unary(ctx, SERVICE, 'DeleteRange', async (request: etcdserverpb.DeleteRangeRequest, call) => {
      checkDeleteRequest(request);
      return withHeader(identity, (await proposer.propose({ $case: 'deleteRange', value: request }, identifyCall(deps.auth, call))) as etcdserverpb.DeleteRangeResponse);
    }),
    txn: unary(ctx, SERVICE, 'Txn', async (request: etcdserverpb.TxnRequest, call) => {
      await checkQuota(deps, { $case: 'txn', value: request });
      checkTxn(request, deps.maxTxnOps);
      return withHeader(identity, (await proposer.propose({ $case: 'txn', value: request }, identifyCall(deps.auth, call))) as etcdserverpb.TxnResponse);
    }),
    compact: unary(ctx, SERVICE, 'Compact', async (request: etcdserverpb.CompactionRequest, call) => {
      return withHeader(identity, (await proposer.propose({ $case: 'compaction', value: request }, identifyCall(deps.auth, call))) as etcdserverpb.CompactionResponse);
    }),
  };
}

/**
 * etcd's quotaKVServer, which runs before the request's own checks: a request that would take
 * the backend to its quota raises the NOSPACE alarm (through the log, so every member refuses
 * writes) and is refused with NoSpace, whether or not raising the alarm succeeded.
 */
async function checkQuota(deps: KvServiceDeps, request: QuotaRequest): Promise<void> {
  if (deps.quota.available(request)) return;
  const alarm = { action: etcdserverpb.AlarmRequest_AlarmAction.ACTIVATE, memberID: deps.identity.memberId, alarm: etcdserverpb.AlarmType.NOSPACE };
  try {
    await deps.proposer.propose({ $case: 'alarm', value: alarm });
  } catch (err) {
    if (!isCorvidError(err)) throw err;
  }
  throw new CorvidError('NoSpace');
}
