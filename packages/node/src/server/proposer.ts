/**
 * The write path between the API and Raft: stamps each request with a request id and this
 * member's id, encodes it as one `corvidpb.InternalRequest` log entry, checks etcd's size limit,
 * and hands it to the raft driver, which answers once the entry is durable in the WAL and applied.
 * The applier's outcome becomes the response (or the CorvidError it carries); a physical
 * compaction is awaited before answering, as etcd's Compact(physical: true).
 */
import type { ConfChange, ConfChangeType } from '@corvid/raft';
import { corvidpb } from '@corvid/proto';
import type { ApplyResponse, ApplyResult } from '../apply/index.js';
import type { AuthInfo } from '../auth/index.js';
import { CorvidError } from '../errors/index.js';
import type { RequestIdGenerator } from './request-id.js';

export type ProposalBody = NonNullable<corvidpb.InternalRequest['request']>;

/** Where encoded proposals go: the raft driver. */
export interface ProposalLog {
  propose(data: Uint8Array): Promise<ApplyResult>;
  proposeConfChange(cc: ConfChange): Promise<ApplyResult>;
}

export interface ProposerOptions {
  readonly memberId: bigint;
  readonly log: ProposalLog;
  readonly requestIds: RequestIdGenerator;
  /** etcd's --max-request-bytes: the encoded log entry may not be larger. */
  readonly maxRequestBytes: number;
  /** Wall-clock milliseconds stamped into the entry (the only clock an apply may see). */
  readonly nowMs: () => number;
}

export class Proposer {
  constructor(private readonly options: ProposerOptions) {}

  /** Proposes one request; resolves with its response once applied and durable, or rejects with a CorvidError. */
  async propose(body: ProposalBody, caller?: AuthInfo): Promise<ApplyResponse> {
    const { options } = this;
    const header = this.header(caller);
    const data = corvidpb.InternalRequest.encode({ header, request: body }).finish();
    // etcd compares the marshaled InternalRaftRequest with --max-request-bytes (v3_server.go).
    if (data.length > options.maxRequestBytes) throw new CorvidError('RequestTooLarge');
    return this.answer(await options.log.propose(data));
  }

  /** Proposes a membership change; its context names the member and carries the request header. */
  async proposeConfChange(type: ConfChangeType, nodeId: bigint, context: Omit<corvidpb.ConfChangeContext, 'header'>): Promise<ApplyResponse> {
    const encoded = corvidpb.ConfChangeContext.encode({ ...context, header: this.header() }).finish();
    return this.answer(await this.options.log.proposeConfChange({ type, nodeId, context: encoded }));
  }

  /** `caller`: who asked, as the API identified them; the applier checks their permissions (apply/apply-auth.ts). */
  private header(caller?: AuthInfo): corvidpb.RequestHeader {
    const { options } = this;
    return {
      id: options.requestIds.next(), memberId: options.memberId, proposedAtMs: BigInt(options.nowMs()),
      username: caller?.username ?? '', authRevision: BigInt(caller?.revision ?? 0),
    };
  }

  private async answer(result: ApplyResult): Promise<ApplyResponse> {
    if (!result.ok) throw result.error;
    if (result.afterCommit !== undefined) await result.afterCommit;
    return result.response;
  }
}
