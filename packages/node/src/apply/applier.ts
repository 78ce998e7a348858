/**
 * The only code that changes state from committed entries. A batch runs in ONE synchronous LMDB
 * write transaction that also records the applied index, so after a crash the state and the
 * applied index agree and replaying the log from the applied index is idempotent. Apply is
 * deterministic: it reads nothing but the entry and the store (no clock, no randomness, no
 * member-local config), so the same log gives byte-identical state on every member.
 */
import { corvidpb, etcdserverpb } from '@corvid/proto';
import { AlarmStore, refusedUnderCorrupt, requestCost } from '../alarm/index.js';
import { AuthStore } from '../auth/index.js';
import { MembershipStore } from '../cluster/index.js';
import { assert, CorvidError, isCorvidError } from '../errors/index.js';
import { Lessor } from '../lease/index.js';
import type { KvStore, KvWrite } from '../mvcc/index.js';
import type { Backend, WriteTxn } from '../storage/index.js';
import { META_APPLIED_INDEX, decodeMetaInt, encodeMetaInt } from '../storage/schema.js';
import { applyAlarm } from './apply-alarm.js';
import { applyAuth, checkPermission, isAuthOp, type AuthOp, type AuthResponse } from './apply-auth.js';
import { applyCompaction } from './apply-compaction.js';
import { applyDelete, checkDelete } from './apply-delete.js';
import { applyLeaseCheckpoint, applyLeaseGrant, applyLeaseRevoke } from './apply-lease.js';
import { applyConfChangeEntry, applyMemberAttributes, applyMemberPeerUrls, type MemberChangeResponse } from './apply-member.js';
import { applyPut, checkPut } from './apply-put.js';
import { applyTxn } from './apply-txn.js';
import { revisionHeader } from './header.js';

/**
 * A committed Raft entry: data = corvidpb.InternalRequest.encode(...).finish(), or for a
 * `confChange` entry the encoded Raft ConfChange (its context a corvidpb.ConfChangeContext).
 */
export interface LogEntry {
  readonly index: number;
  readonly data: Uint8Array;
  readonly confChange?: boolean;
}

export type ApplyResponse =
  | etcdserverpb.PutResponse
  | etcdserverpb.DeleteRangeResponse
  | etcdserverpb.TxnResponse
  | etcdserverpb.CompactionResponse
  | etcdserverpb.AlarmResponse
  | etcdserverpb.LeaseGrantResponse
  | etcdserverpb.LeaseRevokeResponse
  | etcdserverpb.LeaseCheckpointResponse
  | AuthResponse
  | MemberChangeResponse;

/**
 * The outcome of one entry. `skipped`: the entry was at or below the applied index and was not
 * applied again (its response is an empty header at the current revision). `afterCommit`: a
 * physical compaction's completion, to await before answering.
 */
export type ApplyResult =
  | { readonly ok: true; readonly response: ApplyResponse; readonly afterCommit?: Promise<void>; readonly skipped?: true }
  | { readonly ok: false; readonly error: CorvidError };

/**
 * Told how long each applied entry took, by operation (`put`, `txn`, `leaseGrant`, `confChange`,
 * ...). Timing reads a monotonic clock and never feeds back into the state: apply stays deterministic.
 */
export interface ApplyObserver {
  entryApplied(op: string, seconds: number): void;
}

export class Applier {
  private readonly backend: Backend;
  private readonly kv: KvStore;
  /** Raised alarms: changed by applied AlarmRequests, and NOSPACE or CORRUPT narrow what applies. */
  readonly alarms: AlarmStore;
  /** The cluster's members: changed by applied ConfChange and member entries. */
  readonly members: MembershipStore;
  /** Leases and their keys: changed by applied lease entries, puts and deletes. */
  readonly leases: Lessor;
  /** Users, roles and the auth switch: changed by applied auth entries, and checked for KV ones. */
  readonly auth: AuthStore;
  private applied: number;
  private readonly observer: ApplyObserver | undefined;
  /** The operation of the entry applyEntry last decoded, for the observer. */
  private lastOp = 'empty';

  /** `leases`: the member's lessor (with its registry and checkpoint interval); a default one otherwise. */
  constructor(backend: Backend, kv: KvStore, leases?: Lessor, observer?: ApplyObserver) {
    this.backend = backend;
    this.observer = observer;
    this.kv = kv;
    this.alarms = new AlarmStore(backend);
    this.leases = leases ?? new Lessor(backend);
    this.members = new MembershipStore(backend);
    this.auth = new AuthStore(backend);
    this.applied = decodeMetaInt(backend.meta.get(META_APPLIED_INDEX), 0);
  }

