/**
 * The RaftDriver: owns the RawNode and runs its Ready loop on the event loop. Each Ready is handled
 * strictly in the order docs/raft.md requires:
 *
 *   1. persist snapshot + entries + hard state in ONE durable WAL transaction (fdatasync'd);
 *   2. send the messages (Transport);
 *   3. install a leader's snapshot, then apply the committed entries in ONE backend transaction
 *      (`applier.applyBatch`); accepted ConfChange entries also go to `rawNode.applyConfChange`;
 *   4. answer the waiters of the applied entries (keyed by the request id in the entry header);
 *   5. `advance()`, then take the next Ready.
 *
 * By default step 1 commits on the event loop (`wal.save`) and the cycle runs synchronously. With
 * `walWriteThread` it is an lmdb-js batch committed and synced on lmdb-js's write thread
 * (`wal.saveAsync`), one Ready in flight: meanwhile the event loop keeps decoding requests and
 * stepping proposals, ticks and peer messages into the node (the core accepts them between
 * ready() and advance(), as etcd's node does while its WAL syncs), and they form the next Ready.
 * When the save resolves the Ready is advanced and the next save started before steps 3–4 (same
 * event-loop turn, entries still applied in log order); a leader's snapshot is finished strictly in
 * order. Until advance() the saved entries stay in the core's unstable log, so the WAL (Raft's
 * LogStorage) reports them only once they are durable. Measured slower on this 2-core machine,
 * hence not the default (docs/benchmarks.md).
 *
 * So nothing is applied, sent or acknowledged before the log holding it is durable, and a crash at
 * any point is recovered by replaying the WAL from the backend's applied index (replay is
 * idempotent: the applier skips entries at or below it). All proposals of one event-loop turn go
 * into Raft as one `proposeMany`; one Ready cycle persists, applies and answers everything stepped
 * since the previous one, so a burst of proposals or peer messages costs one WAL sync.
 * Linearizable reads wait on ReadIndex batches (read-index.ts).
 */
import { existsSync, rmSync } from 'node:fs';
import { RawNode, decodeConfChange, NONE, type ConfChange, type ConfState, type Logger, type Message, type NodeId, type Ready, type Snapshot, type SoftState } from '@corvid/raft';
import type { Counter, Gauge } from 'prom-client';
import { assert, CorvidError } from '../errors/index.js';
import { BOOTSTRAP_INDEX } from './bootstrap.js';
import type { Clock } from './clock.js';
import { readEntryHeader } from './entry-header.js';
import { dropError } from './errors.js';
import { FreshSnapshotStorage } from './fresh-snapshot.js';
import { LogCompactor, type DurableStore } from './log-compactor.js';
import type { RaftDriverMetrics } from './metrics.js';
import { ReadIndexBatcher } from './read-index.js';
import type { Transport } from './transport.js';
import type { Wal } from './wal.js';
import { Waiters } from './waiters.js';

/** One committed entry as the applier takes it; a ConfChange entry's data is the encoded ConfChange. */
export interface ApplyEntry {
  readonly index: number;
  readonly data: Uint8Array;
  readonly confChange?: boolean;
}

/** The state machine: applies a batch in one transaction, one result per entry, in order. */
export interface ApplyTarget<R> {
  appliedIndex(): number;
  applyBatch(entries: readonly ApplyEntry[]): R[];
  /** Whether an entry's result is an acceptance (a refused ConfChange must not reach Raft). */
  accepted(result: R): boolean;
  /** Replaces the whole state with a leader's snapshot: the backend file received with it. */
  installSnapshot(dbPath: string): void;
}

/**
 * Told when a traced proposal's entry is committed (just before its batch is applied) and when
 * that batch was applied; the tracer times its `raft.commit` and `apply` spans from these calls.
 */
export interface ProposalTrace {
  committed(index: number, term: number): void;
  applied(): void;
}

