/**
 * The key ranges a user may read and write, merged from its roles, and etcd 3.4's two checks on
 * them (auth/range_perm_cache.go with adt's interval tree):
 * - a single key (no range end) is allowed if some permission interval contains it;
 * - a range [key, rangeEnd) is allowed only if the permission intervals that overlap it cover it
 *   without a gap.
 * Bounds compare as etcd's BytesAffineComparable: by bytes, except that an empty bound is greater
 * than every other (+infinity). A permission's range end "\0" means "to the end" (empty), and a
 * permission without a range end is the one key [key, key + "\0").
 */
import { authpb } from '@corvid/proto';

export interface KeyInterval {
  readonly begin: Buffer;
  /** Exclusive; empty = +infinity. */
  readonly end: Buffer;
}

export interface MergedPerms {
  readonly read: readonly KeyInterval[];
  readonly write: readonly KeyInterval[];
}

/** etcd's BytesAffineComparable.Compare: an empty bound is +infinity. */
export function compareBound(a: Uint8Array, b: Uint8Array): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return Buffer.compare(a, b);
}

const isOpenEnd = (end: Uint8Array): boolean => end.length === 1 && end[0] === 0;

function permInterval(perm: authpb.Permission): KeyInterval {
  const key = Buffer.from(perm.key);
  if (perm.rangeEnd.length === 0) return { begin: key, end: Buffer.concat([key, Buffer.from([0])]) };
  return { begin: key, end: isOpenEnd(perm.rangeEnd) ? Buffer.alloc(0) : Buffer.from(perm.rangeEnd) };
}

/** The union of `roles`' permissions, split into what may be read and what may be written, sorted by begin. */
export function mergePerms(roles: readonly authpb.Role[]): MergedPerms {
  const read: KeyInterval[] = [];
  const write: KeyInterval[] = [];
  for (const role of roles) {
    for (const perm of role.keyPermission) {
      const ivl = permInterval(perm);
      if (perm.permType === authpb.Permission_Type.READ || perm.permType === authpb.Permission_Type.READWRITE) read.push(ivl);
      if (perm.permType === authpb.Permission_Type.WRITE || perm.permType === authpb.Permission_Type.READWRITE) write.push(ivl);
    }
  }
  const byBegin = (a: KeyInterval, b: KeyInterval): number => compareBound(a.begin, b.begin) || compareBound(a.end, b.end);
  return { read: read.sort(byBegin), write: write.sort(byBegin) };
}

function overlaps(a: KeyInterval, b: KeyInterval): boolean {
  return compareBound(a.begin, b.end) < 0 && compareBound(b.begin, a.end) < 0;
}

/**
 * Whether `perms` allow [key, rangeEnd) (rangeEnd empty: the one key `key`; "\0": to the end).
 * `perms` must be sorted by begin (mergePerms sorts them).
 */
export function permits(perms: readonly KeyInterval[], key: Uint8Array, rangeEnd: Uint8Array): boolean {
  if (rangeEnd.length === 0) {
    const point: KeyInterval = { begin: Buffer.from(key), end: Buffer.concat([key, Buffer.from([0])]) };
    return perms.some((p) => overlaps(p, point));
  }
  const wanted: KeyInterval = { begin: Buffer.from(key), end: isOpenEnd(rangeEnd) ? Buffer.alloc(0) : Buffer.from(rangeEnd) };
  // adt.IntervalTree.Contains: the overlapping intervals, in order of begin, must be contiguous
  // and reach from at or before the range's begin to at or after its end.
  let minBegin: Buffer | undefined;
  let maxEnd: Buffer | undefined;
  for (const p of perms) {
    if (!overlaps(p, wanted)) continue;
    if (minBegin === undefined || maxEnd === undefined) {
      minBegin = p.begin;
      maxEnd = p.end;
      continue;
    }
    if (compareBound(maxEnd, p.begin) < 0) return false;
    if (compareBound(p.end, maxEnd) > 0) maxEnd = p.end;
  }
  return minBegin !== undefined && maxEnd !== undefined && compareBound(maxEnd, wanted.end) >= 0 && compareBound(minBegin, wanted.begin) <= 0;
}
