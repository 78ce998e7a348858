/**
 * A Ready is one batch of work the application must do for the core. Handle it in this order:
 *
 * 1. Persist `snapshot` (if any), then `entries` (appending, truncating any conflicting suffix), then
 *    `hardState` (if any), and make them durable (fsync).
 * 2. Only then send `messages`. (etcd allows a leader to send its own MsgApp before persisting; we do not:
 *    persisting first is always safe and keeps the rule simple.)
 * 3. Apply `snapshot` to the state machine (if any), then `committedEntries` in order; for each ConfChange
 *    entry call `RawNode.applyConfChange`. Release `readStates` once applied >= readState.index.
 * 4. Call `RawNode.advance(ready)`. No new Ready is produced until then; `step` and `tick` may still be called.
 */
import type { Entry, HardState, Message, Snapshot } from './messages.js';
import type { ReadState, SoftState } from './raft.js';

export interface Ready {
  /** Leader and role, when they changed since the previous Ready; volatile, need not be persisted. */
  readonly softState: SoftState | null;
  /** Term, vote and commit, when changed: persist before sending `messages`. */
  readonly hardState: HardState | null;
  /** ReadIndex results, in request order; serve each read once the applied index reaches `index`. */
  readonly readStates: readonly ReadState[];
  /** Entries to append to stable storage before sending `messages`. */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader, to persist (before `entries`) and apply. */
  readonly snapshot: Snapshot | null;
  /** Entries committed by a quorum, to apply in order (after they are persisted). */
  readonly committedEntries: readonly Entry[];
  /** Messages to send, after everything above is durable. Plain data, in the order the core produced them. */
  readonly messages: readonly Message[];
  /** Whether hardState/entries must be fsynced (false when only the commit index changed). */
  readonly mustSync: boolean;
}

export function isReadyEmpty(rd: Ready): boolean {
  return rd.softState === null && rd.hardState === null && rd.entries.length === 0 && rd.snapshot === null &&
    rd.committedEntries.length === 0 && rd.messages.length === 0 && rd.readStates.length === 0;
}
