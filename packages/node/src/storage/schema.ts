/**
 * Every named LMDB database of a member and the byte layout of its keys and values, in one place
 * (as etcd's mvcc/backend bucket list). docs/storage.md explains how they are used together.
 *
 * All keys and values are raw bytes (`keyEncoding: 'binary'`, `encoding: 'binary'`); LMDB orders
 * keys by memcmp, which is etcd's byte order for user keys.
 *
 * | DB        | key                                            | value                              |
 * |-----------|------------------------------------------------|------------------------------------|
 * | `meta`    | ASCII name (META_*)                            | int64 big-endian                   |
 * | `meta`    | `alarm/` member(8) type(4) (META_ALARM_PREFIX) | empty                              |
 * | `live`    | user key, raw                                  | record (latest version; live only) |
 * | `history` | escape(user key) 0x00 ~main(8) ~sub(4)         | record (every version + tombstones)|
 * | `revs`    | main(8) sub(4), big-endian                     | flags(1) user key                  |
 * | `leases`  | lease id(8, int64 big-endian)                  | ttl(8) remaining ttl(8), seconds   |
 * | `leaseKeys` | lease id(8) user key                         | empty (the key is attached)        |
 * | `authUsers` | user name, UTF-8                             | authpb.User (password: hash)       |
 * | `authRoles` | role name, UTF-8                             | authpb.Role                        |
 * | `meta`    | `authEnabled` (META_AUTH_ENABLED)              | 1 byte: 1 enabled, 0 disabled      |
 * | `meta`    | `authRevision` (META_AUTH_REVISION)            | int64 big-endian                   |
 *
 * A record (mvcc/record.ts) is `flags(1) create(8) mod(8) version(8) lease(8) value(...)`.
 * `~main` is `2^53 - 1 - main` and `~sub` is `2^32 - 1 - sub`, so the versions of one key sort
 * newest first and a seek to `escape(key) 0x00 ~R` lands on the newest version at or below R.
 */
import { assert } from '../errors/index.js';

export const DB_META = 'meta';
export const DB_LIVE = 'live';
export const DB_HISTORY = 'history';
export const DB_REVS = 'revs';
/** etcd's `lease` bucket: every granted, unrevoked lease with its TTL and checkpointed remaining TTL. */
export const DB_LEASES = 'leases';
/**
 * Which keys each lease holds (etcd keeps this only in memory and rebuilds it from the key space at
 * start; persisting it makes revoke and TimeToLive --keys a prefix scan and start-up free).
 */
export const DB_LEASE_KEYS = 'leaseKeys';
/** etcd's `authUsers` bucket: every user, as an encoded authpb.User whose password is a hash (auth/password.ts). */
export const DB_AUTH_USERS = 'authUsers';
/** etcd's `authRoles` bucket: every role except an implicit `root`, as an encoded authpb.Role. */
export const DB_AUTH_ROLES = 'authRoles';
export const DB_NAMES = [DB_META, DB_LIVE, DB_HISTORY, DB_REVS, DB_LEASES, DB_LEASE_KEYS, DB_AUTH_USERS, DB_AUTH_ROLES] as const;

/** Raft index of the last entry whose effects are in this environment (etcd's consistent index). */
export const META_APPLIED_INDEX = Buffer.from('appliedIndex', 'latin1');
/** Last committed main revision; absent on a new store, which etcd starts at revision 1. */
export const META_CURRENT_REVISION = Buffer.from('currentRevision', 'latin1');
/** Compact main revision as applied (logical: reads below it fail); absent = -1, never compacted. */
export const META_COMPACT_REVISION = Buffer.from('compactRevision', 'latin1');
/** Revision up to which old versions are physically gone; absent = -1. Lags META_COMPACT_REVISION. */
export const META_FINISHED_COMPACT_REVISION = Buffer.from('finishedCompactRevision', 'latin1');
/**
 * Raised alarms (etcd's `alarm` bucket): key `alarm/` member id(8, big-endian) alarm type(4,
 * big-endian), empty value. Written only by the applier, so every member holds the same list.
 */
