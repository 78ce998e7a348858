/**
 * The Raft state of a new data dir, as `bootstrapStorage` in @corvid/raft/testing and as etcd
 * (which starts founding members at term 1 from their initial membership): a snapshot at index 1,
 * term 1 holding the founding voters, and hard state {term 1, commit 1}. Every founding member
 * starts from the same snapshot, so the membership never has to be replayed from entries.
 */
import type { NodeId } from '@corvid/raft';
import type { Wal } from './wal.js';

export const BOOTSTRAP_INDEX = 1;
export const BOOTSTRAP_TERM = 1;

/**
 * Saves the bootstrap snapshot and hard state to an empty WAL; a WAL that has state is left alone.
 * `index` is BOOTSTRAP_INDEX except for a backend that already applied entries before it had a WAL
 * (written before Raft, #4): its log then starts after them, so none is skipped as a replay.
 */
export function bootstrapWal(wal: Wal, voters: readonly NodeId[], index = BOOTSTRAP_INDEX): void {
  if (!wal.isEmpty()) return;
  wal.save(
    { term: BOOTSTRAP_TERM, vote: 0n, commit: index },
    [],
    { data: new Uint8Array(0), metadata: { index, term: BOOTSTRAP_TERM, confState: { voters: [...voters], learners: [] } } },
  );
}