/** The etcd_server_* series the driver keeps up to date (defined in server/metrics.ts). */
export interface ProposalMetrics {
  readonly proposalsCommitted: Gauge;
  readonly proposalsApplied: Gauge;
  readonly proposalsPending: Gauge;
  readonly proposalsFailed: Counter;
  readonly hasLeader: Gauge;
  readonly isLeader: Gauge;
  readonly readIndexesFailed: Counter;
  readonly slowReadIndexes: Counter;
}

export interface RaftDriverOptions<R> {
  readonly memberId: NodeId;
  readonly wal: Wal;
  readonly applier: ApplyTarget<R>;
  /** The backend's durability barrier, awaited before the WAL is compacted past what it applied. */
  readonly store: DurableStore;
  readonly clock: Clock;
  readonly transport: Transport;
  /** --heartbeat-interval: one Raft tick; a leader heartbeats every tick, as etcd. */
  readonly heartbeatIntervalMs: number;
  /** --election-timeout; electionTicks = electionTimeoutMs / heartbeatIntervalMs, as etcd. */
  readonly electionTimeoutMs: number;
  /** --snapshot-count. */
  readonly snapshotCount: number;
  readonly snapshotCatchUpEntries?: number;
  /** Bound on proposals waiting to be applied; beyond it proposals get ErrTooManyRequests. */
  readonly maxPendingProposals: number;
  /** A proposal not applied within this long is answered with `request timed out`. */
  readonly requestTimeoutMs: number;
  readonly metrics: ProposalMetrics & RaftDriverMetrics;
  readonly logger: Logger;
  /** Election jitter: an integer in [0, below). */
  readonly random: (below: number) => number;
  /** Called once when persisting or applying fails: the member must stop. */
  readonly onFatal: (err: unknown) => void;
  /** Where a received snapshot's backend file lies (the transport writes it there). */
  readonly snapshotFile: (snapshot: Snapshot) => string;
  /** Called once this member applied its own removal from the cluster: it must stop. */
  readonly onRemoved?: () => void;
  /**
   * The membership as of the applier's applied index (the backend keeps it with the data), or null
   * when it knows none. Raft restarts with it: conf changes applied since the last WAL snapshot are
   * not replayed (the core starts at the applied index), so the snapshot's ConfState would be stale.
   */
  readonly appliedConfState?: () => ConfState | null;
  /** --pre-vote (etcd 3.4's default: off). */
  readonly preVote?: boolean;
  /**
   * Save each Ready on lmdb-js's write thread, stepping requests meanwhile (one Ready in flight),
   * instead of committing on the event loop. Set by CORVID_EXPERIMENTAL_WAL_WRITE_THREAD=1.
   */
  readonly walWriteThread?: boolean;
}

/** What Maintenance.Status reports about Raft. */
export interface RaftStatus {
  readonly leader: NodeId;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
}

/** etcd's raft.Config values that are not flags (etcdserver/raft.go). */
const MAX_SIZE_PER_MSG_BYTES = 1024 * 1024;
const MAX_INFLIGHT_MSGS = 4096 / 8;
const MAX_UNCOMMITTED_ENTRIES_SIZE_BYTES = 1 << 30;

export class RaftDriver<R> {
  private readonly node: RawNode;
  private readonly waiters: Waiters<R>;
  /** Traces of waiting proposals by request id (tracing on only); at most one per waiter. */
  private readonly traces = new Map<bigint, ProposalTrace>();
  private readonly compactor: LogCompactor;
  private queue: Array<{ id: bigint; data: Uint8Array }> = [];
  private flushScheduled = false;
  private confState: ConfState;
  private lead: NodeId = NONE;
  private leaderWaiters: Array<() => void> = [];
  private readonly leadershipListeners: Array<(isLeader: boolean) => void> = [];
  private ticker: { cancel(): void } | null = null;
  private stopped = false;
  private readonly reads: ReadIndexBatcher;
  /** The membership changed since the last snapshot: record one before a follower needs it. */
  private snapshotWanted = false;
  private transferTarget: { id: NodeId; done: () => void } | null = null;
  /** While a defragmentation holds the writers (storage/defrag.ts): no Ready is handled, nothing applied. */
  private paused = false;
  /** The Ready whose WAL save is in flight (settles after that Ready is finished): at most one. */
  private inFlight: Promise<void> | null = null;
  /** A durable, advanced Ready still to apply (within the same event-loop turn; see finishReady). */
  private deferred: Ready | null = null;

