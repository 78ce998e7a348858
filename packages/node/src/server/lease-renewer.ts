/**
 * Where keepalives and TimeToLive lookups go. Renewals do not go through Raft: only the leader's
 * (primary) lessor knows when a lease expires, so it alone renews and answers TimeToLive. etcd's
 * followers forward both to the leader over the peer HTTP API (`/leases`, `/leases/internal`;
 * EtcdServer.LeaseRenew and LeaseTimeToLive). Here that hop is the `LeaseForwarder` seam: the
 * cluster transport provides it; until it does (one member), a member whose lessor is not yet
 * primary waits for its promotion, bounded by the request timeout.
 *
 * The leader side of a forwarded call must use `renewLocal` / `timeToLiveLocal`, never forward
 * again.
 */
import { CorvidError, isCorvidError } from '../errors/index.js';
import type { Lessor } from '../lease/index.js';

/** A lease as TimeToLive reports it; undefined when the lease does not exist. */
export interface LeaseTimeToLive {
  /** Whole seconds left (truncated, as etcd's int64(Remaining().Seconds())). */
  readonly ttlSeconds: number;
  readonly grantedTtlSeconds: number;
  /** The attached keys, in byte order, when asked for. */
  readonly keys: readonly Buffer[];
}

/** The granted TTL after a renewal, or not found (a keepalive then answers TTL 0). */
export type RenewResult = { readonly found: true; readonly ttlSeconds: number } | { readonly found: false };

/** What the Lease service asks. */
export interface LeaseRenewer {
  renew(id: bigint, signal?: AbortSignal): Promise<RenewResult>;
  timeToLive(id: bigint, keys: boolean, signal?: AbortSignal): Promise<LeaseTimeToLive | undefined>;
}

/**
 * The hop to the leader's lessor, for the cluster work to implement (etcd: leasehttp.RenewHTTP and
 * TimeToLiveHTTP to the leader's peer URLs). `leaderId` is the Raft leader this member knows.
 * Implementations call the leader's `renewLocal` / `timeToLiveLocal` and reject with a CorvidError
 * (`Timeout`, `NoLeader`, `LeaderChanged`) when the hop fails; the renewer then retries until its deadline.
 */
export interface LeaseForwarder {
  renew(leaderId: bigint, id: bigint, signal: AbortSignal): Promise<RenewResult>;
  timeToLive(leaderId: bigint, id: bigint, keys: boolean, signal: AbortSignal): Promise<LeaseTimeToLive | undefined>;
}

export interface LeaderLeasesOptions {
  readonly memberId: bigint;
  readonly lessor: Lessor;
  /** The leader this member knows (0 = none). */
  readonly leader: () => bigint;
  /** etcd's ReqTimeout (5 s + 2 × election timeout): how long a call waits for a primary lessor. */
  readonly requestTimeoutMs: number;
  readonly forwarder?: LeaseForwarder;
  /** How often a waiting call looks again for a leader or a promotion. */
  readonly pollMs?: number;
}

const DEFAULT_POLL_MS = 25;

export class LeaderLeases implements LeaseRenewer {
  constructor(private readonly options: LeaderLeasesOptions) {}

  renew(id: bigint, signal?: AbortSignal): Promise<RenewResult> {
    return this.route(signal, () => this.renewNow(id), (leader, s) => this.options.forwarder?.renew(leader, id, s));
  }

  timeToLive(id: bigint, keys: boolean, signal?: AbortSignal): Promise<LeaseTimeToLive | undefined> {
    return this.route(signal, () => this.timeToLiveNow(id, keys), (leader, s) => this.options.forwarder?.timeToLive(leader, id, keys, s));
  }

  /**
   * For a renewal forwarded to this member as the leader: waits for its promotion, never forwards,
   * and refuses at once with NotLeader when another member is the leader, so the sender retries there.
   */
  renewLocal(id: bigint, signal?: AbortSignal): Promise<RenewResult> {
    return this.route(signal, () => this.renewNow(id), null);
  }

  timeToLiveLocal(id: bigint, keys: boolean, signal?: AbortSignal): Promise<LeaseTimeToLive | undefined> {
    return this.route(signal, () => this.timeToLiveNow(id, keys), null);
  }

  private renewNow(id: bigint): { done: true; value: RenewResult } | { done: false } {
    const outcome = this.options.lessor.renew(id);
    if (outcome.ok) return { done: true, value: { found: true, ttlSeconds: outcome.ttlSeconds } };
    if (outcome.reason === 'not-found') return { done: true, value: { found: false } };
    return { done: false };
  }

  private timeToLiveNow(id: bigint, keys: boolean): { done: true; value: LeaseTimeToLive | undefined } | { done: false } {
    const { lessor } = this.options;
    if (!lessor.isPrimary()) return { done: false };
    const lease = lessor.lookup(id);
    const remainingMs = lessor.remainingMs(id);
    if (lease === undefined || remainingMs === undefined) return { done: true, value: undefined };
    return {
      done: true,
      value: { ttlSeconds: Math.trunc(remainingMs / 1000), grantedTtlSeconds: lease.ttlSeconds, keys: keys ? lessor.keys(id) : [] },
    };
  }

  /**
   * Answers locally while this lessor is primary; otherwise forwards to a known leader, or waits for
   * a leader (or this member's promotion) until the request timeout (etcd: ErrTimeout). `forward`
   * null: a forwarded call, answered here or refused with NotLeader.
   */
  private async route<T>(
    signal: AbortSignal | undefined,
    local: () => { done: true; value: T } | { done: false },
    forward: ((leader: bigint, signal: AbortSignal) => Promise<T> | undefined) | null,
  ): Promise<T> {
    const { memberId, leader, requestTimeoutMs } = this.options;
    const deadline = AbortSignal.timeout(requestTimeoutMs);
    const stop = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
    for (;;) {
      const here = local();
      if (here.done) return here.value;
      const lead = leader();
      if (lead !== 0n && lead !== memberId && forward === null) throw new CorvidError('NotLeader');
      if (lead !== 0n && lead !== memberId && forward !== null) {
        try {
          const there = forward(lead, stop);
          if (there !== undefined) return await there;
        } catch (err) {
          if (!isCorvidError(err) || stop.aborted) throw err;
        }
      }
      if (stop.aborted) break;
      await sleep(this.options.pollMs ?? DEFAULT_POLL_MS, stop);
      if (stop.aborted) break;
    }
    throw new CorvidError(signal?.aborted === true ? 'Stopped' : 'Timeout');
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
