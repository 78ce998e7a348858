/**
 * etcd 3.4's auto-compaction (etcdserver/api/v3compactor), run on every member but acting only
 * while it leads (etcd pauses the compactor on followers), through the ordinary Compact proposal.
 *
 * periodic (retention P): every P/10 (at most 6 min) it records the current revision, keeping the
 * last P/(P/10)+1 of them, so the oldest is the revision of about P ago. Once P has passed since
 * the start, and then every min(P, 1 h) after a success, it compacts to that oldest revision.
 * revision (retention R): every 5 min it compacts to current − R, unless that is ≤ 0 or the same
 * revision as the last success. A compaction that finds the revision already compacted counts as
 * done, as etcd's (ErrCompacted).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AutoCompaction } from '../config/index.js';
import type { Logger } from '../util/logger.js';

/** etcd's revInterval: how often revision mode looks at the current revision. */
export const REVISION_MODE_INTERVAL_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;
/** etcd's retryDivisor: periodic mode samples the revision every tenth of the (capped) period. */
const RETRY_DIVISOR = 10;

export interface AutoCompactorClock {
  nowMs(): number;
  /** Resolves after `ms`, or rejects (AbortError) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const REAL_AUTO_COMPACTOR_CLOCK: AutoCompactorClock = {
  nowMs: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

export interface AutoCompactorDeps {
  readonly policy: AutoCompaction;
  currentRevision(): number;
  isLeader(): boolean;
  /** Proposes Compact(rev) and resolves once applied. */
  compact(rev: number): Promise<void>;
  /** Whether a failed compact means the revision was compacted already (etcd treats that as success). */
  isCompacted(err: unknown): boolean;
  readonly logger: Logger;
  readonly clock?: AutoCompactorClock;
}

export class AutoCompactor {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly clock: AutoCompactorClock;
  private readonly aborted = new Promise<never>((_resolve, reject) => {
    this.abort.signal.addEventListener('abort', () => reject(new Error('auto-compaction stopped')), { once: true });
  });

  constructor(private readonly deps: AutoCompactorDeps) {
    this.clock = deps.clock ?? REAL_AUTO_COMPACTOR_CLOCK;
    // Never unhandled: only raced against proposals.
    this.aborted.catch(() => undefined);
  }

  start(): void {
    const { policy } = this.deps;
    if (policy.mode === 'off' || this.loop !== undefined) return;
    const run = policy.mode === 'periodic' ? this.runPeriodic(policy.retentionMs) : this.runRevision(policy.retentionRevisions);
    this.loop = run.catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.deps.logger.error('auto-compaction stopped', { error: err });
    });
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async runPeriodic(periodMs: number): Promise<void> {
    const compactIntervalMs = Math.min(periodMs, HOUR_MS);
    const retryIntervalMs = compactIntervalMs / RETRY_DIVISOR;
    const retentions = Math.floor(periodMs / retryIntervalMs) + 1;
    const revs: number[] = [];
    let lastSuccessMs = this.clock.nowMs();
    let baseIntervalMs = periodMs;
    const fields = (rev: number): Record<string, unknown> => ({ revision: rev, 'compact-period': formatDuration(periodMs) });
    for (;;) {
      revs.push(this.deps.currentRevision());
      if (revs.length > retentions) revs.shift();
      await this.clock.sleep(retryIntervalMs, this.abort.signal);
      if (!this.deps.isLeader() || this.clock.nowMs() - lastSuccessMs < baseIntervalMs) continue;
      // The first compaction waits the whole period; later ones every compact interval.
      baseIntervalMs = compactIntervalMs;
      const rev = revs[0] as number;
      this.deps.logger.info('starting auto periodic compaction', fields(rev));
      if (await this.compact(rev, { ...fields(rev), 'retry-interval': formatDuration(retryIntervalMs) }, 'failed auto periodic compaction')) {
        this.deps.logger.info('completed auto periodic compaction', { ...fields(rev), took: formatDuration(this.clock.nowMs() - lastSuccessMs) });
        lastSuccessMs = this.clock.nowMs();
      }
    }
  }

  private async runRevision(retention: number): Promise<void> {
    let prev = 0;
    const fields = (rev: number): Record<string, unknown> => ({ revision: rev, 'revision-compaction-retention': retention });
    for (;;) {
      await this.clock.sleep(REVISION_MODE_INTERVAL_MS, this.abort.signal);
      if (!this.deps.isLeader()) continue;
      const rev = this.deps.currentRevision() - retention;
      if (rev <= 0 || rev === prev) continue;
      const startMs = this.clock.nowMs();
      this.deps.logger.info('starting auto revision compaction', fields(rev));
      if (await this.compact(rev, { ...fields(rev), 'retry-interval': formatDuration(REVISION_MODE_INTERVAL_MS) }, 'failed auto revision compaction')) {
        prev = rev;
        this.deps.logger.info('completed auto revision compaction', { ...fields(rev), took: formatDuration(this.clock.nowMs() - startMs) });
      }
    }
  }

  /** true when compacted (now or before); a failure is logged and retried at the next interval, as etcd's. */
  private async compact(rev: number, fields: Record<string, unknown>, failedMsg: string): Promise<boolean> {
    try {
      // Closing does not wait for a proposal that may only time out once the raft loop has stopped.
      await Promise.race([this.deps.compact(rev), this.aborted]);
      return true;
    } catch (err) {
      if (this.deps.isCompacted(err)) return true;
      if (this.abort.signal.aborted) throw err;
      this.deps.logger.warn(failedMsg, { ...fields, error: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }
}

/** Go's time.Duration.String() for whole milliseconds ("2s", "1m30s", "1h0m0s", "250ms"). */
export function formatDuration(ms: number): string {
  const whole = Math.round(ms);
  if (whole < 1000) return whole === 0 ? '0s' : `${whole}ms`;
  const h = Math.floor(whole / HOUR_MS);
  const m = Math.floor((whole % HOUR_MS) / 60_000);
  const s = (whole % 60_000) / 1000;
  const sText = `${Number(s.toFixed(3))}s`;
  if (h > 0) return `${h}h${m}m${sText}`;
  return m > 0 ? `${m}m${sText}` : sText;
}