  constructor(private readonly options: RaftDriverOptions<R>) {
    const { wal, applier } = options;
    this.recoverSnapshot();
    this.confState = options.appliedConfState?.() ?? wal.initialState().confState;
    this.waiters = new Waiters<R>(options.maxPendingProposals);
    this.compactor = new LogCompactor({
      wal, store: options.store, snapshotCount: options.snapshotCount,
      ...(options.snapshotCatchUpEntries === undefined ? {} : { catchUpEntries: options.snapshotCatchUpEntries }),
    });
    this.reads = new ReadIndexBatcher(
      {
        requestReadIndex: (ctx) => this.node.readIndex(ctx).ok,
        appliedIndex: () => this.options.applier.appliedIndex(),
        nowMs: () => this.options.clock.nowMs(),
      },
      options.requestTimeoutMs,
      (err) => {
        options.metrics.readIndexesFailed.inc();
        // etcd 3.4's linearizableReadLoop counts a read index that timed out as slow.
        if (err.code === 'Timeout') options.metrics.slowReadIndexes.inc();
      },
    );
    const storage = new FreshSnapshotStorage(wal, () => this.confState, () => {
      this.snapshotWanted = true;
    });
    this.node = new RawNode({
      id: options.memberId,
      electionTicks: Math.floor(options.electionTimeoutMs / options.heartbeatIntervalMs),
      heartbeatTicks: 1,
      storage,
      applied: applier.appliedIndex(),
      preVote: this.options.preVote ?? false,
      checkQuorum: true,
      maxSizePerMsgBytes: MAX_SIZE_PER_MSG_BYTES,
      maxInflightMsgs: MAX_INFLIGHT_MSGS,
      maxUncommittedEntriesSizeBytes: MAX_UNCOMMITTED_ENTRIES_SIZE_BYTES,
      // etcd's raft defaults MaxCommittedSizePerReady to MaxSizePerMsg: a long replay is applied in 1 MiB batches.
      maxCommittedSizePerReadyBytes: MAX_SIZE_PER_MSG_BYTES,
      random: options.random,
      logger: options.logger,
    });
  }

  /**
   * A crash between persisting a leader's snapshot and installing its backend file leaves the WAL
   * ahead of the backend: install the file kept for it before anything is replayed (etcd's
   * recoverSnapshotBackend). The founding snapshot (index 1) carries no state and needs none.
   */
  private recoverSnapshot(): void {
    const snap = this.options.wal.snapshot();
    if (!snap.ok) return;
    const { metadata } = snap.value;
    if (metadata.index <= BOOTSTRAP_INDEX || metadata.index <= this.options.applier.appliedIndex()) return;
    const file = this.options.snapshotFile(snap.value);
    if (!existsSync(file)) throw new CorvidError('Corrupt', { detail: `the WAL holds snapshot ${metadata.index} but its backend file ${file} is missing` });
    this.options.logger.info('installing the snapshot the WAL holds', { index: metadata.index, file });
    this.options.applier.installSnapshot(file);
  }

  /**
   * Re-applies what the WAL committed after the backend's applied index, campaigns at once if this
   * member is the only voter (etcd's advanceTicksForElection), and starts the ticker.
   */
  start(): void {
    assert(this.ticker === null && !this.stopped, 'the raft driver starts once');
    this.processReady();
    const { voters } = this.confState;
    if (voters.length === 1 && voters[0] === this.options.memberId) {
      const r = this.node.campaign();
      if (!r.ok) this.options.logger.warn('cannot campaign', { reason: r.reason });
      this.processReady();
    }
    this.ticker = this.options.clock.every(this.options.heartbeatIntervalMs, () => this.guard(() => this.onTick()));
  }

