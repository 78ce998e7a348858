/**
 * The leader's lease loop (etcd's lessor.runLoop and the expiredLeaseC consumer in
 * etcdserver.run). Every `intervalMs` (etcd: 500 ms) while this member's lessor is primary:
 * - revoke expired leases through the log, at most REVOKE_RATE per second (etcd: 1,000; see there),
 *   paced evenly over the first PACED_SHARE of each pass rather than proposed in one burst, with
 *   `maxPendingRevokes` proposals in flight, so one fsync'd batch carries many and puts between
 *   them wait for a small batch, not a pass's worth;
 * - propose due checkpoints of remaining TTLs, 1,000 leases per LeaseCheckpointRequest.
 * Leadership: on losing it the lessor is demoted at once (followers never expire leases); on
 * gaining it the lessor is promoted once every entry up to the new term's empty entry is applied
 * (etcd promotes when it applies that entry), extending each lease by one election timeout.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isCorvidError } from '../errors/index.js';
import type { Lessor } from '../lease/index.js';
import type { Logger } from '../util/logger.js';
import type { ProposalBody } from './proposer.js';

/** etcd's revokeExpiredLeases period. */
const DEFAULT_INTERVAL_MS = 500;
/** How often a new leader looks again whether its term's empty entry is applied, to promote its lessor. */
const PROMOTE_POLL_MS = 10;
/** etcd's maxLeaseCheckpointBatchSize. */
const MAX_CHECKPOINT_BATCH = 1000;
/** etcd's leaseCheckpointRate / 2: batches one pass may propose. */
const MAX_CHECKPOINT_BATCHES_PER_PASS = 500;
/** etcd's maxPendingRevokes is 16; a larger window lets one Raft batch carry more revokes. */
const DEFAULT_MAX_PENDING_REVOKES = 64;
/**
 * Expired leases revoked per second at most. etcd 3.4 revokes 1,000/s (leaseRevokeRate), so 100,000 leases that
 * expire together take 100 s to go. A revoke costs Corvid about 30 µs of apply and as much again of its batch's
 * commit, so 5,000/s holds about a third of a core, paced so puts keep their p99 (docs/benchmarks.md, issue 5):
 * the same 100,000 go in 20 s. Promote still spreads pile-ups at etcd's rate (Lessor.promote).
 */
export const REVOKE_RATE = 5000;
/** The share of a pass over which its revokes are proposed: the rest lets the last ones apply before the next tick. */
const PACED_SHARE = 0.8;

/** The raft driver as the loop sees it. */
export interface LeadershipSource {
  isLeader(): boolean;
  onLeadershipChange(listener: (isLeader: boolean) => void): void;
  status(): { readonly appliedIndex: number; readonly lastIndex: number };
}

export interface LeaseExpiryOptions {
  readonly lessor: Lessor;
  readonly raft: LeadershipSource;
  /** Proposes through the log and resolves once applied (Proposer.propose). */
  readonly propose: (body: ProposalBody) => Promise<unknown>;
  /** etcd promotes with Cfg.electionTimeout(): every lease gets this much extra on a new leader. */
  readonly electionTimeoutMs: number;
  readonly logger: Logger;
  readonly intervalMs?: number;
  readonly maxPendingRevokes?: number;
  /** Revokes per second at most (default REVOKE_RATE). */
  readonly revokeRate?: number;
}

export class LeaseExpiryLoop {
  private readonly options: LeaseExpiryOptions;
  private timer: NodeJS.Timeout | null = null;
  /** The index of the new term's empty entry: promote once it is applied. */
  private promoteAtIndex: number | null = null;
  private promoteTimer: NodeJS.Timeout | null = null;
  /** The running pass, awaited at close; a pass never overlaps the next. */
  private pass: Promise<void> | null = null;
  private closed = false;

  constructor(options: LeaseExpiryOptions) {
    this.options = options;
  }

  private get revokeRate(): number {
    return this.options.revokeRate ?? REVOKE_RATE;
  }

  start(): void {
    const { raft } = this.options;
    raft.onLeadershipChange((isLeader) => this.onLeadershipChange(isLeader));
    if (raft.isLeader()) this.onLeadershipChange(true);
    this.timer = setInterval(() => this.tick(), this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.promoteTimer !== null) clearTimeout(this.promoteTimer);
    this.timer = null;
    await this.pass;
    this.options.lessor.demote();
  }

