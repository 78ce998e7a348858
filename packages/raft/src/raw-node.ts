/**
 * The application's handle on a Raft node (etcd's RawNode): feed it ticks and messages, take Ready batches
 * out, persist/send/apply them, then call advance(). Single-threaded and synchronous.
 */
import { assert } from './assert.js';
import type { RaftConfig } from './config.js';
import type { ConfChange, ConfState, HardState, Message, NodeId } from './messages.js';
import { NONE, encodeConfChange, isLocalMessage, isResponseMessage, newMessage } from './messages.js';
import type { ProgressState } from './progress/progress.js';
import type { RaftRole, SoftState, StepResult } from './raft.js';
import { Raft, drop } from './raft.js';
import type { Ready } from './ready.js';

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
}

export interface Status {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly lastIndex: number;
  readonly firstIndex: number;
  readonly leadTransferee: NodeId;
  readonly config: ConfState;
  /** Only on the leader: each member's replication progress. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
  readonly uncommittedSizeBytes: number;
}

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private outstanding: Ready | null = null;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** Advances the logical clock by one tick (election and heartbeat timeouts are counted in ticks). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (pre-vote first if enabled). */
  campaign(): StepResult {
    return this.raft.step(newMessage({ type: 'MsgHup', from: this.raft.id }));
  }

  /** Proposes data to be appended to the log; dropped with a reason when it cannot be. */
  propose(data: Uint8Array): StepResult {
    return this.raft.step(newMessage({ type: 'MsgProp', from: this.raft.id, entries: [{ term: 0, index: 0, type: 'Normal', data }] }));
  }

  /** Proposes several entries at once: one MsgProp, so followers get them in as few MsgApp as sizes allow. */
  proposeMany(data: readonly Uint8Array[]): StepResult {
    const entries = data.map((d) => ({ term: 0, index: 0, type: 'Normal' as const, data: d }));
    return this.raft.step(newMessage({ type: 'MsgProp', from: this.raft.id, entries }));
  }

  /** Proposes one membership change. Apply it with applyConfChange() once its entry is committed. */
  proposeConfChange(cc: ConfChange): StepResult {
    const data = encodeConfChange(cc);
    return this.raft.step(newMessage({ type: 'MsgProp', from: this.raft.id, entries: [{ term: 0, index: 0, type: 'ConfChange', data }] }));
  }

  /** Steps a message received from a peer. Local message types and responses from unknown peers are refused. */
  step(m: Message): StepResult {
    if (isLocalMessage(m.type)) return drop('local-message');
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from)) return drop('unknown-peer');
    return this.raft.step(m);
  }

  /** Asks for a linearizable read point; the answer arrives as a ReadState carrying the same context. */
  readIndex(requestCtx: Uint8Array): StepResult {
    return this.raft.step(newMessage({ type: 'MsgReadIndex', entries: [{ term: 0, index: 0, type: 'Normal', data: requestCtx }] }));
  }

  /** Asks the leader to hand leadership to `transferee` (which must be a voter). */
  transferLeader(transferee: NodeId): StepResult {
    return this.raft.step(newMessage({ type: 'MsgTransferLeader', from: transferee }));
  }

  /** Alias of transferLeader, as the issue names it. */
  transferLeadership(transferee: NodeId): StepResult {
    return this.transferLeader(transferee);
  }

  /** Applies a committed membership change and returns the new membership (store it with your snapshots). */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** The transport could not reach `id`: stop pipelining to it. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(newMessage({ type: 'MsgUnreachable', from: id }));
  }

  /** Reports whether a MsgSnap sent to `id` was delivered ('finish') or not ('failure'). */
  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void {
    this.raft.step(newMessage({ type: 'MsgSnapStatus', from: id, reject: status === 'failure' }));
  }

  /** Whether ready() would return something to do. False while a Ready awaits advance(). */
  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    const r = this.raft;
    const soft = r.softState();
    if (soft.lead !== this.prevSoftState.lead || soft.role !== this.prevSoftState.role) return true;
    const hs = r.hardState();
    if (!sameHardState(hs, this.prevHardState)) return true;
    if (r.log.unstable.snapshot !== null) return true;
    return r.msgs.length > 0 || r.log.unstableEntries().length > 0 || r.log.hasNextCommittedEnts() || r.readStates.length > 0;
  }

  /** Returns the current batch of work; see ready.ts for the order in which it must be handled. */
  ready(): Ready {
    assert(this.outstanding === null, 'ready() called again before advance()');
    const r = this.raft;
    const soft = r.softState();
    const hs = r.hardState();
    const softChanged = soft.lead !== this.prevSoftState.lead || soft.role !== this.prevSoftState.role;
    const hardChanged = !sameHardState(hs, this.prevHardState);
    const entries = r.log.unstableEntries().slice();
    const rd: Ready = {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hs : null,
      readStates: r.readStates,
      entries,
      snapshot: r.log.unstable.snapshot,
      committedEntries: r.log.nextCommittedEnts(),
      messages: r.msgs,
      mustSync: entries.length > 0 || r.log.unstable.snapshot !== null || (hardChanged && (hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote)),
    };
    r.msgs = [];
    r.readStates = [];
    if (softChanged) this.prevSoftState = soft;
    if (hardChanged) this.prevHardState = hs;
    this.outstanding = rd;
    return rd;
  }

  /** Tells the core that the Ready was persisted, sent and applied. */
  advance(rd: Ready): void {
    assert(this.outstanding === rd, 'advance() must be given the last Ready');
    this.outstanding = null;
    const log = this.raft.log;
    if (rd.snapshot !== null) {
      log.stableSnapTo(rd.snapshot.metadata.index);
      log.appliedTo(Math.max(log.applied, rd.snapshot.metadata.index));
    }
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) log.stableTo(lastEntry.index, lastEntry.term);
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) {
      log.appliedTo(lastCommitted.index);
      this.raft.reduceUncommittedSize(rd.committedEntries);
    }
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.role === 'Leader') {
      r.trk.visit((id, pr) => progress.set(id, {
        match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner, recentActive: pr.recentActive,
      }));
    }
    return {
      id: r.id, hardState: r.hardState(), softState: r.softState(), applied: r.log.applied,
      lastIndex: r.log.lastIndex(), firstIndex: r.log.firstIndex(), leadTransferee: r.leadTransferee,
      config: r.trk.confState(), progress, uncommittedSizeBytes: r.uncommittedSizeBytes,
    };
  }

  /** Convenience accessors for drivers and tests. */
  get id(): NodeId {
    return this.raft.id;
  }

  get role(): RaftRole {
    return this.raft.role;
  }

  get leader(): NodeId {
    return this.raft.lead;
  }

  get term(): number {
    return this.raft.term;
  }

  isLeader(): boolean {
    return this.raft.role === 'Leader' && this.raft.lead === this.raft.id && this.raft.lead !== NONE;
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
