/**
 * etcdserverpb.KV: checks each request as etcd's v3rpc does, serves ranges from the store and
 * sends writes through the proposer, then completes the response header.
 */
import { etcdserverpb } from '@corvid/proto';
import type { QuotaChecker, QuotaRequest } from '../alarm/index.js';
import { CorvidError, isCorvidError } from '../errors/index.js';
import type { KvStore } from '../mvcc/index.js';
import type { Proposer } from '../server/proposer.js';
import { withHeader, type MemberIdentity } from './header.js';
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
}

const SERVICE = 'etcdserverpb.KV';

export function createKvService(ctx: UnaryContext, deps: KvServiceDeps): etcdserverpb.KVServer {
  const { identity, kv, proposer } = deps;
  return {
    range: unary(ctx, SERVICE, 'Range', async (request: etcdserverpb.RangeRequest) => {
      checkRangeRequest(request);
      if (!request.serializable) await deps.readBarrier();
      return withHeader(identity, kv.range(request));
    }),
    put: unary(ctx, SERVICE, 'Put', async (request: etcdserverpb.PutRequest) => {
      await checkQuota(deps, { $case: 'put', value: request });
      checkPutRequest(request);
      return withHeader(identity, (await proposer.propose({ $case: 'put', value: request })) as etcdserverpb.PutResponse);
    }),
    deleteRange: unary(ctx, SERVICE, 'DeleteRange', async (request: etcdserverpb.DeleteRangeRequest) => {
      checkDeleteRequest(request);
      return withHeader(identity, (await proposer.propose({ $case: 'deleteRange', value: request })) as etcdserverpb.DeleteRangeResponse);
    }),
    txn: unary(ctx, SERVICE, 'Txn', async (request: etcdserverpb.TxnRequest) => {
      await checkQuota(deps, { $case: 'txn', value: request });
      checkTxn(request, deps.maxTxnOps);
      return withHeader(identity, (await proposer.propose({ $case: 'txn', value: request })) as etcdserverpb.TxnResponse);
    }),
    compact: unary(ctx, SERVICE, 'Compact', async (request: etcdserverpb.CompactionRequest) => {
      return withHeader(identity, (await proposer.propose({ $case: 'compaction', value: request })) as etcdserverpb.CompactionResponse);
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
