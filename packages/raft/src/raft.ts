/**
 * The Raft state machine (etcd's raft struct). It takes only `step(message)` and `tick()`; everything it wants
 * done is left in `msgs`, `readStates` and the log for RawNode to hand out in a Ready. Role logic lives in
 * roles/{leader,candidate,follower}.ts; this file owns terms, votes, role changes and membership.
 */
import { assert } from './assert.js';
import type { ResolvedConfig, RaftConfig } from './config.js';
import { resolveConfig } from './config.js';
import { applyConfChange } from './confchange/confchange.js';
import type { Logger } from './logger.js';
import { RaftLog } from './log.js';
import type { ConfChange, ConfState, Entry, HardState, Message, MessageFields, NodeId, Snapshot } from './messages.js';
import { NONE, decodeConfChange, newMessage, payloadSizeBytes, voteResponseType } from './messages.js';
import { ProgressTracker } from './progress/tracker.js';
import { ReadOnly } from './read-only.js';
import { maybeCommit, bcastAppend, maybeSendAppend, stepLeader } from './roles/leader.js';
import { stepCandidate } from './roles/candidate.js';
import { stepFollower } from './roles/follower.js';
import type { VoteResult } from './quorum/majority.js';

export type RaftRole = 'Follower' | 'PreCandidate' | 'Candidate' | 'Leader';

/** Why a proposal or request was not accepted. These are outcomes, not errors. */
export type DropReason =
  | 'no-leader' | 'uncommitted-limit' | 'transferring' | 'conf-change-pending' | 'invalid-conf-change'
  | 'removed' | 'unknown-peer' | 'local-message' | 'empty-proposal' | 'read-index-limit';
export type StepResult = { readonly ok: true } | { readonly ok: false; readonly reason: DropReason };
export const STEP_OK: StepResult = { ok: true };
export const drop = (reason: DropReason): StepResult => ({ ok: false, reason });

export interface SoftState {
  readonly lead: NodeId;
  readonly role: RaftRole;
}

export interface ReadState {
  /** The commit index at the time the request was received; the read may be served once applied reaches it. */
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

export type CampaignType = 'pre-election' | 'election' | 'transfer';

/** Context of a MsgVote sent because of a leadership transfer: voters grant it even inside a leader lease. */
export const CAMPAIGN_TRANSFER_CTX = Uint8Array.from('CampaignTransfer', (c) => c.charCodeAt(0));

export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedConfig;
  readonly logger: Logger;
  readonly log: RaftLog;
  readonly trk: ProgressTracker;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: RaftRole = 'Follower';
  isLearner = false;
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  /** The node a leadership transfer is targeting, or NONE. */
  leadTransferee: NodeId = NONE;
  /** Only one conf change may be pending: the index of the latest one proposed, not yet applied. */
  pendingConfIndex = 0;
  /** Payload bytes appended by this leader and not yet committed (bounded by maxUncommittedEntriesSizeBytes). */
  uncommittedSizeBytes = 0;
  readOnly = new ReadOnly();
  /** ReadIndex requests received before this leader committed an entry of its term (etcd #12140). */
  pendingReadIndexMessages: Message[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTicks = 0;

  constructor(config: RaftConfig) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    this.logger = this.cfg.logger;
    this.log = new RaftLog(this.cfg.storage, this.logger, this.cfg.maxCommittedSizePerReadyBytes);
    this.trk = new ProgressTracker(this.cfg.maxInflightMsgs);
    const { hardState, confState } = this.cfg.storage.initialState();
    this.setConfig(confState);
    if (hardState.term !== 0 || hardState.commit !== 0 || hardState.vote !== NONE) this.loadState(hardState);
    if (this.cfg.applied > 0) this.log.appliedTo(Math.min(this.cfg.applied, this.log.committed));
    this.becomeFollower(this.term, NONE);
    this.logger.info('newRaft', { id: this.id, term: this.term, commit: this.log.committed, applied: this.log.applied });
  }

  private setConfig(cs: ConfState): void {
    this.trk.setConfig({ voters: new Set(cs.voters), learners: new Set(cs.learners) }, this.log.lastIndex() + 1);
    this.isLearner = this.trk.learners.has(this.id);
  }