export const META_ALARM_PREFIX = Buffer.from('alarm/', 'latin1');
/** etcd's `auth` bucket key `authEnabled`: one byte, 1 when authentication is on; absent = off. */
export const META_AUTH_ENABLED = Buffer.from('authEnabled', 'latin1');
/** etcd's `authRevision`: bumped by every auth change; a token checked at an older one is stale. */
export const META_AUTH_REVISION = Buffer.from('authRevision', 'latin1');

/** LMDB's key size limit as compiled into lmdb-js (checked at startup by the tests). */
export const MAX_LMDB_KEY_BYTES = 1978;
/** Bytes a history key adds to the escaped user key: terminator + ~main + ~sub. */
export const HISTORY_SUFFIX_BYTES = 13;
export const REV_KEY_BYTES = 12;
/** The largest main revision the layout can hold (the inverted encoding needs main < 2^53). */
export const MAX_REVISION = Number.MAX_SAFE_INTEGER;
const MAX_SUB = 0xffffffff;
const TWO_32 = 0x1_0000_0000;

/** The first key after every key that starts with `prefix` (whose last byte is below 0xff): a range's end. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  return end;
}

export function encodeMetaInt(value: number): Buffer {
  assert(Number.isSafeInteger(value), `meta value ${value} is not a safe integer`);
  const out = Buffer.allocUnsafe(8);
  out.writeBigInt64BE(BigInt(value));
  return out;
}

export function decodeMetaInt(bytes: Uint8Array | undefined, absent: number): number {
  if (bytes === undefined) return absent;
  assert(bytes.length === 8, 'meta value must be 8 bytes');
  const value = Number(Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigInt64BE());
  assert(Number.isSafeInteger(value), 'meta value out of the safe integer range');
  return value;
}

function writeU64(out: Buffer, offset: number, value: number): void {
  out.writeUInt32BE(Math.floor(value / TWO_32), offset);
  out.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(bytes: Buffer, offset: number): number {
  return bytes.readUInt32BE(offset) * TWO_32 + bytes.readUInt32BE(offset + 4);
}

/** `revs` key: main(8) sub(4) big-endian, so revisions sort in commit order. */
export function encodeRevKey(main: number, sub: number): Buffer {
  assert(main >= 0 && main <= MAX_REVISION && sub >= 0 && sub <= MAX_SUB, 'revision out of range');
  const out = Buffer.allocUnsafe(REV_KEY_BYTES);
  writeU64(out, 0, main);
  out.writeUInt32BE(sub, 8);
  return out;
}

export function decodeRevKey(bytes: Buffer): { main: number; sub: number } {
  assert(bytes.length === REV_KEY_BYTES, 'rev key must be 12 bytes');
  return { main: readU64(bytes, 0), sub: bytes.readUInt32BE(8) };
}

/** Length of escape(key): every 0x00 becomes 0x00 0xFF, so the 0x00 terminator sorts first. */
export function escapedLength(key: Uint8Array): number {
  let n = key.length;
  let at = key.indexOf(0);
  while (at !== -1) {
    n += 1;
    at = key.indexOf(0, at + 1);
  }
  return n;
}

/** Writes escape(key) 0x00 at out[0..]; returns the offset after the terminator. */
function writeEscaped(out: Buffer, key: Uint8Array): number {
  let o = 0;
  let from = 0;
  let at = key.indexOf(0);
  while (at !== -1) {
    out.set(key.subarray(from, at + 1), o);
    o += at + 1 - from;
    out[o++] = 0xff;
    from = at + 1;
    at = key.indexOf(0, from);
  }
  out.set(key.subarray(from), o);
  o += key.length - from;
  out[o++] = 0;
  return o;
}

/**
 * `history` key of one version: escape(key) 0x00 ~main ~sub. The inverted revision's first byte is
 * at most 0x1F (main < 2^53), below the 0xFF that follows an escaped 0x00, so a key sorts before
 * every key it is a proper prefix of, exactly as user keys do.
 */
export function encodeHistoryKey(key: Uint8Array, main: number, sub: number): Buffer {
  assert(main >= 0 && main <= MAX_REVISION && sub >= 0 && sub <= MAX_SUB, 'revision out of range');
  const out = Buffer.allocUnsafe(escapedLength(key) + HISTORY_SUFFIX_BYTES);
  const o = writeEscaped(out, key);
  writeU64(out, o, MAX_REVISION - main);
  out.writeUInt32BE(MAX_SUB - sub, o + 8);
  return out;
}