  /** Whether `result` is an acceptance: a refused ConfChange must not change Raft's configuration. */
  accepted(result: ApplyResult): boolean {
    return result.ok;
  }

  /**
   * Replaces the whole state with a leader's snapshot (the backend file that came with it) and
   * reloads everything kept in memory from it.
   */
  installSnapshot(dbPath: string): void {
    this.backend.installFrom(dbPath);
    this.reloadFromDisk();
  }

  /** Re-reads every in-memory view of the store (after a snapshot install or an aborted batch). */
  private reloadFromDisk(): void {
    this.kv.reload();
    this.alarms.reload();
    this.leases.reload();
    this.members.reload();
    this.auth.reload();
    this.applied = decodeMetaInt(this.backend.meta.get(META_APPLIED_INDEX), 0);
  }

  /** Index of the last applied entry, as persisted with its effects; 0 on a new store. */
  appliedIndex(): number {
    return this.applied;
  }

  /**
   * Applies `entries` (increasing indexes) in one write transaction and returns one result per
   * entry. Never awaits. Entries at or below the applied index are skipped. An entry that fails
   * (CorvidError) changes nothing but still advances the applied index.
   */
  applyBatch(entries: readonly LogEntry[]): ApplyResult[] {
    const results: ApplyResult[] = [];
    const physical: Array<{ at: number; rev: number }> = [];
    if (entries.every((e) => e.index <= this.applied)) return entries.map(() => this.skipped());
    let compacted = false;
    try {
      this.backend.writeSync((txn) => {
        for (const entry of entries) {
          if (entry.index <= this.applied) {
            results.push(this.skipped());
            continue;
          }
          assert(Number.isSafeInteger(entry.index), 'log index is not a safe integer');
          const startedAt = this.observer === undefined ? 0 : performance.now();
          const { result, compaction } = this.applyEntry(txn, entry);
          if (this.observer !== undefined) this.observer.entryApplied(this.lastOp, (performance.now() - startedAt) / 1000);
          if (compaction !== undefined && result.ok) {
            compacted = true;
            if (compaction.physical) physical.push({ at: results.length, rev: compaction.rev });
          }
          results.push(result);
          this.applied = entry.index;
        }
        this.backend.meta.put(META_APPLIED_INDEX, encodeMetaInt(this.applied));
        this.kv.persist(txn);
      });
    } catch (err) {
      // The transaction was aborted: forget what this batch did in memory, then let it crash.
      this.reloadFromDisk();
      throw err;
    }
    // Committed: watchers see the batch's changes now, in revision order (DESIGN §3).
    this.kv.publishCommitted();
    if (compacted) this.kv.scheduleCompaction();
    for (const { at, rev } of physical) {
      const result = results[at];
      if (result?.ok === true) results[at] = { ...result, afterCommit: this.kv.whenCompacted(rev) };
    }
    return results;
  }

  private applyConfChange(txn: WriteTxn, entry: LogEntry): ApplyResult {
    let refusal: CorvidError | undefined;
    try {
      refusal = applyConfChangeEntry(txn, this.members, entry.data);
    } catch (cause) {
      refusal = isCorvidError(cause) ? cause : new CorvidError('Corrupt', { cause, detail: `conf change ${entry.index} does not decode` });
    }
    return refusal === undefined ? this.membersResult() : { ok: false, error: refusal };
  }

  /** Auth management and Authenticate (apply-auth.ts); a refusal changes nothing. */
  private applyAuthEntry(txn: WriteTxn, op: AuthOp, header: corvidpb.RequestHeader | undefined, index: number): ApplyResult {
    try {
      return { ok: true, response: applyAuth(txn, this.auth, op, header, index, this.kv.currentRevision()) };
    } catch (err) {
      if (isCorvidError(err)) return { ok: false, error: err };
      throw err;
    }
  }

  /** The caller's permission to make this change, checked before anything else about it (etcd's authApplierV3). */
  private permissionRefusal(op: corvidpb.InternalRequest['request'], header: corvidpb.RequestHeader | undefined): CorvidError | undefined {
    try {
      checkPermission(this.auth, this.leases, op, header);
      return undefined;
    } catch (err) {
      if (isCorvidError(err)) return err;
      throw err;
    }
  }

  private membersResult(): ApplyResult {
    return { ok: true, response: { header: revisionHeader(this.kv.currentRevision()), members: this.members.list() } };
  }

  private skipped(): ApplyResult {
    return { ok: true, response: { header: revisionHeader(this.kv.currentRevision()) }, skipped: true };
  }