  private loadState(hs: HardState): void {
    assert(hs.commit <= this.log.lastIndex(), () => `hs.commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`);
    // A snapshot is committed state by definition: if the crash kept the snapshot but not the hard state
    // written after it, the commit index is the snapshot's (found by the simulator, seed 81).
    this.log.committed = Math.max(hs.commit, this.log.committed);
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  /** Queues a message. Vote messages carry their own term; every other non-proposal gets the current term. */
  send(f: MessageFields): void {
    const t = f.type;
    const term = f.term ?? 0;
    if (t === 'MsgVote' || t === 'MsgVoteResp' || t === 'MsgPreVote' || t === 'MsgPreVoteResp') {
      if (term === 0) assert(false, `term should be set when sending ${t}`);
      this.msgs.push(newMessage(f, this.id, term));
    } else {
      if (term !== 0) assert(false, `term should not be set when sending ${t} (was ${term})`);
      this.msgs.push(newMessage(f, f.from ?? this.id, t === 'MsgProp' || t === 'MsgReadIndex' ? 0 : this.term));
    }
  }

  /** A voter with a progress entry, and no snapshot pending, may campaign. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && this.log.unstable.snapshot === null;
  }

  private reset(term: number): void {
    if (this.term !== term) {
      // Unsent messages of older terms are dropped: an acknowledgement queued at the old term may cover
      // entries that a leader of the new term truncates before this Ready is persisted (found by the simulator,
      // seed 762). Receivers ignore stale terms anyway, and any message may be lost.
      if (this.msgs.some((m) => m.term !== 0 && m.term < term)) this.msgs = this.msgs.filter((m) => m.term === 0 || m.term >= term);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTicks = this.cfg.electionTicks + this.cfg.random(this.cfg.electionTicks);
    this.leadTransferee = NONE;
    this.trk.resetVotes();
    const last = this.log.lastIndex();
    this.trk.visit((id, pr) => {
      pr.becomeProbe();
      pr.match = id === this.id ? last : 0;
      pr.next = last + 1;
      pr.recentActive = id === this.id;
    });
    this.pendingConfIndex = 0;
    this.uncommittedSizeBytes = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'Follower';
    this.logger.info('became follower', { id: this.id, term: this.term, lead });
  }

  becomePreCandidate(): void {
    assert(this.role !== 'Leader', 'invalid transition [leader -> pre-candidate]');
    this.trk.resetVotes();
    this.lead = NONE;
    this.role = 'PreCandidate';
    this.logger.info('became pre-candidate', { id: this.id, term: this.term });
  }

  becomeCandidate(): void {
    assert(this.role !== 'Leader', 'invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'Candidate';
    this.logger.info('became candidate', { id: this.id, term: this.term });
  }

  becomeLeader(): void {
    assert(this.role !== 'Follower', 'invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'Leader';
    this.trk.progress.get(this.id)?.becomeReplicate();
    // Conservatively forbid conf changes until every entry of earlier terms is applied.
    this.pendingConfIndex = this.log.lastIndex();
    const appended = this.appendEntry([{ term: 0, index: 0, type: 'Normal', data: new Uint8Array(0) }]);
    assert(appended, 'empty entry was dropped');
    this.logger.info('became leader', { id: this.id, term: this.term });
  }

  /** Appends entries to the leader's log, or returns false if the uncommitted-size limit would be exceeded. */
  appendEntry(es: readonly Entry[]): boolean {
    const size = payloadSizeBytes(es);
    if (this.uncommittedSizeBytes > 0 && size > 0 && this.uncommittedSizeBytes + size > this.cfg.maxUncommittedEntriesSizeBytes) {
      return false;
    }
    this.uncommittedSizeBytes += size;
    let li = this.log.lastIndex();
    const stamped = es.map((e) => ({ term: this.term, index: ++li, type: e.type, data: e.data }));
    li = this.log.append(stamped);
    this.trk.progress.get(this.id)?.maybeUpdate(li);
    maybeCommit(this);
    return true;
  }

  reduceUncommittedSize(entries: readonly Entry[]): void {
    if (this.role !== 'Leader') return;
    this.uncommittedSizeBytes = Math.max(0, this.uncommittedSizeBytes - payloadSizeBytes(entries));
  }

  tick(): void {
    if (this.role === 'Leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTicks) {
      this.electionElapsed = 0;
      this.step(newMessage({ type: 'MsgHup', from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) this.step(newMessage({ type: 'MsgCheckQuorum', from: this.id }));
      if (this.role === 'Leader' && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.role !== 'Leader') return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(newMessage({ type: 'MsgBeat', from: this.id }));
    }
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  /** Starts an election unless this node is the leader, cannot vote, or has unapplied conf changes. */
  hup(t: CampaignType): void {
    if (this.role === 'Leader') return;
    if (!this.promotable()) {
      this.logger.warn('is unpromotable and can not campaign', { id: this.id });
      return;
    }
    if (this.log.applied < this.log.committed) {
      const r = this.log.slice(this.log.applied + 1, this.log.committed + 1, Number.MAX_SAFE_INTEGER);
      if (r.ok && r.entries.some((e) => e.type === 'ConfChange')) {
        this.logger.warn('cannot campaign: pending configuration changes to apply', { id: this.id });
        return;
      }
    }
    this.campaign(t);
  }

  campaign(t: CampaignType): void {
    let term: number;
    let voteMsg: 'MsgVote' | 'MsgPreVote';
    if (t === 'pre-election') {
      this.becomePreCandidate();
      voteMsg = 'MsgPreVote';
      term = this.term + 1; // the term we would campaign at; our own term does not change yet
    } else {
      this.becomeCandidate();
      voteMsg = 'MsgVote';
      term = this.term;
    }
    if (this.poll(this.id, voteResponseType(voteMsg), true) === 'won') {
      // Single-node configuration: we won immediately.
      if (t === 'pre-election') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    for (const id of this.trk.voterIds()) {
      if (id === this.id) continue;
      this.send({ type: voteMsg, to: id, term, index, logTerm, context: t === 'transfer' ? CAMPAIGN_TRANSFER_CTX : null });
    }
  }

  poll(id: NodeId, t: string, granted: boolean): VoteResult {
    this.logger.debug(granted ? 'received vote' : 'received rejection', { id: this.id, from: id, type: t, term: this.term });
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  /** The entry point for every message, local or remote: handles terms, then dispatches to the role. */
  step(m: Message): StepResult {
    if (m.term === 0) {
      // local message or proposal
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const force = m.context !== null && sameBytes(m.context, CAMPAIGN_TRANSFER_CTX);
        const inLease = this.cfg.checkQuorum && this.lead !== NONE && this.electionElapsed < this.cfg.electionTicks;
        if (!force && inLease) return STEP_OK; // a leader is alive: ignore the disruptive campaign (thesis §4.2.3)
      }
      if (m.type === 'MsgPreVote') {
        // never change our term in response to a pre-vote
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // granted pre-votes carry the future term; we bump it only when the pre-vote wins
      } else if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
        // Tell a stale leader about the newer term, so a node partitioned away cannot block it forever.
        this.send({ type: 'MsgAppResp', to: m.from });
      } else if (m.type === 'MsgPreVote') {
        this.send({ type: 'MsgPreVoteResp', to: m.from, term: this.term, reject: true });
      }
      return STEP_OK;
    }
    switch (m.type) {
      case 'MsgHup':
        this.hup(this.cfg.preVote ? 'pre-election' : 'election');
        return STEP_OK;
      case 'MsgVote':
      case 'MsgPreVote':
        this.handleVote(m);
        return STEP_OK;
      default:
        if (this.role === 'Leader') return stepLeader(this, m);
        if (this.role === 'Follower') return stepFollower(this, m);
        return stepCandidate(this, m);
    }
  }

  private handleVote(m: Message): void {
    const canVote = this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === 'MsgPreVote' && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.send({ type: voteResponseType(m.type), to: m.from, term: m.term });
      if (m.type === 'MsgVote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: voteResponseType(m.type), to: m.from, term: this.term, reject: true });
    }
  }

  /** Validates a conf change proposal against the current configuration. */
  checkConfChangeProposal(data: Uint8Array): StepResult {
    if (this.pendingConfIndex > this.log.applied) return drop('conf-change-pending');
    const r = applyConfChange(this.trk, decodeConfChange(data));
    return r.ok ? STEP_OK : drop('invalid-conf-change');
  }

  /** Applies a committed conf change; returns the resulting membership. Invalid changes are no-ops. */
  applyConfChange(cc: ConfChange): ConfState {
    const r = applyConfChange(this.trk, cc);
    if (!r.ok) {
      this.logger.warn('ignoring invalid conf change', { id: this.id, reason: r.reason, nodeId: cc.nodeId });
      return this.trk.confState();
    }
    this.switchToConfig(r.config.voters, r.config.learners);
    return this.trk.confState();
  }

  switchToConfig(voters: ReadonlySet<NodeId>, learners: ReadonlySet<NodeId>): void {
    this.trk.setConfig({ voters, learners }, Math.max(this.log.lastIndex(), 1));
    const inConfig = this.trk.progress.has(this.id);
    this.isLearner = this.trk.learners.has(this.id);
    if ((!inConfig || this.isLearner) && this.role === 'Leader') {
      // A removed or demoted leader steps down; the rest of the cluster elects a new one.
      this.becomeFollower(this.term, NONE);
      return;
    }
    if (this.role !== 'Leader' || voters.size === 0) return;
    if (maybeCommit(this)) bcastAppend(this);
    else this.trk.visit((id) => { if (id !== this.id) maybeSendAppend(this, id, false); });
    if (this.leadTransferee !== NONE && !this.trk.voters.has(this.leadTransferee)) this.abortLeaderTransfer();
  }

  /** Installs a snapshot received from the leader. Returns false if it is stale or not for us. */
  restore(s: Snapshot): boolean {
    const meta = s.metadata;
    if (meta.index <= this.log.committed) return false;
    if (this.role !== 'Follower') {
      // Defense in depth: only a follower receives snapshots; step down into a new term if not.
      this.logger.warn('attempted to restore snapshot as non-follower', { id: this.id });
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    const found = meta.confState.voters.includes(this.id) || meta.confState.learners.includes(this.id);
    if (!found) {
      this.logger.warn('attempted to restore snapshot but it is not in the ConfState', { id: this.id });
      return false;
    }
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already have the snapshot's last entry: fast-forward the commit index instead.
      this.log.commitTo(meta.index);
      return false;
    }
    this.log.restore(s);
    this.trk.progress.clear();
    this.setConfig(meta.confState);
    this.logger.info('restored snapshot', { id: this.id, index: meta.index, term: meta.term });
    return true;
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
