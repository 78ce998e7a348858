/**
 * The corruption check between members, as etcd 3.4's etcdserver/corrupt.go:
 * - `checkInitialHashKV` (--experimental-initial-corrupt-check): before a restarted member serves,
 *   it compares its HashKV with each peer's at its own revision and refuses to start when a hash
 *   differs under the same compact revision (`<id> found data inconsistency with peers`).
 * - `CorruptionMonitor` (--experimental-corrupt-check-time): every interval the leader takes its
 *   own HashKV, asks every peer for theirs at that revision, confirms its leadership and applied
 *   state (ReadIndex), hashes again, and proposes the CORRUPT alarm when a member is found
 *   inconsistent (etcd's checkHashKV, including its rules for a peer ahead of or behind it).
 *   The alarm names member 0, the whole cluster, as etcd 3.4.23 does (etcd PR #14853): the
 *   leader cannot tell whether its own data or the peer's is the corrupt one. The log names the
 *   member that disagreed.
 * Peers answer over the peer port (api/peer-hashkv.ts). Each check is timed and counted.
 */
import { Counter, exponentialBuckets, Histogram, type Registry } from 'prom-client';
import type { etcdserverpb } from '@corvid/proto';
import { formatId } from '../cluster/index.js';
import { isCorvidError } from '../errors/index.js';
import type { HashKvResult } from '../mvcc/index.js';
import type { Logger } from '../util/logger.js';

export interface CorruptCheckPeer {
  readonly ID: bigint;
  readonly peerURLs: readonly string[];
}

export interface CorruptCheckDeps {
  readonly memberId: bigint;
  /** This member's HashKV at its current revision (etcd's kv.HashByRev(0)). */
  readonly localHash: () => Promise<HashKvResult>;
  /** The other members (etcd's cluster.Members() without itself). */
  readonly peers: () => readonly CorruptCheckPeer[];
  /** One peer's HashKV at `revision`; rejects with Compacted, FutureRev or Timeout (also once `signal` aborts). */
  readonly fetchPeer: (peerUrls: readonly string[], revision: number, signal: AbortSignal) => Promise<etcdserverpb.HashKVResponse>;
  readonly logger: Logger;
}

export interface CorruptionMonitorDeps extends CorruptCheckDeps {
  readonly intervalMs: number;
  readonly isLeader: () => boolean;
  /** Waits until this member, still leader, has applied everything committed (etcd's linearizableReadNotify). */
  readonly readBarrier: () => Promise<void>;
  /** Proposes AlarmRequest{ACTIVATE, memberID, CORRUPT} and resolves once applied. */
  readonly raiseCorrupt: (memberId: bigint) => Promise<unknown>;
  readonly registry: Registry;
}

interface PeerAnswer {
  readonly peer: CorruptCheckPeer;
  readonly resp?: etcdserverpb.HashKVResponse;
  readonly err?: unknown;
}

/** What a starting member refuses to start with (etcd's CheckInitialHashKV). */
export class DataInconsistencyError extends Error {}

async function peerHashes(deps: CorruptCheckDeps, revision: number, signal: AbortSignal): Promise<PeerAnswer[]> {
  const peers = deps.peers().filter((p) => p.ID !== deps.memberId && p.peerURLs.length > 0);
  return Promise.all(peers.map(async (peer): Promise<PeerAnswer> => {
    try {
      return { peer, resp: await deps.fetchPeer(peer.peerURLs, revision, signal) };
    } catch (err) {
      deps.logger.warn('failed hash kv request', { 'local-member-id': formatId(deps.memberId), 'requested-revision': revision, 'remote-peer-endpoints': peer.peerURLs, error: err instanceof Error ? err.message : String(err) });
      return { peer, err };
    }
  }));
}

/** Throws DataInconsistencyError when a peer's hash differs at the same revision and compact revision. */
export async function checkInitialHashKV(deps: CorruptCheckDeps): Promise<void> {
  const local = formatId(deps.memberId);
  deps.logger.info('starting initial corruption check', { 'local-member-id': local });
  let mine: HashKvResult;
  try {
    mine = await deps.localHash();
  } catch (err) {
    throw new DataInconsistencyError(`${local} failed to fetch hash (${String(err)})`, { cause: err });
  }
  const { hash: h, revision: rev, compactRevision: crev } = mine;
  let mismatch = 0;
  for (const { peer, resp, err } of await peerHashes(deps, rev, new AbortController().signal)) {
    const fields = { 'local-member-id': local, 'local-member-revision': rev, 'local-member-compact-revision': crev, 'local-member-hash': h, 'remote-peer-id': formatId(peer.ID), 'remote-peer-endpoints': peer.peerURLs };
    if (resp !== undefined) {
      const remote = { ...fields, 'remote-peer-revision': Number(resp.header?.revision ?? 0n), 'remote-peer-compact-revision': Number(resp.compactRevision), 'remote-peer-hash': resp.hash };
      if (resp.hash === h) continue;
      if (Number(resp.compactRevision) === crev) {
        deps.logger.warn('found different hash values from remote peer', remote);
        mismatch++;
      } else {
        deps.logger.warn('found different compact revision values from remote peer', remote);
      }
    } else if (isCorvidError(err, 'FutureRev')) {
      deps.logger.warn('cannot fetch hash from slow remote peer', { ...fields, error: err.code });
    } else if (isCorvidError(err, 'Compacted')) {
      deps.logger.warn('cannot fetch hash from remote peer; local member is behind', { ...fields, error: err.code });
    }
  }
  if (mismatch > 0) throw new DataInconsistencyError(`${local} found data inconsistency with peers`);
  deps.logger.info('initial corruption checking passed; no corruption', { 'local-member-id': local });
}

