/**
 * A leader's view of one follower (etcd's tracker.Progress). This class owns all of its state transitions.
 *
 * - Probe: the leader does not know the follower's match; at most one MsgApp is in flight (probeSent).
 * - Replicate: appends are pipelined optimistically (next moves ahead of match) under the Inflights window.
 * - Snapshot: a snapshot is on its way; nothing else is sent until it is acknowledged or reported failed.
 */
import { Inflights } from './inflights.js';

export type ProgressState = 'Probe' | 'Replicate' | 'Snapshot';

export class Progress {
  /** Highest index known to be replicated on the follower. Invariant: match < next. */
  match = 0;
  next: number;
  state: ProgressState = 'Probe';
  /** Index of the snapshot in flight (Snapshot state only). */
  pendingSnapshot = 0;
  /** Heard from the follower in the current check-quorum period. */
  recentActive = false;
  /** In Probe: an append was sent and is unanswered, so the follower is paused. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, public isLearner: boolean, maxInflightBytes = 0) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'Snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('Probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('Probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('Replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('Snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** A snapshot could not be delivered: probe again, and wait for a heartbeat response before sending. */
  snapshotFailed(): void {
    this.pendingSnapshot = 0;
    this.becomeProbe();
    this.probeSent = true;
  }

  /** Records an acknowledged index; returns whether match moved (stale acks return false). */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** A heartbeat response proves the follower is reachable: allow the next probe. */
  probeAcked(): void {
    this.probeSent = false;
  }

  /**
   * A rejection of the MsgApp at `rejected`; `matchHint` is where the follower's log may match.
   * Returns false when the rejection is stale (out of order).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'Replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Records that a MsgApp ending at lastIndex (or an empty probe) was sent. */
  sentEntries(count: number, lastIndex: number, bytes: number): void {
    if (this.state === 'Replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'Probe') {
      this.probeSent = true;
    }
  }

  /** A Replicate follower whose window is full gets one slot back per heartbeat response (etcd behaviour). */
  heartbeatAcked(): void {
    this.recentActive = true;
    this.probeSent = false;
    if (this.state === 'Replicate' && this.inflights.full()) this.inflights.freeFirstOne();
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'Probe':
        return this.probeSent;
      case 'Replicate':
        return this.inflights.full();
      case 'Snapshot':
        return true;
    }
  }
}