  /** Resolves true once a leader is known, or false after `timeoutMs`. */
  waitForLeader(timeoutMs: number): Promise<boolean> {
    if (this.lead !== NONE) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = this.options.clock.every(timeoutMs, () => {
        timer.cancel();
        resolve(this.lead !== NONE);
      });
      this.leaderWaiters.push(() => {
        timer.cancel();
        resolve(true);
      });
    });
  }

  /**
   * Proposes one encoded `corvidpb.InternalRequest` (it must carry a header with a request id).
   * Resolves with the applier's result for its entry once that entry is durable and applied.
   */
  propose(data: Uint8Array, trace?: ProposalTrace): Promise<R> {
    const { metrics } = this.options;
    if (this.stopped) return Promise.reject(new CorvidError('Stopped'));
    if (this.waiters.isFull()) {
      metrics.proposalsFailed.inc();
      return Promise.reject(new CorvidError('TooManyRequests'));
    }
    const header = readEntryHeader(data);
    assert(header !== null && header.memberId === this.options.memberId, 'a proposal must carry this member\'s request header');
    const result = this.waiters.register(header.id, this.options.clock.nowMs() + this.options.requestTimeoutMs);
    if (trace !== undefined) {
      // Kept only while the proposal waits: answered or failed, its trace is dropped.
      this.traces.set(header.id, trace);
      const forget = (): void => {
        this.traces.delete(header.id);
      };
      void result.then(forget, forget);
    }
    this.queue.push({ id: header.id, data });
    metrics.proposalsPending.set(this.waiters.size);
    this.scheduleFlush();
    return result;
  }

  /**
   * Proposes a membership change. `cc.context` is a corvidpb.ConfChangeContext carrying this
   * member's request header; resolves with the applier's verdict once the entry is applied.
   */
  proposeConfChange(cc: ConfChange): Promise<R> {
    if (this.stopped) return Promise.reject(new CorvidError('Stopped'));
    const header = readEntryHeader(cc.context);
    assert(header !== null && header.memberId === this.options.memberId, 'a conf change must carry this member\'s request header');
    const result = this.waiters.register(header.id, this.options.clock.nowMs() + this.options.requestTimeoutMs);
    this.guard(() => {
      const r = this.node.proposeConfChange(cc);
      if (!r.ok) {
        this.options.metrics.proposalsFailed.inc();
        this.waiters.reject(header.id, dropError(r.reason));
      }
      this.processReady();
    });
    return result;
  }

  /**
   * Resolves once a read now may be served locally and be linearizable (ReadIndex confirmed by a
   * quorum, and applied up to it); rejects with etcd's LeaderChanged or Timeout.
   */
  readBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new CorvidError('Stopped'));
    const p = this.reads.wait();
    this.scheduleFlush();
    return p;
  }

  /**
   * MoveLeader: asks the leader (this member) to hand leadership to `target`; resolves once it has,
   * rejects with TimeoutLeaderTransfer after `timeoutMs`.
   */
  transferLeadership(target: NodeId, timeoutMs: number): Promise<void> {
    if (this.lead === target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = this.options.clock.every(timeoutMs, () => {
        timer.cancel();
        this.transferTarget = null;
        reject(new CorvidError('TimeoutLeaderTransfer'));
      });
      this.transferTarget = { id: target, done: () => { timer.cancel(); resolve(); } };
      this.guard(() => {
        this.node.transferLeader(target);
        this.processReady();
      });
    });
  }

  // --- the peer transport's handler (peer/PeerHandler) ---

  /** A message from a peer; its Ready is handled with the next batch. */
  step(msg: Message): void {
    if (this.stopped) return;
    this.guard(() => {
      this.node.step(msg);
      this.scheduleFlush();
    });
  }

  /** A MsgSnap whose backend file arrived complete at `dbPath` (= snapshotFile(msg.snapshot)). */
  receiveSnapshot(msg: Message, dbPath: string): void {
    this.options.logger.info('received snapshot', { from: msg.from, index: msg.snapshot?.metadata.index, file: dbPath });
    this.step(msg);
  }

  reportUnreachable(id: NodeId): void {
    if (this.stopped) return;
    this.node.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void {
    if (this.stopped) return;
    this.guard(() => {
      this.node.reportSnapshot(id, status);
      this.scheduleFlush();
    });
  }

  /**
   * Holds the Ready loop for a defragmentation: ticks still tick the node and proposals queue
   * (bounded by the waiters), but nothing is persisted, sent or applied until `resume`.
   */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.scheduleFlush();
  }

  /** Voters and learners as Raft applies them. */
  membership(): ConfState {
    return this.confState;
  }

  /** Match index of each peer as the leader tracks it (empty on a follower): for learner-in-sync checks. */
  progress(): ReadonlyMap<NodeId, { match: number }> {
    return this.node.status().progress;
  }

  status(): RaftStatus {
    const s = this.node.status();
    return { leader: s.softState.lead, term: s.hardState.term, commitIndex: s.hardState.commit, appliedIndex: s.applied, lastIndex: s.lastIndex };
  }

  term(): number {
    return this.node.term;
  }

  hasLeader(): boolean {
    return this.lead !== NONE;
  }

  isLeader(): boolean {
    return this.lead === this.options.memberId;
  }

  /** Resolves once no Ready is in flight (every Ready taken so far is persisted and finished). */
  async settled(): Promise<void> {
    while (this.inFlight !== null) await this.inFlight;
  }

  /** Calls `listener(isLeader)` whenever this member becomes or stops being the leader. */
  onLeadershipChange(listener: (isLeader: boolean) => void): void {
    this.leadershipListeners.push(listener);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate lets every request that arrived in this event-loop turn join the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      this.guard(() => this.flush());
    });
  }

  /** One batch: every queued proposal as one MsgProp, then the Ready cycle that commits it. */
  private flush(): void {
    if (this.paused) return;
    // etcd 3.4's raft node takes no proposal while there is no leader: the call waits for one or
    // for its request timeout ('etcdserver: request timed out'), so proposals wait here too
    // (bounded by the waiters); those whose waiter already timed out are dropped.
    const batch = this.queue.filter((p) => this.waiters.has(p.id));
    this.queue = [];
    if (batch.length > 0 && this.lead === NONE) {
      this.queue = batch;
    } else if (batch.length > 0) {
      const r = this.node.proposeMany(batch.map((p) => p.data));
      if (!r.ok) {
        this.options.metrics.proposalsFailed.inc(batch.length);
        for (const p of batch) this.waiters.reject(p.id, dropError(r.reason));
        this.options.metrics.proposalsPending.set(this.waiters.size);
      }
    }
    this.reads.flush();
    this.processReady();
  }

  private onTick(): void {
    this.node.tick();
    const expired = this.waiters.expire(this.options.clock.nowMs());
    if (expired > 0) {
      this.options.metrics.proposalsFailed.inc(expired);
      this.options.metrics.proposalsPending.set(this.waiters.size);
    }
    this.reads.expire();
    this.processReady();
  }

  /**
   * Handles the node's Readies in the order of the file header, one at a time. With
   * `walWriteThread` a Ready with something to persist is finished when its save resolves;
   * meanwhile the event loop keeps stepping proposals, ticks and peer messages into the node, whose
   * next Ready waits for advance().
   */
  private processReady(): void {
    if (this.paused) return;
    while (this.inFlight === null && this.node.hasReady()) {
      const rd = this.node.ready();
      if (rd.softState !== null) {
        // Leadership listeners see every entry committed before the change applied, as before.
        this.applyDeferred();
        this.onSoftState(rd.softState);
      }
      const startedMs = this.options.clock.nowMs();
      if (this.options.walWriteThread !== true) {
        // The default: commit and sync on the event loop, measured faster on this 2-core machine
        // (docs/benchmarks.md, "Where Corvid's put time goes").
        if (this.options.wal.save(rd.hardState, rd.entries, rd.snapshot)) this.options.metrics.walFsyncSeconds.observe((this.options.clock.nowMs() - startedMs) / 1000);
        this.finishReady(rd, false);
        continue;
      }
      const saving = this.options.wal.saveAsync(rd.hardState, rd.entries, rd.snapshot);
      if (saving === null) {
        this.finishReady(rd, false);
        continue;
      }
      this.inFlight = saving.then(
        () => {
          this.inFlight = null;
          this.options.metrics.walFsyncSeconds.observe((this.options.clock.nowMs() - startedMs) / 1000);
          this.guard(() => this.finishReady(rd, true));
        },
        (err: unknown) => {
          this.inFlight = null;
          this.fail(err);
        },
      );
    }
  }

  /**
   * Steps 2–5 of the file header for a Ready whose log and hard state are durable. With `overlap`
   * (its save just resolved) it is advanced first and the next Ready's save started before it is
   * applied, so the WAL's thread syncs while the event loop applies — etcd applies beside its raft
   * loop too. Raft only needs advance() to hand out the next Ready; the entries are still applied
   * in log order (`deferred` goes first) and before this event-loop turn ends.
   */
  private finishReady(rd: Ready, overlap: boolean): void {
    this.options.transport.send(rd.messages);
    this.applyDeferred();
    if (overlap && rd.snapshot === null) {
      this.node.advance(rd);
      this.deferred = rd;
      this.processReady();
      this.applyDeferred();
      return;
    }
    if (rd.snapshot !== null) this.installSnapshot(rd.snapshot);
    this.applyReady(rd);
    this.node.advance(rd);
    if (overlap) this.processReady();
  }

  private applyDeferred(): void {
    const rd = this.deferred;
    if (rd === null) return;
    this.deferred = null;
    this.applyReady(rd);
  }

  /** Steps 3–4: apply the committed entries, answer their waiters and reads; compact if due. */
  private applyReady(rd: Ready): void {
    this.apply(rd);
    if (rd.readStates.length > 0) this.reads.onReadStates(rd.readStates);
    // After a leader's snapshot the backend may be ahead of the log (its copy was made after the
    // snapshot index): a WAL snapshot can only be recorded at an index the log holds.
    const snapshotAt = Math.min(this.options.applier.appliedIndex(), this.options.wal.lastIndex());
    const run = this.compactor.maybeStart(snapshotAt, this.confState, this.snapshotWanted);
    if (run !== null) this.snapshotWanted = false;
    run?.then(undefined, (err: unknown) => this.fail(err));
  }

  /** A leader's snapshot, already durable in the WAL: its backend file replaces the whole state. */
  private installSnapshot(snapshot: Snapshot): void {
    const file = this.options.snapshotFile(snapshot);
    this.options.applier.installSnapshot(file);
    this.confState = snapshot.metadata.confState;
    rmSync(file, { force: true });
    this.options.logger.info('applied snapshot', { index: snapshot.metadata.index, term: snapshot.metadata.term });
  }

  private apply(rd: Ready): void {
    const entries = rd.committedEntries;
    if (entries.length === 0) return;
    const { applier, metrics, memberId } = this.options;
    const traced = this.traces.size === 0 ? [] : this.tracedEntries(entries);
    const results = applier.applyBatch(entries.map((e) => (e.type === 'Normal' ? e : { index: e.index, data: e.data, confChange: true })));
    assert(results.length === entries.length, 'the applier returns one result per entry');
    for (const t of traced) t.applied();
    let removed = false;
    entries.forEach((e, i) => {
      const result = results[i] as R;
      let waiterData = e.data;
      if (e.type === 'ConfChange') {
        const cc = decodeConfChange(e.data);
        if (applier.accepted(result)) {
          this.confState = this.node.applyConfChange(cc);
          this.snapshotWanted = true;
          if (cc.type === 'RemoveNode' && cc.nodeId === memberId) removed = true;
        }
        waiterData = cc.context;
      }
      if (waiterData.length === 0) return;
      const header = readEntryHeader(waiterData);
      if (header !== null && header.memberId === memberId) this.waiters.resolve(header.id, result);
    });
    this.reads.onApplied();
    if (removed) this.options.onRemoved?.();
    const last = entries[entries.length - 1]!;
    metrics.proposalsApplied.set(last.index);
    metrics.proposalsCommitted.set(Math.max(last.index, rd.hardState?.commit ?? 0));
    metrics.proposalsPending.set(this.waiters.size);
  }

  /** The traces of this member's proposals among `entries`, each told its entry is committed. */
  private tracedEntries(entries: Ready['committedEntries']): ProposalTrace[] {
    const traced: ProposalTrace[] = [];
    for (const e of entries) {
      if (e.type !== 'Normal' || e.data.length === 0) continue;
      const header = readEntryHeader(e.data);
      const t = header !== null && header.memberId === this.options.memberId ? this.traces.get(header.id) : undefined;
      if (t === undefined) continue;
      t.committed(e.index, e.term);
      traced.push(t);
    }
    return traced;
  }

  private onSoftState(ss: SoftState): void {
    const { metrics, logger, memberId } = this.options;
    if (ss.lead !== this.lead) {
      if (ss.lead !== NONE) {
        metrics.leaderChanges.inc();
        logger.info('elected leader', { leader: ss.lead, term: this.node.term, local: ss.lead === memberId });
      } else {
        logger.warn('lost leader', { term: this.node.term });
      }
      const wasLeader = this.lead === memberId;
      this.lead = ss.lead;
      const isLeader = ss.lead === memberId;
      if (isLeader !== wasLeader) for (const listener of this.leadershipListeners) listener(isLeader);
      this.reads.onLeaderChange();
      if (this.transferTarget !== null && ss.lead === this.transferTarget.id) {
        this.transferTarget.done();
        this.transferTarget = null;
      }
    }
    metrics.hasLeader.set(ss.lead !== NONE ? 1 : 0);
    metrics.isLeader.set(ss.lead === memberId ? 1 : 0);
    if (ss.lead !== NONE) {
      for (const wake of this.leaderWaiters.splice(0)) wake();
      if (this.queue.length > 0) this.scheduleFlush();
    }
  }

  /** Runs a step of the loop; a failure there (disk, store, broken invariant) stops the member. */
  private guard(fn: () => void): void {
    if (this.stopped) return;
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.stopped) return;
    this.stop(() => new CorvidError('Stopped', { cause: err }));
    this.options.onFatal(err);
  }

  private stop(reason: () => unknown): void {
    this.stopped = true;
    this.ticker?.cancel();
    this.queue = [];
    this.waiters.rejectAll(reason);
    this.reads.rejectAll(reason);
    this.options.metrics.proposalsPending.set(0);
  }

  /**
   * Commits what is already queued, then refuses new proposals, stops ticking, answers anything
   * still waiting with `server stopped` and waits for a compaction in progress.
   */
  async close(): Promise<void> {
    if (!this.stopped && this.queue.length > 0) this.guard(() => this.flush());
    // The queue's Ready may wait behind one in flight: finish both before the WAL is closed.
    for (let i = 0; i < 2 && this.inFlight !== null; i++) await this.inFlight;
    this.stop(() => new CorvidError('Stopped'));
    // A save started by the last finish still owns the WAL: the stopped loop ignores its outcome.
    await this.settled();
    await this.compactor.close();
  }
}
