/**
 * HashKV as etcd 3.4's store.HashByRev: CRC-32C over every retained (revision, record) pair up to
 * `rev`, in revision order. Below the compact revision only the versions compaction keeps (each
 * key's newest version <= compactRev, unless a tombstone) count, so the hash does not depend on
 * how far physical compaction has got. Equal logs give equal hashes on every member.
 */
import { decodeRevKey, encodeHistoryKey, encodeRevKey, REV_FLAG_TOMBSTONE } from '../storage/schema.js';
import { Crc32c } from '../util/crc32c.js';
import { getAt, scanDb, type MvccDbs } from './reader.js';

const BUCKET = Buffer.from('key', 'latin1'); // etcd hashes the bucket name first

export function hashUpTo(backend: MvccDbs, rev: number, compactRev: number): number {
  const h = new Crc32c().update(BUCKET);
  scanDb(backend.revs, encodeRevKey(0, 0), encodeRevKey(rev + 1, 0), (revKey, revValue) => {
    const { main, sub } = decodeRevKey(revKey);
    const userKey = revValue.subarray(1);
    if (main <= compactRev) {
      if (((revValue[0] as number) & REV_FLAG_TOMBSTONE) !== 0) return true;
      const kept = getAt(backend, userKey, compactRev);
      if (kept === undefined || kept.modRevision !== main) return true;
    }
    const record = backend.history.get(encodeHistoryKey(userKey, main, sub));
    if (record === undefined) return true;
    h.update(revKey).update(record);
    return true;
  });
  return h.digest();
}
