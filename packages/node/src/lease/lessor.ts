/**
 * The lessor (etcd's lease.lessor): every granted lease, the keys attached to it, and — on the
 * leader only — when each lease expires and when it is next checkpointed.
 *
 * Two faces, kept apart:
 * - the apply face (`grant`, `revoke`, `attach`, `detach`, `checkpoint`) takes the open write
 *   transaction first, persists in it, and never reads a clock: the only time it sees is the
 *   entry's proposer-stamped `atMs`. Its persisted state (`leases`, `leaseKeys`) is the same on
 *   every member fed the same log.
 * - the primary face (`promote`, `demote`, `renew`, `findExpired`, `findDueCheckpoints`,
 *   `remainingMs`) is volatile leader bookkeeping on the injected wall clock (the same base as
 *   `proposedAtMs`). A member that is not primary holds every lease "forever": followers never
 *   expire leases on their own.
 */
import { etcdserverpb } from '@corvid/proto';
import { Registry } from 'prom-client';
import { assert, CorvidError } from '../errors/index.js';
import type { Backend, WriteTxn } from '../storage/index.js';
import { decodeLeaseKey, decodeLeaseValue, encodeLeaseKey, encodeLeaseKeysKey, encodeLeaseValue } from '../storage/schema.js';
import { IndexedHeap } from './indexed-heap.js';
import { LeaseMetrics } from './metrics.js';

/** etcd's MaxLeaseTTL: 9,000,000,000 seconds (~285 years). */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;
/** etcd's leaseRevokeRate: expired leases revoked per second at most. */
export const LEASE_REVOKE_RATE = 1000;
/** etcd's expiredLeaseRetryInterval: an expired lease whose revoke did not land is tried again after this. */
export const EXPIRED_LEASE_RETRY_INTERVAL_MS = 3000;
/** etcd's default --experimental-lease-checkpoint-interval (defaultLeaseCheckpointInterval). */
export const DEFAULT_LEASE_CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;

/** A lease as every member knows it. `remainingTtlSeconds` is the last checkpoint (0: none). */
export interface LeaseView {
  readonly id: bigint;
  readonly ttlSeconds: number;
  readonly remainingTtlSeconds: number;
}

interface LeaseState {
  readonly id: bigint;
  readonly ttlSeconds: number;
  remainingTtlSeconds: number;
  /** Wall-clock ms at which the leader revokes it; Infinity while this member is not primary. */
  expiryMs: number;
}

export interface LessorOptions {
  readonly registry?: Registry;
  /** Wall-clock milliseconds, the base of entries' `proposedAtMs`. */
  readonly nowMs?: () => number;
  /** Checkpoint remaining TTLs this often (leases with a longer TTL only); 0 switches checkpoints off. */
  readonly checkpointIntervalMs?: number;
}

/** What the put, delete and txn appliers need: does a lease exist, and (de)attach a key. */
export interface KeyLeases {
  has(id: bigint): boolean;
  attach(txn: WriteTxn, id: bigint, key: Buffer): void;
  detach(txn: WriteTxn, id: bigint, key: Buffer): void;
}

export type RenewOutcome = { readonly ok: true; readonly ttlSeconds: number } | { readonly ok: false; readonly reason: 'not-found' | 'not-primary' };

export class Lessor implements KeyLeases {
  readonly metrics: LeaseMetrics;
  readonly checkpointIntervalMs: number;
  private readonly backend: Backend;
  private readonly nowMs: () => number;
  private readonly leases = new Map<bigint, LeaseState>();
  /** Primary only: every lease by expiry (or by retry time once its revoke was proposed). */
  private readonly expiries = new IndexedHeap();
  /** Primary only: leases by the time of their next checkpoint. */
  private readonly checkpoints = new IndexedHeap();
  /** Primary only: renewed leases whose persisted checkpoint must be cleared (etcd PR #13508). */
  private readonly clears = new Set<bigint>();
  private primary = false;
  private promotedAtMs = 0;

