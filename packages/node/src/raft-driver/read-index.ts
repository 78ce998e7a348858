/**
 * Linearizable reads by ReadIndex, batched as etcd's linearizableReadLoop batches them: every read
 * that arrives while no ReadIndex request is in flight joins the next one, so one quorum round
 * trip serves them all. A read resolves once the applied index reaches the read state's index.
 *
 * Failures are etcd 3.4's: a leader change while a batch waits answers it with
 * `etcdserver: leader changed`; no read state within the request timeout (no leader, a partition)
 * answers `etcdserver: request timed out`.
 */
import type { ReadState } from '@corvid/raft';
import { CorvidError } from '../errors/index.js';

interface Reader {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

interface Batch {
  readonly readers: Reader[];
  readonly deadlineMs: number;
  /** Set once the read state arrived: the batch waits for this applied index. */
  index: number | null;
}

export interface ReadIndexHost {
  /** Sends a ReadIndex request with this context; false when it could not even be sent. */
  requestReadIndex(ctx: Uint8Array): boolean;
  appliedIndex(): number;
  nowMs(): number;
}

/** At most this many batches wait at once (etcd's raft keeps 4096 pending read-only requests). */
const MAX_BATCHES = 1024;

export class ReadIndexBatcher {
  private waiting: Reader[] = [];
  private readonly inFlight = new Map<string, Batch>();
  private seq = 0n;

  /**
   * `onFailed` counts failed batches (etcd_server_read_indexes_failed_total); it gets the batch's
   * error, so a timed-out one also counts as slow (etcd_server_slow_read_indexes_total).
   */
  constructor(private readonly host: ReadIndexHost, private readonly timeoutMs: number, private readonly onFailed: (err: CorvidError) => void) {}

  /** Resolves when a read at this moment may be served from the local store. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
    });
  }

  hasWaiting(): boolean {
    return this.waiting.length > 0;
  }

  /** Sends one ReadIndex request for every reader that arrived since the last one. */
  flush(): void {
    if (this.waiting.length === 0) return;
    const readers = this.waiting;
    this.waiting = [];
    if (this.inFlight.size >= MAX_BATCHES) {
      this.fail(readers, new CorvidError('TooManyRequests'));
      return;
    }
    this.seq += 1n;
    const ctx = Buffer.allocUnsafe(8);
    ctx.writeBigUInt64BE(this.seq);
    const key = ctx.toString('hex');
    this.inFlight.set(key, { readers, deadlineMs: this.host.nowMs() + this.timeoutMs, index: null });
    // A dropped request (no leader) is not an answer: like etcd 3.4, the batch waits for its timeout.
    this.host.requestReadIndex(ctx);
  }

  /** Read states from a Ready: the batches they answer now wait for their index to be applied. */
  onReadStates(states: readonly ReadState[]): void {
    for (const s of states) {
      const batch = this.inFlight.get(Buffer.from(s.requestCtx).toString('hex'));
      if (batch !== undefined) batch.index = s.index;
    }
    this.onApplied();
  }

  /** Releases every batch whose read index is applied. */
  onApplied(): void {
    const applied = this.host.appliedIndex();
    for (const [key, batch] of this.inFlight) {
      if (batch.index === null || batch.index > applied) continue;
      this.inFlight.delete(key);
      for (const r of batch.readers) r.resolve();
    }
  }

  /** etcd's leaderChangedNotifier: batches still waiting for a read state fail with LeaderChanged. */
  onLeaderChange(): void {
    for (const [key, batch] of this.inFlight) {
      if (batch.index !== null) continue;
      this.inFlight.delete(key);
      this.fail(batch.readers, new CorvidError('LeaderChanged'));
    }
  }

  /** Answers the batches past their deadline with Timeout. */
  expire(): void {
    const now = this.host.nowMs();
    for (const [key, batch] of this.inFlight) {
      if (batch.deadlineMs > now) continue;
      this.inFlight.delete(key);
      this.fail(batch.readers, new CorvidError('Timeout'));
    }
  }

  rejectAll(err: () => unknown): void {
    const all = [...this.waiting, ...[...this.inFlight.values()].flatMap((b) => b.readers)];
    this.waiting = [];
    this.inFlight.clear();
    for (const r of all) r.reject(err());
  }

  private fail(readers: readonly Reader[], err: CorvidError): void {
    this.onFailed(err);
    for (const r of readers) r.reject(err);
  }
}
