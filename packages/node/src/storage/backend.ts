/**
 * The LMDB environment of one member and its named databases (schema.ts). Writes run in
 * synchronous LMDB transactions on the event-loop thread (`writeSync`), committed without waiting
 * for the disk; `flushed()` is the durability barrier that callers await before acknowledging.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase, type TransactionFlags } from 'lmdb';
import { assert } from '../errors/index.js';
import { DB_HISTORY, DB_LIVE, DB_META, DB_NAMES, DB_REVS } from './schema.js';

export interface BackendOptions {
  readonly dataDir: string;
  /** Initial LMDB map size; lmdb-js grows the map on demand, so this is a hint, not a quota. */
  readonly mapSizeBytes?: number;
}

/** A binary-keyed, binary-valued named database. */
export type BinaryDb = Database<Buffer, Buffer>;

/**
 * Proof that the caller runs inside `Backend.writeSync`. Functions that write (or must read their
 * own writes) take it as their first argument; there is no ambient transaction in our code.
 */
export interface WriteTxn {
  readonly kind: 'write';
}

/**
 * lmdb-js transaction flags: ABORTABLE (1) | SYNCHRONOUS_COMMIT (2) | NO_SYNC_FLUSH (0x10000).
 * The commit happens before `writeSync` returns, the fsync runs on lmdb's flush thread
 * (`overlappingSync`), and `flushed()` resolves once it has. See docs/storage.md, "Durability".
 */
const WRITE_TXN_FLAGS = 0x10003 as TransactionFlags;

interface LmdbStats {
  pageSize: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
  free?: { treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
}

export class Backend {
  readonly meta: BinaryDb;
  readonly live: BinaryDb;
  readonly history: BinaryDb;
  readonly revs: BinaryDb;
  readonly path: string;
  private readonly root: RootDatabase<Buffer, Buffer>;
  private inWrite = false;
  private closed = false;

  private constructor(path: string, root: RootDatabase<Buffer, Buffer>) {
    this.path = path;
    this.root = root;
    const db = (name: string): BinaryDb => root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
    this.meta = db(DB_META);
    this.live = db(DB_LIVE);
    this.history = db(DB_HISTORY);
    this.revs = db(DB_REVS);
  }

  /** Opens (creating if missing) `${dataDir}/member/db`, an LMDB directory (data.mdb + lock.mdb). */
  static open(options: BackendOptions): Backend {
    const path = join(options.dataDir, 'member', 'db');
    mkdirSync(path, { recursive: true });
    const root = open<Buffer, Buffer>({
      path,
      keyEncoding: 'binary',
      encoding: 'binary',
      maxDbs: DB_NAMES.length + 4,
      // Deliberate: commits return at once and fsync overlaps the next transaction; every
      // acknowledgement awaits flushed(). See docs/storage.md.
      overlappingSync: true,
      ...(options.mapSizeBytes === undefined ? {} : { mapSize: options.mapSizeBytes }),
    });
    return new Backend(path, root);
  }

  /**
   * Runs `fn` in one synchronous LMDB write transaction and commits it (visible at once, durable
   * at the next `flushed()`). If `fn` throws, the transaction is aborted and the error rethrown.
   * Write transactions do not nest.
   */
  writeSync<T>(fn: (txn: WriteTxn) => T): T {
    assert(!this.closed, 'backend is closed');
    assert(!this.inWrite, 'write transactions do not nest');
    this.inWrite = true;
    try {
      return this.root.transactionSync(() => fn(WRITE_TXN), WRITE_TXN_FLAGS);
    } finally {
      this.inWrite = false;
    }
  }

  /** True while a `writeSync` callback runs (reads then see its uncommitted writes). */
  inWriteTxn(): boolean {
    return this.inWrite;
  }

  /** Physical size of the data file (StatusResponse.dbSize). */
  sizeBytes(): number {
    return statSync(join(this.path, 'data.mdb')).size;
  }

  /** Bytes of pages in use: the two meta pages plus every page of every named DB and the catalog. */
  sizeInUseBytes(): number {
    const pages = (s: LmdbStats): number => s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
    const root = this.root.getStats() as LmdbStats;
    let total = 2 + pages(root) + (root.free ? pages({ ...root.free, pageSize: root.pageSize }) : 0);
    for (const db of [this.meta, this.live, this.history, this.revs]) total += pages(db.getStats() as LmdbStats);
    return total * root.pageSize;
  }

  /** Resolves once every transaction committed so far is durable (fsync'd). */
  async flushed(): Promise<void> {
    await this.root.flushed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.flushed;
    await this.root.close();
  }
}

const WRITE_TXN: WriteTxn = Object.freeze({ kind: 'write' });