  constructor(backend: Backend, options: LessorOptions = {}) {
    this.backend = backend;
    this.nowMs = options.nowMs ?? Date.now;
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? DEFAULT_LEASE_CHECKPOINT_INTERVAL_MS;
    this.metrics = new LeaseMetrics(options.registry ?? new Registry());
    this.reload();
  }

  /** Reads the leases from disk (at start, and after an aborted batch); keeps known expiries. */
  reload(): void {
    const before = new Map(this.leases);
    this.leases.clear();
    for (const { key, value } of this.backend.leases.getRange({})) {
      const id = decodeLeaseKey(key);
      const { ttlSeconds, remainingTtlSeconds } = decodeLeaseValue(value);
      this.leases.set(id, { id, ttlSeconds, remainingTtlSeconds, expiryMs: before.get(id)?.expiryMs ?? Infinity });
    }
    for (const id of before.keys()) {
      if (!this.leases.has(id)) this.forget(id);
    }
    if (this.primary) for (const l of this.leases.values()) if (!this.expiries.has(l.id)) this.refresh(l, this.nowMs(), 0);
  }

  // ---- apply face: deterministic, takes the write transaction, never reads the clock ----

  /**
   * Grants a lease (etcd's lessor.Grant). The TTL is already raised to the minimum by the API, so
   * every member stores the same one. `atMs` is the entry's proposedAtMs: a primary counts the TTL
   * from it (or from its promotion, if later).
   */
  grant(_txn: WriteTxn, id: bigint, ttlSeconds: number, atMs: number): LeaseView {
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) throw new CorvidError('LeaseTTLTooLarge');
    if (this.leases.has(id)) throw new CorvidError('LeaseExist');
    assert(id !== 0n, 'lease id 0 is NoLease; the API chooses an id first');
    const lease: LeaseState = { id, ttlSeconds, remainingTtlSeconds: 0, expiryMs: Infinity };
    this.backend.leases.put(encodeLeaseKey(id), encodeLeaseValue(ttlSeconds, 0));
    this.leases.set(id, lease);
    this.metrics.granted.inc();
    this.metrics.ttls.observe(ttlSeconds);
    if (this.primary) {
      this.refresh(lease, Math.max(atMs, this.promotedAtMs), 0);
      this.scheduleCheckpoint(lease, Math.max(atMs, this.promotedAtMs));
    }
    return lease;
  }

  /** Throws LeaseNotFound unless `id` exists (a revoke's check, before any write). */
  mustExist(id: bigint): LeaseView {
    const lease = this.leases.get(id);
    if (lease === undefined) throw new CorvidError('LeaseNotFound');
    return lease;
  }

  /**
   * Forgets lease `id` and its attachments; the caller deleted its keys in the same transaction (and passes the
   * `keys(id)` it read for that, so they are not read twice).
   */
  revoke(_txn: WriteTxn, id: bigint, keys: readonly Buffer[]): void {
    this.mustExist(id);
    for (const key of keys) this.backend.leaseKeys.removeSync(encodeLeaseKeysKey(id, key));
    this.backend.leases.removeSync(encodeLeaseKey(id));
    this.forget(id);
    this.metrics.revoked.inc();
  }

  has(id: bigint): boolean {
    return this.leases.has(id);
  }

  attach(_txn: WriteTxn, id: bigint, key: Buffer): void {
    assert(this.leases.has(id), 'attaching a key to a lease that does not exist');
    this.backend.leaseKeys.put(encodeLeaseKeysKey(id, key), Buffer.alloc(0));
  }

  detach(_txn: WriteTxn, id: bigint, key: Buffer): void {
    this.backend.leaseKeys.removeSync(encodeLeaseKeysKey(id, key));
  }

  /**
   * Records a lease's checkpointed remaining TTL (etcd's lessor.Checkpoint, persisted as with
   * etcd 3.5's --experimental-enable-lease-checkpoint-persist). It does not move the leader's
   * expiry: a new leader's `promote` starts from it. 0 clears it (a renewal happened). Unknown ids
   * are skipped, as etcd's.
   */
  checkpoint(_txn: WriteTxn, id: bigint, remainingTtlSeconds: number): void {
    const lease = this.leases.get(id);
    if (lease === undefined) return;
    lease.remainingTtlSeconds = Math.max(0, remainingTtlSeconds);
    this.backend.leases.put(encodeLeaseKey(id), encodeLeaseValue(lease.ttlSeconds, lease.remainingTtlSeconds));
  }

  // ---- reads: any member ----

  lookup(id: bigint): LeaseView | undefined {
    return this.leases.get(id);
  }

  /** The keys attached to lease `id`, in byte order (etcd sorts them too before revoking). */
  keys(id: bigint): Buffer[] {
    const prefix = encodeLeaseKey(id);
    const out: Buffer[] = [];
    for (const { key } of this.backend.leaseKeys.getRange({ start: prefix })) {
      if (key.length < 8 || key.compare(prefix, 0, 8, 0, 8) !== 0) break;
      out.push(Buffer.from(key.subarray(8)));
    }
    return out;
  }

  /** Every lease id, soonest expiry first (etcd's lessor.Leases sorts by expiry), ties by id. */
  list(): bigint[] {
    return [...this.leases.values()].sort((a, b) => a.expiryMs - b.expiryMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((l) => l.id);
  }

  get size(): number {
    return this.leases.size;
  }

  // ---- primary face: the leader's volatile bookkeeping, on the wall clock ----

  isPrimary(): boolean {
    return this.primary;
  }

  /**
   * Becomes the primary lessor (etcd's lessor.Promote), once the new leader has applied every entry
   * of earlier terms: each lease expires `extendMs` plus its checkpointed remaining TTL (or, without
   * a checkpoint, its full TTL) from now; then, past `LEASE_REVOKE_RATE` leases, expiries that would
   * pile up are spread so at most 3/4 of the revoke rate falls due in any second.
   */
  promote(extendMs: number): void {
    const now = this.nowMs();
    this.primary = true;
    this.promotedAtMs = now;
    this.expiries.clear();
    this.checkpoints.clear();
    this.clears.clear();
    for (const lease of this.leases.values()) {
      this.refresh(lease, now, extendMs);
      this.scheduleCheckpoint(lease, now);
    }
    if (this.leases.size < LEASE_REVOKE_RATE) return;
    const byExpiry = [...this.leases.values()].sort((a, b) => a.expiryMs - b.expiryMs);
    const first = byExpiry[0] as LeaseState;
    let baseWindow = first.expiryMs - now;
    let nextWindow = baseWindow + 1000;
    let expires = 0;
    const targetExpiresPerSecond = (3 * LEASE_REVOKE_RATE) / 4;
    for (const lease of byExpiry) {
      const remaining = lease.expiryMs - now;
      if (remaining > nextWindow) {
        baseWindow = remaining;
        nextWindow = baseWindow + 1000;
        expires = 1;
        continue;
      }
      expires += 1;
      if (expires <= targetExpiresPerSecond) continue;
      // If leases are extended by n seconds, leases n seconds ahead of the base window are extended by only one second.
      const delayMs = 1000 * (expires / targetExpiresPerSecond) - (remaining - baseWindow);
      nextWindow = baseWindow + delayMs;
      this.refresh(lease, now, delayMs + extendMs);
    }
  }

  /** Stops being primary (etcd's lessor.Demote): every lease is held forever until the next promote. */
  demote(): void {
    this.primary = false;
    for (const lease of this.leases.values()) lease.expiryMs = Infinity;
    this.expiries.clear();
    this.checkpoints.clear();
    this.clears.clear();
  }

  /**
   * Renews a lease to its full TTL (etcd's lessor.Renew). An expired lease whose revoke is under way
   * is not found (etcd waits for that revoke; its answer is the same). A lease with a persisted
   * checkpoint is queued to have it cleared through the log, so a later leader does not restore a
   * remaining TTL older than this renewal.
   */
  renew(id: bigint): RenewOutcome {
    if (!this.primary) return { ok: false, reason: 'not-primary' };
    const lease = this.leases.get(id);
    const now = this.nowMs();
    if (lease === undefined || lease.expiryMs <= now) return { ok: false, reason: 'not-found' };
    if (this.checkpointIntervalMs > 0 && lease.remainingTtlSeconds > 0) this.clears.add(id);
    this.refresh(lease, now, 0, true);
    if (!this.checkpoints.has(id)) this.scheduleCheckpoint(lease, now);
    this.metrics.renewed.inc();
    return { ok: true, ttlSeconds: lease.ttlSeconds };
  }

  /** Milliseconds until lease `id` expires on this primary (negative once due), or undefined. */
  remainingMs(id: bigint): number | undefined {
    const lease = this.leases.get(id);
    return lease === undefined ? undefined : lease.expiryMs - this.nowMs();
  }

  /**
   * Up to `limit` expired leases, soonest first (etcd's findExpiredLeases). Each is moved to retry
   * after EXPIRED_LEASE_RETRY_INTERVAL_MS, so a revoke lost to a leader change is proposed again.
   */
  findExpired(limit: number): bigint[] {
    if (!this.primary) return [];
    const now = this.nowMs();
    const out: bigint[] = [];
    while (out.length < limit) {
      const top = this.expiries.peek();
      if (top === undefined || top.timeMs > now) break;
      this.expiries.set(top.id, now + EXPIRED_LEASE_RETRY_INTERVAL_MS);
      out.push(top.id);
    }
    return out;
  }

  /**
   * Up to `limit` checkpoints that are due (etcd's findDueScheduledCheckpoints): each lease's
   * remaining TTL in whole seconds, rounded up. Cleared checkpoints (renewals) come first, as 0.
   * Every due lease is scheduled again one interval on (etcd re-schedules only when the checkpoint
   * applies and skips leases whose remaining TTL rounds up to the full TTL, which ends their chain).
   */
  findDueCheckpoints(limit: number): etcdserverpb.LeaseCheckpoint[] {
    if (!this.primary || this.checkpointIntervalMs <= 0) return [];
    const out: etcdserverpb.LeaseCheckpoint[] = [];
    for (const id of this.clears) {
      if (out.length >= limit) return out;
      this.clears.delete(id);
      if (this.leases.has(id)) out.push({ ID: id, remainingTTL: 0n });
    }
    const now = this.nowMs();
    while (out.length < limit) {
      const top = this.checkpoints.peek();
      if (top === undefined || top.timeMs > now) break;
      const lease = this.leases.get(top.id);
      assert(lease !== undefined, 'checkpoint heap holds a forgotten lease');
      this.checkpoints.set(top.id, now + this.checkpointIntervalMs);
      if (lease.expiryMs <= now) continue;
      const remaining = Math.ceil((lease.expiryMs - now) / 1000);
      if (remaining >= lease.ttlSeconds) continue;
      out.push({ ID: top.id, remainingTTL: BigInt(remaining) });
    }
    return out;
  }

  /** etcd's Lease.refresh: from the checkpointed remaining TTL if any (unless `full`: a renewal), else the TTL. */
  private refresh(lease: LeaseState, fromMs: number, extendMs: number, full = false): void {
    const ttl = !full && lease.remainingTtlSeconds > 0 && this.checkpointIntervalMs > 0 ? lease.remainingTtlSeconds : lease.ttlSeconds;
    lease.expiryMs = fromMs + extendMs + ttl * 1000;
    this.expiries.set(lease.id, lease.expiryMs);
  }

  /** etcd's scheduleCheckpointIfNeeded: only leases whose remaining TTL outlasts one interval. */
  private scheduleCheckpoint(lease: LeaseState, fromMs: number): void {
    if (this.checkpointIntervalMs <= 0) return;
    if (lease.expiryMs - fromMs > this.checkpointIntervalMs) this.checkpoints.set(lease.id, fromMs + this.checkpointIntervalMs);
  }

  private forget(id: bigint): void {
    this.leases.delete(id);
    this.expiries.delete(id);
    this.checkpoints.delete(id);
    this.clears.delete(id);
  }
}