/** escape(key) 0x00: every version of `key` sorts at or after it; every smaller key before it. */
export function historyKeyPrefix(key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(escapedLength(key) + 1);
  writeEscaped(out, key);
  return out;
}

/**
 * escape(key) 0x00 0xFF: just past every version of `key` (whose next byte is <= 0x1F) and before
 * every greater key, including `key + "\0" + ...`, which escapes to escape(key) 0x00 0xFF ...
 */
export function historyKeyAfter(key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(escapedLength(key) + 2);
  writeEscaped(out, key);
  out[out.length - 1] = 0xff;
  return out;
}

/** The revision of a history key. */
export function historyKeyRevision(hkey: Buffer): { main: number; sub: number } {
  const o = hkey.length - 12;
  return { main: MAX_REVISION - readU64(hkey, o), sub: MAX_SUB - hkey.readUInt32BE(o + 8) };
}

/** The escaped user key of a history key, terminator included (compare these to group versions). */
export function historyKeyGroup(hkey: Buffer): Buffer {
  return hkey.subarray(0, hkey.length - 12);
}

/** The user key of a history key (a copy only when it contained 0x00 bytes). */
export function historyKeyUserKey(hkey: Buffer): Buffer {
  const escaped = hkey.subarray(0, hkey.length - HISTORY_SUFFIX_BYTES);
  if (escaped.indexOf(0) === -1) return escaped;
  const out = Buffer.allocUnsafe(escaped.length);
  let n = 0;
  for (let i = 0; i < escaped.length; i++) {
    const b = escaped[i] as number;
    out[n++] = b;
    if (b === 0) i++; // skip the 0xFF escape byte
  }
  return out.subarray(0, n);
}

/** `revs` value: flags(1) user key. */
export const REV_FLAG_TOMBSTONE = 1;

export function encodeRevValue(key: Uint8Array, tombstone: boolean): Buffer {
  const out = Buffer.allocUnsafe(key.length + 1);
  out[0] = tombstone ? REV_FLAG_TOMBSTONE : 0;
  out.set(key, 1);
  return out;
}

/** True when `key` can be stored: in `live` raw and in `history` escaped with its suffix. */
export function keyFitsLayout(key: Uint8Array): boolean {
  return key.length > 0 && key.length <= MAX_LMDB_KEY_BYTES && escapedLength(key) + HISTORY_SUFFIX_BYTES <= MAX_LMDB_KEY_BYTES;
}

/** `leases` key: the lease id as int64 big-endian. */
export function encodeLeaseKey(id: bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigInt64BE(id);
  return out;
}

export function decodeLeaseKey(bytes: Buffer): bigint {
  assert(bytes.length >= 8, 'lease key shorter than 8 bytes');
  return bytes.readBigInt64BE(0);
}

/** `leases` value: ttl(8) remaining ttl(8), int64 big-endian seconds; remaining 0 = no checkpoint. */
export function encodeLeaseValue(ttlSeconds: number, remainingTtlSeconds: number): Buffer {
  assert(Number.isSafeInteger(ttlSeconds) && Number.isSafeInteger(remainingTtlSeconds), 'lease TTLs must be safe integers');
  const out = Buffer.allocUnsafe(16);
  out.writeBigInt64BE(BigInt(ttlSeconds), 0);
  out.writeBigInt64BE(BigInt(remainingTtlSeconds), 8);
  return out;
}

export function decodeLeaseValue(bytes: Buffer): { ttlSeconds: number; remainingTtlSeconds: number } {
  assert(bytes.length === 16, 'lease value must be 16 bytes');
  return { ttlSeconds: Number(bytes.readBigInt64BE(0)), remainingTtlSeconds: Number(bytes.readBigInt64BE(8)) };
}

/** `leaseKeys` key: lease id(8) user key, so one lease's keys are adjacent and in byte order. */
export function encodeLeaseKeysKey(id: bigint, key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(8 + key.length);
  out.writeBigInt64BE(id, 0);
  out.set(key, 8);
  return out;
}
