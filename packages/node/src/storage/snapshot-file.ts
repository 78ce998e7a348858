/**
 * A snapshot file as `etcdctl snapshot save` writes it from Corvid's Maintenance.Snapshot: the
 * LMDB data file of a compacted backend copy, then the SHA-256 of those bytes (etcd's trailer,
 * which etcd detects by `size % 512 == 32`). Read by `corvid snapshot status|restore`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open as openFile, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { open } from 'lmdb';
import { Crc32c } from '../util/crc32c.js';
import { DB_NAMES, META_CURRENT_REVISION, decodeMetaInt } from './schema.js';

const SHA256_BYTES = 32;
/**
 * LMDB's MDB_MAGIC, little-endian, right after the first meta page's header: byte 16 in classic
 * LMDB, 24 in lmdb-js's fork (a wider page header). Either marks an LMDB environment.
 */
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_MAGIC_OFFSETS = [16, 24];
const HEAD_BYTES = 32;

/** A file that is not a usable snapshot; the message is what the command prints. */
export class SnapshotFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotFileError';
  }
}

export interface SnapshotFile {
  readonly path: string;
  /** Bytes of the LMDB data file (the file's size without the trailer). */
  readonly dbBytes: number;
  readonly hasHash: boolean;
}

/**
 * Checks the trailer (unless `skipHashCheck`) and that an LMDB environment follows, as etcd's
 * restore checks its bolt file: a missing hash needs --skip-hash-check, a wrong one is refused.
 */
export async function verifySnapshotFile(path: string, skipHashCheck: boolean, onProgress?: (done: number, total: number) => void): Promise<SnapshotFile> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new SnapshotFileError(`stat ${path}: no such file or directory`);
  }
  const hasHash = size % 512 === SHA256_BYTES;
  if (!hasHash && !skipHashCheck) throw new SnapshotFileError('snapshot missing hash but --skip-hash-check=false');
  const dbBytes = hasHash ? size - SHA256_BYTES : size;
  const fh = await openFile(path, 'r');
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (bytesRead < head.length || !LMDB_MAGIC_OFFSETS.some((at) => head.readUInt32LE(at) === LMDB_MAGIC)) {
      throw new SnapshotFileError(`${path} is not a Corvid snapshot (no LMDB environment at its start)`);
    }
    if (hasHash && !skipHashCheck) {
      const trailer = Buffer.alloc(SHA256_BYTES);
      await fh.read(trailer, 0, SHA256_BYTES, dbBytes);
      const sha = createHash('sha256');
      let done = 0;
      for await (const chunk of createReadStream(path, { start: 0, end: dbBytes - 1 }) as AsyncIterable<Buffer>) {
        sha.update(chunk);
        done += chunk.length;
        onProgress?.(done, dbBytes);
      }
      const got = sha.digest();
      if (!got.equals(trailer)) throw new SnapshotFileError(`expected sha256 ${trailer.toString('hex')}, got ${got.toString('hex')}`);
    }
  } finally {
    await fh.close();
  }
  return { path, dbBytes, hasHash };
}

/** Copies the LMDB data file out of the snapshot (without the trailer) to `dest`. */
export async function extractSnapshotDb(file: SnapshotFile, dest: string): Promise<void> {
  await pipeline(createReadStream(file.path, { start: 0, end: file.dbBytes - 1 }), createWriteStream(dest, { flags: 'wx' }));
}

export interface SnapshotInfo {
  /** CRC-32C over every DB, as Maintenance.Hash computes it. */
  readonly hash: number;
  readonly revision: number;
  /** Keys in every DB (etcd counts the keys of every bucket). */
  readonly totalKey: number;
  readonly totalSize: number;
}

/** etcd's `snapshot status`: reads the environment in place (read-only) and removes the lock file it needs. */
export async function inspectSnapshotDb(file: SnapshotFile): Promise<SnapshotInfo> {
  const env = open<Buffer, Buffer>({ path: file.path, readOnly: true, keyEncoding: 'binary', encoding: 'binary', maxDbs: DB_NAMES.length + 4 });
  try {
    const h = new Crc32c();
    let totalKey = 0;
    let revision = 0;
    for (const name of DB_NAMES) {
      const db = env.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
      h.update(Buffer.from(name, 'latin1'));
      for (const { key, value } of db.getRange({})) {
        h.update(key).update(value);
        totalKey += 1;
      }
      if (name === 'meta') revision = decodeMetaInt(db.get(META_CURRENT_REVISION), 0);
    }
    return { hash: h.digest(), revision, totalKey, totalSize: file.dbBytes };
  } finally {
    await env.close();
    await rm(`${file.path}-lock`, { force: true });
  }
}
