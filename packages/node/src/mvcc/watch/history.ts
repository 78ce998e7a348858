/**
 * Reads committed changes back from history for watchers that are behind (etcd's syncWatchers
 * range over the `key` bucket): `revs` from (fromRev, 0) gives each change's key in commit order,
 * and `history` its record. Bounded: it stops at a revision boundary once it has read
 * `maxRevisions` revisions or `maxEvents` events, so one step never blocks the loop for long and
 * never splits a revision.
 */
import type { Backend } from '../../storage/index.js';
import { decodeRevKey, encodeHistoryKey, encodeRevKey } from '../../storage/schema.js';
import { decodeRecord } from '../record.js';
import type { ChangeEvent } from '../kv-write.js';

export interface HistoryChunk {
  readonly changes: readonly ChangeEvent[];
  /** Every change up to and including this revision was read (fromRev - 1 if none). */
  readonly throughRev: number;
}

export function readChanges(backend: Backend, fromRev: number, toRev: number, maxRevisions: number, maxEvents: number): HistoryChunk {
  const changes: ChangeEvent[] = [];
  if (fromRev > toRev) return { changes, throughRev: toRev };
  let revisions = 0;
  let lastMain = -1;
  for (const { key, value } of backend.revs.getRange({ start: encodeRevKey(fromRev, 0), end: encodeRevKey(toRev + 1, 0) })) {
    const { main, sub } = decodeRevKey(key);
    if (main !== lastMain) {
      if (revisions >= maxRevisions || changes.length >= maxEvents) return { changes, throughRev: lastMain };
      revisions += 1;
      lastMain = main;
    }
    const userKey = Buffer.from(value.subarray(1));
    const record = backend.history.get(encodeHistoryKey(userKey, main, sub));
    // Physical compaction removes a tombstone at exactly the compact revision (etcd's too): skip it.
    if (record === undefined) continue;
    changes.push({ key: userKey, main, sub, record: decodeRecord(Buffer.from(record)) });
  }
  return { changes, throughRev: toRev };
}