  private applyEntry(txn: WriteTxn, entry: LogEntry): { result: ApplyResult; compaction?: { rev: number; physical: boolean } } {
    this.lastOp = entry.data.length === 0 ? 'empty' : entry.confChange === true ? 'confChange' : 'corrupt';
    if (entry.data.length === 0) return { result: { ok: true, response: { header: revisionHeader(this.kv.currentRevision()) } } };
    if (entry.confChange === true) return { result: this.applyConfChange(txn, entry) };
    let request: corvidpb.InternalRequest;
    try {
      request = corvidpb.InternalRequest.decode(entry.data);
    } catch (cause) {
      return { result: { ok: false, error: new CorvidError('Corrupt', { cause, detail: `entry ${entry.index} does not decode` }) } };
    }
    const op = request.request;
    this.lastOp = op?.$case ?? 'empty';
    if (op?.$case === 'memberAttributes') {
      applyMemberAttributes(txn, this.members, op.value);
      return { result: this.membersResult() };
    }
    if (op?.$case === 'memberPeerUrls') {
      const refusal = applyMemberPeerUrls(txn, this.members, op.value);
      return { result: refusal === undefined ? this.membersResult() : { ok: false, error: refusal } };
    }
    if (op?.$case === 'alarm') return { result: { ok: true, response: applyAlarm(txn, this.alarms, op.value) } };
    if (isAuthOp(op)) return { result: this.applyAuthEntry(txn, op, request.header, entry.index) };
    const refusal = refusedByAlarm(this.alarms, op);
    if (refusal !== undefined) return { result: { ok: false, error: refusal } };
    const denied = this.permissionRefusal(op, request.header);
    if (denied !== undefined) return { result: { ok: false, error: denied } };
    if (op?.$case === 'compaction') {
      try {
        const response = applyCompaction(txn, this.kv, op.value);
        return { result: { ok: true, response }, compaction: { rev: this.kv.compactedRevision(), physical: op.value.physical } };
      } catch (err) {
        if (isCorvidError(err)) return { result: { ok: false, error: err } };
        throw err;
      }
    }
    const write = this.kv.beginWrite(txn);
    try {
      return { result: { ok: true, response: dispatch(txn, write, op, this.leases, Number(request.header?.proposedAtMs ?? 0n)) } };
    } catch (err) {
      if (!isCorvidError(err)) throw err;
      assert(write.changes() === 0, `${err.code} raised after writes: checks must precede writes`);
      return { result: { ok: false, error: err } };
    } finally {
      this.kv.endWrite(txn, write);
    }
  }
}

/**
 * What a raised alarm refuses, as etcd's narrowed appliers do: under CORRUPT every store change
 * (applierV3Corrupt, alarm/corrupt.ts); under NOSPACE puts, txns whose puts cost space, and lease grants
 * (applierV3Capped). Deletes, compaction and read-only txns go on, so space can be freed.
 */
function refusedByAlarm(alarms: AlarmStore, op: corvidpb.InternalRequest['request']): CorvidError | undefined {
  if (op === undefined) return undefined;
  if (alarms.isRaised(etcdserverpb.AlarmType.CORRUPT) && refusedUnderCorrupt(op)) return new CorvidError('Corrupt');
  if (!alarms.isRaised(etcdserverpb.AlarmType.NOSPACE)) return undefined;
  const costsSpace = op.$case === 'put' || op.$case === 'leaseGrant' || (op.$case === 'txn' && requestCost(op) > 0);
  return costsSpace ? new CorvidError('NoSpace') : undefined;
}

/** One function per operation; every check precedes every write. */
function dispatch(txn: WriteTxn, write: KvWrite, op: corvidpb.InternalRequest['request'], leases: Lessor, proposedAtMs: number): ApplyResponse {
  if (op === undefined) return { header: revisionHeader(write.rev()) };
  switch (op.$case) {
    case 'put':
      checkPut(txn, write, leases, op.value);
      return applyPut(txn, write, leases, op.value);
    case 'deleteRange':
      checkDelete(op.value);
      return applyDelete(txn, write, leases, op.value);
    case 'txn':
      return applyTxn(txn, write, leases, op.value);
    case 'leaseGrant':
      return applyLeaseGrant(txn, write, leases, op.value, proposedAtMs);
    case 'leaseRevoke':
      return applyLeaseRevoke(txn, write, leases, op.value);
    case 'leaseCheckpoint':
      return applyLeaseCheckpoint(txn, write, leases, op.value);
    default:
      // Every other operation is applied before dispatch.
      throw new CorvidError('NotCapable', { detail: `${op.$case} is not supported here` });
  }
}