  private onLeadershipChange(isLeader: boolean): void {
    const { lessor, raft, logger } = this.options;
    if (!isLeader) {
      this.promoteAtIndex = null;
      if (lessor.isPrimary()) logger.info('demoted lessor', { leases: lessor.size });
      lessor.demote();
      return;
    }
    // Called from inside the Ready loop: becomeLeader has appended the empty entry, so it is the last one.
    this.promoteAtIndex = raft.status().lastIndex;
    setImmediate(() => this.maybePromote());
  }

  private maybePromote(): void {
    const { lessor, raft, logger, electionTimeoutMs } = this.options;
    if (this.closed || this.promoteAtIndex === null || !raft.isLeader()) return;
    if (raft.status().appliedIndex < this.promoteAtIndex) {
      // Not committed yet (a quorum has to acknowledge it): keepalives wait for the promotion, so look again soon.
      this.promoteTimer ??= setTimeout(() => {
        this.promoteTimer = null;
        this.maybePromote();
      }, PROMOTE_POLL_MS);
      return;
    }
    this.promoteAtIndex = null;
    lessor.promote(electionTimeoutMs);
    logger.info('promoted lessor', { leases: lessor.size, 'extend-ms': electionTimeoutMs });
  }

  private tick(): void {
    this.maybePromote();
    if (this.closed || this.pass !== null || !this.options.lessor.isPrimary()) return;
    this.pass = this.runPass().finally(() => {
      this.pass = null;
    });
  }

  private async runPass(): Promise<void> {
    await this.revokeExpired();
    await this.checkpointDue();
  }

  /** Up to one pass's share of the revoke rate (etcd's revokeLimit), the k-th proposed k / (rate / PACED_SHARE) s into the pass. */
  private async revokeExpired(): Promise<void> {
    const { lessor, propose, logger } = this.options;
    const intervalMs = this.options.intervalMs ?? DEFAULT_INTERVAL_MS;
    const limit = Math.max(1, Math.floor((this.revokeRate * intervalMs) / 1000));
    const expired = lessor.findExpired(limit);
    if (expired.length === 0) return;
    lessor.metrics.expiryBatchLeases.observe(expired.length);
    let next = 0;
    const startedAt = performance.now();
    const spacingMs = (PACED_SHARE * 1000) / this.revokeRate;
    const worker = async (): Promise<void> => {
      while (next < expired.length && !this.closed && lessor.isPrimary()) {
        const k = next++;
        const id = expired[k] as bigint;
        const wait = startedAt + k * spacingMs - performance.now();
        if (wait >= 1) await delay(wait);
        if (this.closed || !lessor.isPrimary()) return;
        try {
          await propose({ $case: 'leaseRevoke', value: { ID: id } });
          lessor.metrics.expired.inc();
        } catch (err) {
          if (isCorvidError(err, 'LeaseNotFound')) continue;
          if (!isCorvidError(err)) throw err;
          // Left to the retry interval: the lessor finds it again if it is still there.
          logger.warn('failed to revoke expired lease', { 'lease-id': id, error: err.code });
        }
      }
    };
    const workers = Math.min(this.options.maxPendingRevokes ?? DEFAULT_MAX_PENDING_REVOKES, expired.length);
    await Promise.all(Array.from({ length: workers }, worker));
  }

  private async checkpointDue(): Promise<void> {
    const { lessor, propose, logger } = this.options;
    for (let i = 0; i < MAX_CHECKPOINT_BATCHES_PER_PASS && !this.closed && lessor.isPrimary(); i++) {
      const checkpoints = lessor.findDueCheckpoints(MAX_CHECKPOINT_BATCH);
      if (checkpoints.length === 0) return;
      lessor.metrics.checkpoints.inc(checkpoints.length);
      lessor.metrics.checkpointBatchLeases.observe(checkpoints.length);
      try {
        await propose({ $case: 'leaseCheckpoint', value: { checkpoints } });
      } catch (err) {
        if (!isCorvidError(err)) throw err;
        // The leases stay scheduled one interval on; a new leader starts from the last applied checkpoint.
        logger.warn('failed to checkpoint leases', { leases: checkpoints.length, error: err.code });
      }
      if (checkpoints.length < MAX_CHECKPOINT_BATCH) return;
    }
  }
}

/**
 * etcd's minimum lease TTL (etcdserver.NewServer): ceil of ((3 × electionTicks) / 2) heartbeats in
 * seconds, integer division included (1000/100 ms → 15 ticks → 2 s).
 */
export function minLeaseTtlSeconds(heartbeatIntervalMs: number, electionTimeoutMs: number): number {
  const electionTicks = Math.floor(electionTimeoutMs / heartbeatIntervalMs);
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * heartbeatIntervalMs) / 1000);
}
