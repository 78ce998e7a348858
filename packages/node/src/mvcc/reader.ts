/**
 * Reads of the MVCC data: the latest versions from `live`, any retained revision from `history`.
 * Every function runs inside the caller's synchronous turn, so all its LMDB reads see one
 * snapshot: the committed state outside a write transaction, or the transaction's own writes
 * inside `Backend.writeSync` (lmdb-js reads through the open write transaction).
 */
import type { BinaryDb } from '../storage/index.js';
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

/**
 * The named databases MVCC reads touch. `Backend` is one; a read-pool worker (read-pool/) opens
 * the same LMDB environment in its own thread and passes its own handles.
 */
export interface MvccDbs {
  readonly meta: BinaryDb;
  readonly live: BinaryDb;
  readonly history: BinaryDb;
  readonly revs: BinaryDb;
}

/**
 * How many LMDB entries a read may still visit on the calling thread (`Infinity`: no bound). A
 * scan that runs out stops and sets `exceeded`; the caller then serves the read elsewhere (the
 * read pool), so the event loop never runs a long scan.
 */
export class ReadBudget {
  exceeded = false;
  constructor(private left: number) {}

  /** Spends one entry; false once the budget is gone (and from then on). */
  spend(): boolean {
    if (this.left <= 0) {
      this.exceeded = true;
      return false;
    }
    this.left -= 1;
    return true;
  }
}

/** Visits one entry; return false to stop the scan. */
export type Visit = (key: Buffer, value: Buffer) => boolean;

/**
 * Scans [start, end) of `db` in key order. LMDB refuses bounds longer than its key limit, so a
 * long bound is shortened (start) or dropped (end) for LMDB and enforced here instead.
 */
export function scanDb(db: BinaryDb, start: Buffer, end: Buffer | null, visit: Visit, values = true): void {
  const longStart = start.length > MAX_LMDB_KEY_BYTES;
  const longEnd = end !== null && end.length > MAX_LMDB_KEY_BYTES;
  const lmdbStart = longStart ? start.subarray(0, MAX_LMDB_KEY_BYTES) : start;
  const bounds = end === null || longEnd ? { start: lmdbStart } : { start: lmdbStart, end };
  const options = values ? bounds : { ...bounds, values: false };
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
export function getLive(backend: MvccDbs, key: Buffer): KvRecord | undefined {
  if (key.length === 0 || key.length > MAX_LMDB_KEY_BYTES) return undefined;
  const bytes = backend.live.get(key);
  return bytes === undefined ? undefined : decodeRecord(bytes);
}

/** The version of `key` visible at revision `rev` (its newest version <= rev, unless a tombstone). */
export function getAt(backend: MvccDbs, key: Buffer, rev: number): KvRecord | undefined {
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
export function scanLive(backend: MvccDbs, range: KeyRange, visit: Visit): void {
  if (range.empty) return;
  if (range.single) {
    const value = range.start.length > 0 && range.start.length <= MAX_LMDB_KEY_BYTES ? backend.live.get(range.start) : undefined;
    if (value !== undefined) visit(range.start, value);
    return;
  }
  scanDb(backend.live, range.start, range.end, visit);
}

export function countLive(backend: MvccDbs, range: KeyRange, budget?: ReadBudget): number {
  if (range.empty) return 0;
  if (range.single) return getLive(backend, range.start) === undefined ? 0 : 1;
  if (budget === undefined) return countDb(backend.live, range.start, range.end);
  // LMDB's native count walks every key (≈ 15 ms per 100k here) and takes no limit: count in JS,
  // keys only, and stop when the budget is gone.
  let n = 0;
  scanDb(backend.live, range.start, range.end, () => {
    if (!budget.spend()) return false;
    n++;
    return true;
  }, false);
  return n;
}

/**
 * Visits, in key order, the keys of `range` that exist at revision `rev`, each with the record of
 * its newest version <= rev. Versions of one key are adjacent in `history`, newest first, so this
 * is one seek and one forward scan that skips newer and older versions.
 */
export function scanAt(backend: MvccDbs, range: KeyRange, rev: number, visit: Visit, budget?: ReadBudget): void {
  if (range.empty) return;
  const start = historyKeyPrefix(range.start);
  const end = range.end === null ? null : historyKeyPrefix(range.end);
  let group: Buffer | null = null;
  let done = false;
  scanDb(backend.history, start, end, (hkey, value) => {
    if (budget !== undefined && !budget.spend()) return false;
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
