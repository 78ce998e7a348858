/**
 * The write path between the API and the applier: request id → waiter. A proposal is encoded as
 * one `corvidpb.InternalRequest` log entry; entries proposed in one event-loop turn are applied as
 * one batch (one LMDB transaction) and answered only once that batch is durable.
 *
 * Until Raft lands (issue #4) the member is its own quorum: the ordered log is this in-process
 * queue and "committed" means "next in line". The applier is fed exactly as Raft's committed
 * entries will feed it, so the cluster issue replaces this file's `LocalLog`, not the store.
 */
import { corvidpb } from '@corvid/proto';
import type { ApplyResponse, ApplyResult, LogEntry } from '../apply/index.js';
import { CorvidError } from '../errors/index.js';
import type { RequestIdGenerator } from './request-id.js';
import type { ServerMetrics } from './metrics.js';

export type ProposalBody = NonNullable<corvidpb.InternalRequest['request']>;

/** What the proposer needs from the applier and the backend: apply in order, then wait for disk. */
export interface ApplyTarget {
  appliedIndex(): number;
  applyBatch(entries: readonly LogEntry[]): ApplyResult[];
}
export interface DurableStore {
  flushed(): Promise<void>;
}

export interface ProposerOptions {
  readonly memberId: bigint;
  readonly applier: ApplyTarget;
  readonly store: DurableStore;
  readonly requestIds: RequestIdGenerator;
  readonly metrics: ServerMetrics;
  /** etcd's --max-request-bytes: the encoded log entry may not be larger. */
  readonly maxRequestBytes: number;
  /** Bound on proposals waiting for the next batch; beyond it callers get ErrTooManyRequests. */
  readonly maxPendingProposals: number;
  readonly nowMs: () => number;
  /** Called once if applying or syncing fails: the member cannot go on and must stop. */
  readonly onFatal: (err: unknown) => void;
}

interface Waiter {
  readonly entry: LogEntry;
  readonly resolve: (result: ApplyResult) => void;
  readonly reject: (err: unknown) => void;
}

export class Proposer {
  private pending: Waiter[] = [];
  private flushScheduled = false;
  /** The batch being applied and synced; awaited by close(). */
  private inFlight: Promise<void> = Promise.resolve();
  private nextIndex: number;
  private closed = false;

  constructor(private readonly options: ProposerOptions) {
    this.nextIndex = options.applier.appliedIndex() + 1;
  }

  /** Proposes one request; resolves with its response once applied and durable, or rejects with a CorvidError. */
  async propose(body: ProposalBody): Promise<ApplyResponse> {
    const result = await this.enqueue(body);
    if (!result.ok) throw result.error;
    if (result.afterCommit !== undefined) await result.afterCommit;
    return result.response;
  }

  private enqueue(body: ProposalBody): Promise<ApplyResult> {
    const { options } = this;
    if (this.closed) return Promise.reject(new CorvidError('Stopped'));
    if (this.pending.length >= options.maxPendingProposals) {
      options.metrics.proposalsFailed.inc();
      return Promise.reject(new CorvidError('TooManyRequests'));
    }
    const header = { id: options.requestIds.next(), memberId: options.memberId, proposedAtMs: BigInt(options.nowMs()) };
    const data = corvidpb.InternalRequest.encode({ header, request: body }).finish();
    // etcd compares the marshaled InternalRaftRequest with --max-request-bytes (v3_server.go).
    if (data.length > options.maxRequestBytes) return Promise.reject(new CorvidError('RequestTooLarge'));
    return new Promise<ApplyResult>((resolve, reject) => {
      this.pending.push({ entry: { index: this.nextIndex++, data }, resolve, reject });
      options.metrics.proposalsPending.inc();
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate lets every request that arrived in this event-loop turn join the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      const batch = this.pending;
      this.pending = [];
      if (this.closed && batch.length === 0) return;
      this.applyBatch(batch);
    });
  }

  /**
   * Applies one batch in one transaction now, and answers its callers once it is on disk. The
   * next batch does not wait for this one's sync: commits are ordered, so syncs complete in order
   * and the answers go out in log order while the disk overlaps the next apply.
   */
  private applyBatch(batch: readonly Waiter[]): void {
    const { metrics, applier, store } = this.options;
    metrics.proposalsPending.dec(batch.length);
    metrics.proposalsCommitted.inc(batch.length);
    const startedAt = process.hrtime.bigint();
    let results: ApplyResult[];
    let durable: Promise<void>;
    try {
      results = applier.applyBatch(batch.map((w) => w.entry));
      durable = store.flushed();
    } catch (err) {
      this.failAll(batch, err);
      return;
    }
    this.inFlight = this.inFlight
      .then(() => durable)
      .then(
        () => {
          metrics.commitSeconds.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
          metrics.proposalsApplied.inc(batch.length);
          batch.forEach((w, i) => {
            const result = results[i];
            if (result === undefined) w.reject(new CorvidError('Stopped', { detail: 'applier returned no result' }));
            else w.resolve(result);
          });
        },
        (err: unknown) => this.failAll(batch, err),
      );
  }

  /**
   * A failing apply or sync is a broken invariant (disk gone, store corrupt): fail the callers,
   * stop accepting writes, and let onFatal log it and stop the member.
   */
  private failAll(batch: readonly Waiter[], err: unknown): void {
    this.closed = true;
    for (const w of batch) w.reject(new CorvidError('Stopped', { cause: err }));
    for (const w of this.pending) w.reject(new CorvidError('Stopped', { cause: err }));
    this.pending = [];
    this.options.onFatal(err);
  }

  /** Refuses new proposals and waits for the batch in flight (and any already queued) to finish. */
  async close(): Promise<void> {
    this.closed = true;
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.inFlight;
  }

}
