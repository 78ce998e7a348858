/**
 * The leader's (and candidate's) view of the configuration: voters, learners, each member's Progress, and votes.
 * Iteration is always in ascending id order so every run is deterministic.
 */
import type { ConfState, NodeId } from '../messages.js';
import { committedIndex, voteResult, type VoteResult } from '../quorum/majority.js';
import { Progress } from './progress.js';

export interface MembershipConfig {
  readonly voters: ReadonlySet<NodeId>;
  readonly learners: ReadonlySet<NodeId>;
}

const byId = (a: NodeId, b: NodeId): number => (a < b ? -1 : a > b ? 1 : 0);

export class ProgressTracker {
  voters: ReadonlySet<NodeId> = new Set();
  learners: ReadonlySet<NodeId> = new Set();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  private sortedVoters: NodeId[] = [];
  private sortedIds: NodeId[] = [];

  constructor(readonly maxInflightMsgs: number, readonly maxInflightBytes = 0) {}

  /** Installs a configuration; progress for new members starts at `next`, removed members are dropped. */
  setConfig(cfg: MembershipConfig, next: number): void {
    this.voters = new Set(cfg.voters);
    this.learners = new Set(cfg.learners);
    for (const id of [...this.progress.keys()]) {
      if (!this.voters.has(id) && !this.learners.has(id)) this.progress.delete(id);
    }
    for (const id of [...this.voters, ...this.learners]) {
      const isLearner = this.learners.has(id);
      const pr = this.progress.get(id);
      if (pr === undefined) {
        const p = new Progress(next, this.maxInflightMsgs, isLearner, this.maxInflightBytes);
        p.recentActive = true;
        this.progress.set(id, p);
      } else {
        pr.isLearner = isLearner;
      }
    }
    this.sortedVoters = [...this.voters].sort(byId);
    this.sortedIds = [...this.progress.keys()].sort(byId);
  }

  confState(): ConfState {
    return { voters: this.sortedVoters.slice(), learners: [...this.learners].sort(byId) };
  }

  voterIds(): readonly NodeId[] {
    return this.sortedVoters;
  }

  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  /** The largest index replicated on a majority of voters. */
  committed(): number {
    return committedIndex(this.sortedVoters, (id) => this.progress.get(id)?.match);
  }

  visit(fn: (id: NodeId, pr: Progress) => void): void {
    for (const id of this.sortedIds) fn(id, this.progress.get(id)!);
  }

  /** Whether a quorum of voters was recently active (check-quorum). */
  quorumActive(): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of this.sortedVoters) votes.set(id, this.progress.get(id)?.recentActive ?? false);
    return voteResult(this.sortedVoters, votes) === 'won';
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.sortedVoters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: voteResult(this.sortedVoters, this.votes) };
  }
}
