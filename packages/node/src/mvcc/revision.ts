/**
 * Revisions at the codec boundary: the wire carries int64 as bigint, the store uses numbers.
 * A revision the layout cannot hold is reported the way etcd would see it (a future revision).
 */
import { MAX_REVISION } from '../storage/schema.js';

/** A wire int64 as a number, clamped to ±(MAX_REVISION + 1) so comparisons keep their meaning. */
export function revisionFromWire(value: bigint): number {
  if (value > BigInt(MAX_REVISION)) return MAX_REVISION + 1;
  if (value < -BigInt(MAX_REVISION)) return -(MAX_REVISION + 1);
  return Number(value);
}

export interface RevisionView {
  /** The revision a read at revision 0 sees (the current revision, or a txn's own). */
  readonly rev: number;
  /** Reads below this revision fail with Compacted; -1 when never compacted. */
  readonly compactRev: number;
}
