/**
 * Finds the watchers whose interval holds a key without visiting every watcher (etcd keeps a map
 * for single keys and an interval tree for ranges). Three shapes cover what clients ask:
 * - a single key: a map from the key;
 * - a prefix (range_end = the key with its last byte incremented, as clientv3.WithPrefix builds
 *   it): one map per prefix length in use, so a lookup costs one probe per distinct length;
 * - anything else (from-key, arbitrary intervals): a list checked one by one — rare in practice.
 * Keys are bytes; map keys are their latin1 strings (one char per byte, so the mapping is exact).
 */
import { inKeyRange } from '../key-range.js';
import type { Watcher } from './watcher.js';

/** etcd's GetPrefixRangeEnd: drop trailing 0xff bytes and increment the last; null if none is left. */
export function prefixRangeEnd(key: Uint8Array): Buffer | null {
  for (let i = key.length - 1; i >= 0; i--) {
    if ((key[i] as number) < 0xff) {
      const end = Buffer.from(key.subarray(0, i + 1));
      end[i] = (end[i] as number) + 1;
      return end;
    }
  }
  return null;
}

const asMapKey = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

export class WatcherIndex {
  private readonly singles = new Map<string, Set<Watcher>>();
  /** prefix length → prefix → watchers. */
  private readonly prefixes = new Map<number, Map<string, Set<Watcher>>>();
  private readonly others = new Set<Watcher>();
  private count = 0;

  size(): number {
    return this.count;
  }

  add(w: Watcher): void {
    this.count += 1;
    const where = this.bucket(w, true);
    if (where === null) this.others.add(w);
    else where.add(w);
  }

  delete(w: Watcher): void {
    const where = this.bucket(w, false);
    const removed = where === null ? this.others.delete(w) : where.delete(w);
    if (!removed) return;
    this.count -= 1;
    if (where !== null && where.size === 0) this.prune(w);
  }

  /** Calls `visit` once for each watcher whose interval holds `key`. */
  forEachMatch(key: Buffer, visit: (w: Watcher) => void): void {
    if (this.singles.size > 0) this.singles.get(asMapKey(key))?.forEach(visit);
    for (const [length, byPrefix] of this.prefixes) {
      if (length <= key.length) byPrefix.get(asMapKey(key.subarray(0, length)))?.forEach(visit);
    }
    for (const w of this.others) if (inKeyRange(w.range, key)) visit(w);
  }

  *[Symbol.iterator](): IterableIterator<Watcher> {
    for (const set of this.singles.values()) yield* set;
    for (const byPrefix of this.prefixes.values()) for (const set of byPrefix.values()) yield* set;
    yield* this.others;
  }

  /** The set `w` belongs in (created when `create`), or null for the linear list. */
  private bucket(w: Watcher, create: boolean): Set<Watcher> | null {
    const { range } = w;
    if (range.single) return this.setIn(this.singles, asMapKey(range.start), create);
    if (range.end === null || range.start.length === 0) return null;
    const end = prefixRangeEnd(range.start);
    if (end === null || !end.equals(range.end)) return null;
    let byPrefix = this.prefixes.get(range.start.length);
    if (byPrefix === undefined) {
      if (!create) return new Set();
      byPrefix = new Map();
      this.prefixes.set(range.start.length, byPrefix);
    }
    return this.setIn(byPrefix, asMapKey(range.start), create);
  }

  private setIn(map: Map<string, Set<Watcher>>, key: string, create: boolean): Set<Watcher> {
    let set = map.get(key);
    if (set === undefined) {
      set = new Set();
      if (create) map.set(key, set);
    }
    return set;
  }

  private prune(w: Watcher): void {
    const { range } = w;
    if (range.single) {
      this.singles.delete(asMapKey(range.start));
      return;
    }
    const byPrefix = this.prefixes.get(range.start.length);
    byPrefix?.delete(asMapKey(range.start));
    if (byPrefix?.size === 0) this.prefixes.delete(range.start.length);
  }
}
