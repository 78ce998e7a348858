/** Pure majority-quorum math (etcd's quorum.MajorityConfig), over a set of voter ids. */
import type { NodeId } from '../messages.js';

export type VoteResult = 'pending' | 'lost' | 'won';

/** The committed index of an empty configuration: anything is committed (etcd returns MaxUint64). */
export const NO_VOTERS_COMMITTED = Number.MAX_SAFE_INTEGER;

export function majoritySize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** The largest index acknowledged by a majority of voters; missing acks count as 0. */
export function committedIndex(voters: readonly NodeId[], acked: (id: NodeId) => number | undefined): number {
  if (voters.length === 0) return NO_VOTERS_COMMITTED;
  const srt = voters.map((id) => acked(id) ?? 0).sort((a, b) => b - a);
  return srt[majoritySize(voters.length) - 1]!;
}

/** Whether the votes cast so far win, lose, or leave the election pending. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = majoritySize(voters.length);
  if (granted >= q) return 'won';
  if (granted + missing >= q) return 'pending';
  return 'lost';
}