/** What one periodic check concluded: the first member it found inconsistent, if any, and how many peers answered. */
export type CheckOutcome = { readonly peersChecked: number } & ({ readonly corrupt: false } | { readonly corrupt: true; readonly memberId: bigint });

/**
 * etcd's checkHashKV, one pass on the leader: the first inconsistent member (itself when its own
 * hash changed at an unchanged revision, else a peer ahead of it, with a newer compaction, or with
 * another hash under the leader's first compact revision). Peers that did not answer are skipped.
 */
export async function checkHashKV(deps: CorruptCheckDeps & Pick<CorruptionMonitorDeps, 'readBarrier'>, signal: AbortSignal = new AbortController().signal): Promise<CheckOutcome> {
  const { hash: h, revision: rev, compactRevision: crev } = await deps.localHash();
  const answers = await peerHashes(deps, rev, signal);
  await deps.readBarrier();
  const { hash: h2, revision: rev2, compactRevision: crev2 } = await deps.localHash();
  let found: bigint | undefined;
  const mismatch = (id: bigint): void => {
    found ??= id;
  };
  if (h2 !== h && rev2 === rev && crev === crev2) {
    deps.logger.warn('found hash mismatch', { 'revision-1': rev, 'compact-revision-1': crev, 'hash-1': h, 'revision-2': rev2, 'compact-revision-2': crev2, 'hash-2': h2 });
    mismatch(deps.memberId);
  }
  let peersChecked = 0;
  for (const { resp } of answers) {
    if (resp === undefined) continue;
    peersChecked++;
    const id = resp.header?.memberId ?? 0n;
    const peerRev = Number(resp.header?.revision ?? 0n);
    const peerCrev = Number(resp.compactRevision);
    if (peerRev > rev2) {
      deps.logger.warn("revision from follower must be less than or equal to leader's", { 'leader-revision': rev2, 'follower-revision': peerRev, 'follower-peer-id': formatId(id) });
      mismatch(id);
    }
    if (peerCrev > crev2) {
      deps.logger.warn("compact revision from follower must be less than or equal to leader's", { 'leader-compact-revision': crev2, 'follower-compact-revision': peerCrev, 'follower-peer-id': formatId(id) });
      mismatch(id);
    }
    if (peerCrev === crev && resp.hash !== h) {
      deps.logger.warn('same compact revision then hashes must match', { 'leader-compact-revision': crev2, 'leader-hash': h, 'follower-compact-revision': peerCrev, 'follower-hash': resp.hash, 'follower-peer-id': formatId(id) });
      mismatch(id);
    }
  }
  deps.logger.info('finished peer corruption check', { 'number-of-peers-checked': peersChecked });
  return found === undefined ? { corrupt: false, peersChecked } : { corrupt: true, memberId: found, peersChecked };
}

/** The periodic check's series (etcd 3.4 has none for it). */
function createMetrics(registry: Registry): { duration: Histogram; checks: Counter<'result'> } {
  return {
    duration: new Histogram({
      name: 'corvid_server_corruption_check_duration_seconds',
      help: 'Time one periodic corruption check took on the leader: its HashKV twice, every peer\'s HashKV and a ReadIndex.',
      buckets: exponentialBuckets(0.001, 2, 16),
      registers: [registry],
    }),
    checks: new Counter({
      name: 'corvid_server_corruption_checks_total',
      help: 'Periodic corruption checks run by the leader, by result: ok, corrupt (a CORRUPT alarm was proposed) or failed (the check could not complete).',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}

/** etcd's monitorKVHash: one check per interval while leader; a check never overlaps the next. */
export class CorruptionMonitor {
  private readonly metrics;
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;
  /** Aborted at close: a check in flight stops waiting for its peers. */
  private readonly closing = new AbortController();

  constructor(private readonly deps: CorruptionMonitorDeps) {
    this.metrics = createMetrics(deps.registry);
  }

  start(): void {
    if (this.deps.intervalMs <= 0) return;
    this.deps.logger.info('enabled corruption checking', { 'local-member-id': formatId(this.deps.memberId), interval: `${this.deps.intervalMs}ms` });
    this.timer = setInterval(() => this.tick(), this.deps.intervalMs);
  }

  async close(): Promise<void> {
    this.closing.abort();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.pass;
  }

  private tick(): void {
    if (this.closing.signal.aborted || this.pass !== null || !this.deps.isLeader()) return;
    this.pass = this.runCheck().finally(() => {
      this.pass = null;
    });
  }

  private async runCheck(): Promise<void> {
    const endTimer = this.metrics.duration.startTimer();
    try {
      const outcome = await checkHashKV(this.deps, this.closing.signal);
      if (this.closing.signal.aborted) return;
      endTimer();
      this.metrics.checks.inc({ result: outcome.corrupt ? 'corrupt' : 'ok' });
      if (outcome.corrupt) {
        this.deps.logger.warn('raising the CORRUPT alarm', { 'inconsistent-member-id': formatId(outcome.memberId) });
        await this.deps.raiseCorrupt(0n);
      }
    } catch (err) {
      if (!isCorvidError(err)) throw err;
      this.metrics.checks.inc({ result: 'failed' });
      this.deps.logger.warn('failed to check hash KV', { error: err.code });
    }
  }
}
