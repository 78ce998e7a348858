/**
 * Reads of the MVCC data: the latest versions from `live`, any retained revision from `history`.
 * Every function runs inside the caller's synchronous turn, so all its LMDB reads see one
 * snapshot: the committed state outside a write transaction, or the transaction's own writes
 * inside `Backend.writeSync` (lmdb-js reads through the open write transaction).
 */
import type { Backend, BinaryDb } from '../storage/index.js';
import {
  MAX_LMDB_KEY_BYTES,
  encodeHistoryKey,
  historyKeyAfter,
  historyKeyGroup,
  historyKeyPrefix,
  historyKeyRevision,
  historyKeyUserKey,
} from '../storage/schema.js';
import { compareBytes } from '../util/bytes.js';
import type { KeyRange } from './key-range.js';
import { decodeRecord, isTombstoneRecord, type KvRecord } from './record.js';

/** Visits one entry; return false to stop the scan. */
export type Visit = (key: Buffer, value: Buffer) => boolean;

/**
 * Scans [start, end) of `db` in key order. LMDB refuses bounds longer than its key limit, so a
 * long bound is shortened (start) or dropped (end) for LMDB and enforced here instead.
 */
export function scanDb(db: BinaryDb, start: Buffer, end: Buffer | null, visit: Visit): void {
  const longStart = start.length > MAX_LMDB_KEY_BYTES;
  const longEnd = end !== null && end.length > MAX_LMDB_KEY_BYTES;
  const lmdbStart = longStart ? start.subarray(0, MAX_LMDB_KEY_BYTES) : start;
  const options = end === null || longEnd ? { start: lmdbStart } : { start: lmdbStart, end };
  for (const { key, value } of db.getRange(options)) {
    if (longStart && compareBytes(key, start) < 0) continue;
    if (longEnd && compareBytes(key, end) >= 0) return;
    if (!visit(key, value)) return;
  }
}

/** Number of keys of `db` in [start, end). */
export function countDb(db: BinaryDb, start: Buffer, end: Buffer | null): number {
  if (start.length > MAX_LMDB_KEY_BYTES || (end !== null && end.length > MAX_LMDB_KEY_BYTES)) {
    let n = 0;
    scanDb(db, start, end, () => {
      n++;
      return true;
    });
    return n;
  }
  return db.getCount(end === null ? { start } : { start, end });
}

/** The latest version of a live key, or undefined. */
export function getLive(backend: Backend, key: Buffer): KvRecord | undefined {
  if (key.length === 0 || key.length > MAX_LMDB_KEY_BYTES) return undefined;
  const bytes = backend.live.get(key);
  return bytes === undefined ? undefined : decodeRecord(bytes);
}

/** The version of `key` visible at revision `rev` (its newest version <= rev, unless a tombstone). */
export function getAt(backend: Backend, key: Buffer, rev: number): KvRecord | undefined {
  if (key.length === 0 || key.length > MAX_LMDB_KEY_BYTES) return undefined;
  let found: KvRecord | undefined;
  const start = encodeHistoryKey(key, rev, 0xffffffff);
  scanDb(backend.history, start, historyKeyAfter(key), (_hkey, value) => {
    if (!isTombstoneRecord(value)) found = decodeRecord(value);
    return false;
  });
  return found;
}

/** Visits the live keys of `range` in key order. */
export function scanLive(backend: Backend, range: KeyRange, visit: Visit): void {
  if (range.empty) return;
  if (range.single) {
    const value = range.start.length > 0 && range.start.length <= MAX_LMDB_KEY_BYTES ? backend.live.get(range.start) : undefined;
    if (value !== undefined) visit(range.start, value);
    return;
  }
  scanDb(backend.live, range.start, range.end, visit);
}

export function countLive(backend: Backend, range: KeyRange): number {
  if (range.empty) return 0;
  if (range.single) return getLive(backend, range.start) === undefined ? 0 : 1;
  return countDb(backend.live, range.start, range.end);
}

/**
 * Visits, in key order, the keys of `range` that exist at revision `rev`, each with the record of
 * its newest version <= rev. Versions of one key are adjacent in `history`, newest first, so this
 * is one seek and one forward scan that skips newer and older versions.
 */
export function scanAt(backend: Backend, range: KeyRange, rev: number, visit: Visit): void {
  if (range.empty) return;
  const start = historyKeyPrefix(range.start);
  const end = range.end === null ? null : historyKeyPrefix(range.end);
  let group: Buffer | null = null;
  let done = false;
  scanDb(backend.history, start, end, (hkey, value) => {
    const g = historyKeyGroup(hkey);
    if (group === null || !g.equals(group)) {
      group = g;
      done = false;
    } else if (done) {
      return true;
    }
    if (historyKeyRevision(hkey).main > rev) return true;
    done = true;
    if (isTombstoneRecord(value)) return true;
    return visit(historyKeyUserKey(hkey), value);
  });
}
