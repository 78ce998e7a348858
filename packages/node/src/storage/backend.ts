/**
 * The LMDB environment of one member and its named databases (schema.ts). Writes run in
 * synchronous LMDB transactions on the event-loop thread (`writeSync`); `flushed()` is the
 * durability barrier callers await before acknowledging. How a commit reaches the disk is the
 * `durability` option; docs/storage.md ("Durability") explains both modes and why lmdb-js's own
 * `db.flushed` cannot be that barrier (it does not track synchronous transactions).
 */
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { open, type Database, type RootDatabase, type TransactionFlags } from 'lmdb';
import { exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';
import { assert, CorvidError } from '../errors/index.js';
import { Crc32c } from '../util/crc32c.js';
import type { Logger } from '../util/logger.js';
import { defragCopyDir, fsyncDir, fsyncFile, removeDefragLeftovers, SerialRuns, type DefragResult, type EnvSharer, type WriteHold } from './defrag.js';
import { DB_AUTH_ROLES, DB_AUTH_USERS, DB_HISTORY, DB_LEASE_KEYS, DB_LEASES, DB_LIVE, DB_META, DB_NAMES, DB_REVS } from './schema.js';

/**
 * - `commit` (default): every commit fsyncs before `writeSync` returns (classic LMDB). Durable
 *   and crash-safe at once; the event loop waits for the disk on every commit.
 * - `data`: every commit syncs its data pages but not the meta page that makes it current
 *   (MDB_NOMETASYNC): one sync I/O per commit instead of two. The file is never corrupt (LMDB
 *   keeps ACI), but an OS crash or power loss may undo the last commits until the next
 *   `flushed()` (one mdb_env_sync on the libuv pool). For a member's backend, whose changes the
 *   Raft log (synced first) replays after a crash; a process crash loses nothing.
 * - `flush`: commits skip the fsync (MDB_NOSYNC, tens of µs); `flushed()` runs one fdatasync on
 *   the libuv pool for every commit so far. Much faster and the loop never waits for the disk,
 *   but an OS crash or power loss between a commit and its flush can corrupt the file (LMDB's
 *   MDB_NOSYNC caveat); a process crash cannot.
 */
export type Durability = 'commit' | 'data' | 'flush';

export interface BackendOptions {
  readonly dataDir: string;
  /** Initial LMDB map size; lmdb-js grows the map on demand, so this is a hint, not a quota. */
  readonly mapSizeBytes?: number;
  readonly durability?: Durability;
  /** Registers etcd_disk_backend_commit_duration_seconds. */
  readonly registry?: Registry;
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
 * lmdb-js transaction flags: ABORTABLE (1) | SYNCHRONOUS_COMMIT (2), plus bits lmdb-js passes to
 * mdb_txn_begin (`flags & 0xf0000`, env.cpp): 0x10000 MDB_NOSYNC (pages and meta written without
 * fsync), 0x40000 MDB_NOMETASYNC (pages synced, the meta page written without sync).
 */
const COMMIT_FLAGS: Readonly<Record<Durability, TransactionFlags>> = {
  commit: 0x3 as TransactionFlags,
  data: 0x40003 as TransactionFlags,
  flush: 0x10003 as TransactionFlags,
};

interface LmdbSync {
  sync(callback: (err?: unknown) => void): void;
}

interface LmdbStats {
  pageSize: number;
  /** env.info()'s, on the root's stats only. */
  lastPageNumber?: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
  free?: { treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
}

/** The open environment and its named databases; replaced as a whole by a defragmentation. */
interface Env {
  readonly root: RootDatabase<Buffer, Buffer>;
  readonly meta: BinaryDb;
  readonly live: BinaryDb;
  readonly history: BinaryDb;
  readonly revs: BinaryDb;
  readonly leases: BinaryDb;
  readonly leaseKeys: BinaryDb;
  readonly authUsers: BinaryDb;
  readonly authRoles: BinaryDb;
}

function openEnv(path: string, mapSizeBytes: number | undefined): Env {
  const root = open<Buffer, Buffer>({
    path,
    keyEncoding: 'binary',
    encoding: 'binary',
    maxDbs: DB_NAMES.length + 4,
    // Deliberately off: under overlappingSync every synchronous commit still fsyncs inline
    // (lmdb's fork syncs at the end of mdb_txn_commit in the calling thread), and the env's
    // format would then depend on the mode. Durability is chosen per commit instead.
    overlappingSync: false,
    ...(mapSizeBytes === undefined ? {} : { mapSize: mapSizeBytes }),
  });
  const db = (name: string): BinaryDb => root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
  return {
    root,
    meta: db(DB_META),
    live: db(DB_LIVE),
    history: db(DB_HISTORY),
    revs: db(DB_REVS),
    leases: db(DB_LEASES),
    leaseKeys: db(DB_LEASE_KEYS),
    authUsers: db(DB_AUTH_USERS),
    authRoles: db(DB_AUTH_ROLES),
  };
}

/** A promise and its resolver: a gate that callers wait on until it is opened. */
interface Gate {
  readonly opened: Promise<void>;
  readonly open: () => void;
}

function closedGate(): Gate {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

export class Backend {
  readonly path: string;
  readonly durability: Durability;
  /**
   * The environment. Every database handle is read through it (the getters below), so a
   * defragmentation that reopens the file moves every user of `backend.live` etc. at once; no
   * module may keep a handle of its own.
   */
  private env: Env;
  private readonly mapSizeBytes: number | undefined;
  private readonly commitSeconds: Histogram;
  private readonly snapshotSeconds: Histogram;
  private readonly hashSeconds: Histogram;
  private readonly defragSeconds: Histogram;
  private readonly defragInflight: Gauge;
  private inWrite = false;
  private sizeBytesCache: number | undefined;
  private sizeInUseBytesCache: number | undefined;
  private closed = false;
  /** Commits so far, and how many of them are known durable. */
  private committedSeq = 0;
  private syncedSeq = 0;
  private syncing: Promise<void> | null = null;
  /** Closing of snapshot sources opened by installFrom, awaited by close(). */
  private readonly background = new Set<Promise<unknown>>();
  /** Copies (copyTo) running on LMDB's thread: a defragmentation waits for them before it swaps. */
  private readonly copies = new Set<Promise<unknown>>();
  /** Other threads' handles on this environment (the read pool), closed for a swap. */
  private readonly sharers: EnvSharer[] = [];
  /** Closed while a defragmentation runs: new copies wait on it. */
  private copyGate: Gate | null = null;
  /** Closed while a defragmentation holds the writers: background writers (compaction) wait on it. */
  private writeGate: Gate | null = null;
  private readonly defrags = new SerialRuns<DefragResult>();

  private constructor(path: string, env: Env, durability: Durability, registry: Registry, mapSizeBytes: number | undefined) {
    this.path = path;
    this.env = env;
    this.durability = durability;
    this.mapSizeBytes = mapSizeBytes;
    const name = 'etcd_disk_backend_commit_duration_seconds';
    // Reused when a backend is reopened on the same registry (prom-client refuses a second one).
    this.commitSeconds =
      (registry.getSingleMetric(name) as Histogram | undefined) ??
      new Histogram({
        name,
        help: 'The latency distributions of commit called by backend.',
        // etcd's ExponentialBuckets(0.001, 2, 14)
        buckets: exponentialBuckets(0.001, 2, 14),
        registers: [registry],
      });
    this.snapshotSeconds = backendHistogram(registry, 'etcd_disk_backend_snapshot_duration_seconds', 'The latency distribution of backend snapshots.', exponentialBuckets(0.01, 2, 17));
    this.hashSeconds = backendHistogram(registry, 'etcd_mvcc_hash_duration_seconds', 'The latency distribution of storage hash operation.', exponentialBuckets(0.01, 2, 15));
    this.defragSeconds = backendHistogram(registry, 'etcd_disk_backend_defrag_duration_seconds', 'The latency distribution of backend defragmentation.', exponentialBuckets(0.1, 2, 13));
    this.defragInflight =
      (registry.getSingleMetric('etcd_disk_defrag_inflight') as Gauge | undefined) ??
      new Gauge({ name: 'etcd_disk_defrag_inflight', help: 'Whether or not defrag is active on the member. 1 means active, 0 means not.', registers: [registry] });
    // LMDB's reader table: slots held by read transactions (the event loop's, each read worker's,
    // a running copy), the closest measure to etcd's count of open bbolt read transactions.
    registry.removeSingleMetric('etcd_mvcc_db_open_read_transactions');
    const numReaders = (): number | undefined => (this.closed ? undefined : (this.env.root.getStats() as { numReaders?: number }).numReaders);
    new Gauge({
      name: 'etcd_mvcc_db_open_read_transactions',
      help: 'The number of currently open read transactions',
      registers: [registry],
      collect(): void {
        const n = numReaders();
        if (n !== undefined) this.set(n);
      },
    });
  }

  get meta(): BinaryDb {
    return this.env.meta;
  }
  get live(): BinaryDb {
    return this.env.live;
  }
  get history(): BinaryDb {
    return this.env.history;
  }
  get revs(): BinaryDb {
    return this.env.revs;
  }
  get leases(): BinaryDb {
    return this.env.leases;
  }
  get leaseKeys(): BinaryDb {
    return this.env.leaseKeys;
  }
  get authUsers(): BinaryDb {
    return this.env.authUsers;
  }
  get authRoles(): BinaryDb {
    return this.env.authRoles;
  }
  private get root(): RootDatabase<Buffer, Buffer> {
    return this.env.root;
  }

  /**
   * Opens (creating if missing) `${dataDir}/member/db`, an LMDB directory (data.mdb + lock.mdb),
   * after removing what an interrupted defragmentation left beside it.
   */
  static open(options: BackendOptions): Backend {
    const path = join(options.dataDir, 'member', 'db');
    mkdirSync(path, { recursive: true });
    removeDefragLeftovers(path);
    return new Backend(path, openEnv(path, options.mapSizeBytes), options.durability ?? 'commit', options.registry ?? new Registry(), options.mapSizeBytes);
  }

  /**
   * Registers a thread that opens this environment by path (the read pool): a defragmentation
   * suspends it (every handle closed) before it swaps the file, and resumes it after.
   */
  addSharer(sharer: EnvSharer): void {
    this.sharers.push(sharer);
  }

  /**
   * Resolves when writes are welcome: at once, or once a defragmentation lets go of the writers.
   * Background writers (physical compaction) await it before each write transaction; a write
   * made during the hold is not lost (the defragmentation copies again), but one that never
   * stops would keep it from finishing.
   */
  whenWritable(): Promise<void> {
    return this.writeGate?.opened ?? Promise.resolve();
  }

  /**
   * Runs `fn` in one synchronous LMDB write transaction and commits it (visible at once, durable
   * at the next `flushed()`). If `fn` throws, the transaction is aborted and the error rethrown.
   * Write transactions do not nest.
   */
  writeSync<T>(fn: (txn: WriteTxn) => T extends PromiseLike<unknown> ? never : T): T {
    return this.commitWith(this.durability, fn);
  }

  /** `writeSync` with the given durability for this one commit. */
  private commitWith<T>(durability: Durability, fn: (txn: WriteTxn) => T extends PromiseLike<unknown> ? never : T): T {
    assert(!this.closed, 'backend is closed');
    assert(!this.inWrite, 'write transactions do not nest');
    this.inWrite = true;
    let bodyDoneMs = 0;
    let result: T | undefined;
    try {
      // lmdb-js commits only once the callback's result settles: a callback that returns a
      // promise (as `db.put` does) would leave the transaction open past this call, uncommitted
      // and lost to a crash. So the callback given to lmdb-js always returns nothing.
      this.root.transactionSync(() => {
        result = fn(WRITE_TXN);
        bodyDoneMs = performance.now();
      }, COMMIT_FLAGS[durability]);
      this.commitSeconds.observe((performance.now() - bodyDoneMs) / 1000);
      this.committedSeq += 1;
      // Sizes change only in a commit: the quota check reads them per request, LMDB once per commit.
      this.sizeBytesCache = undefined;
      this.sizeInUseBytesCache = undefined;
      // A classic commit syncs the whole file: every earlier commit is durable too.
      if (durability === 'commit') this.syncedSeq = this.committedSeq;
      return result as T;
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
    this.sizeBytesCache ??= statSync(join(this.path, 'data.mdb')).size;
    return this.sizeBytesCache;
  }

  /**
   * Maintenance.Hash: CRC-32C over every named database (its name, then each key and value in
   * key order), as etcd hashes every bucket of its backend. It reads the whole store on the
   * calling thread; etcd's Hash is as heavy and meant for checks, not for traffic.
   */
  hash(): number {
    const endTimer = this.hashSeconds.startTimer();
    const h = new Crc32c();
    for (const [name, db] of [[DB_META, this.meta], [DB_LIVE, this.live], [DB_HISTORY, this.history], [DB_REVS, this.revs], [DB_LEASES, this.leases], [DB_LEASE_KEYS, this.leaseKeys], [DB_AUTH_USERS, this.authUsers], [DB_AUTH_ROLES, this.authRoles]] as const) {
      h.update(Buffer.from(name, 'latin1'));
      for (const { key, value } of db.getRange({})) h.update(key).update(value);
    }
    endTimer();
    return h.digest();
  }

  /**
   * Writes a consistent, compacted copy of the environment into `dir` (as `data.mdb`) and returns
   * the file's path. LMDB copies from one read transaction on its own thread, so writes go on.
   */
  async copyTo(dir: string): Promise<string> {
    // A copy runs on the environment a defragmentation is about to close: it starts after.
    while (this.copyGate !== null) await this.copyGate.opened;
    assert(!this.closed, 'backend is closed');
    const endTimer = this.snapshotSeconds.startTimer();
    const copy = this.root.backup(dir, true);
    this.copies.add(copy);
    try {
      await copy;
    } finally {
      this.copies.delete(copy);
    }
    endTimer();
    return join(dir, 'data.mdb');
  }

  /**
   * Maintenance.Defragment: rewrites the environment into a compact file and swaps it in, as
   * etcd 3.4 rewrites its bbolt file. One at a time (a call during a run waits, then shares the
   * next run). The sequence, and why each step is where it is:
   *   1. new copies (Snapshot, a follower's snapshot) wait; running ones finish;
   *   2. every other thread on this environment lets go (the read pool drains its running jobs,
   *      closes its handles; reads that arrive wait in its bounded queue) — writes still go on;
   *   3. the writers are held: `writer` (the Raft Ready loop) pauses, background writers wait on
   *      `whenWritable`;
   *   4. LMDB writes a compacting copy from one read transaction on its own thread (the event loop
   *      keeps serving reads, ticks and peers meanwhile), which is then fsync'd; if a commit
   *      landed after the copy began (one the hold came too late for), it copies again;
   *   5. one loop turn later (lmdb-js's close can hang in the turn of recent transactions), in one
   *      synchronous step: close, rename the copy over data.mdb, fsync the directory, reopen —
   *      so no read on the event loop ever meets a closed environment;
   *   6. writers, sharers and copies resume.
   * While held, a leader sends no heartbeats and may lose leadership (as an etcd leader does
   * during a long defragmentation); nothing acknowledged is lost, since the copy holds every commit.
   */
  defragment(options: { readonly writer?: WriteHold; readonly logger?: Logger } = {}): Promise<DefragResult> {
    return this.defrags.run(() => this.defragmentOnce(options.writer, options.logger));
  }

  private async defragmentOnce(writer: WriteHold | undefined, logger: Logger | undefined): Promise<DefragResult> {
    if (this.closed) throw new CorvidError('Stopped');
    const startedMs = performance.now();
    const endTimer = this.defragSeconds.startTimer();
    this.defragInflight.set(1);
    const before = { size: this.sizeBytes(), inUse: this.sizeInUseBytes() };
    // etcd's fields (mvcc/backend.defrag).
    logger?.info('defragmenting', { path: this.path, 'current-db-size-bytes': before.size, 'current-db-size-in-use-bytes': before.inUse });
    const copyGate = closedGate();
    this.copyGate = copyGate;
    const suspended: EnvSharer[] = [];
    let copies: number;
    try {
      await Promise.allSettled([...this.copies]);
      for (const sharer of this.sharers) {
        // Resumed even if its suspension fails half-way (some workers gone, the rest to restart).
        suspended.push(sharer);
        await sharer.suspend();
      }
      copies = await this.swapForCompactCopy(writer);
    } finally {
      for (const sharer of suspended) sharer.resume();
      this.copyGate = null;
      copyGate.open();
      this.defragInflight.set(0);
      endTimer();
    }
    const result: DefragResult = {
      sizeBytesBefore: before.size,
      sizeInUseBytesBefore: before.inUse,
      sizeBytesAfter: this.sizeBytes(),
      sizeInUseBytesAfter: this.sizeInUseBytes(),
      tookMs: performance.now() - startedMs,
      copies,
    };
    logger?.info('defragmented', {
      path: this.path,
      'current-db-size-bytes-diff': result.sizeBytesAfter - result.sizeBytesBefore,
      'current-db-size-bytes': result.sizeBytesAfter,
      'current-db-size-in-use-bytes-diff': result.sizeInUseBytesAfter - result.sizeInUseBytesBefore,
      'current-db-size-in-use-bytes': result.sizeInUseBytesAfter,
      took: `${result.tookMs.toFixed(3)}ms`,
      copies,
    });
    return result;
  }

  /** Steps 3–5 of `defragment`: holds the writers, copies, swaps, lets the writers go; returns the copies made. */
  private async swapForCompactCopy(writer: WriteHold | undefined): Promise<number> {
    const copyDir = defragCopyDir(this.path);
    const writeGate = closedGate();
    writer?.pause();
    this.writeGate = writeGate;
    try {
      await writer?.settled();
      for (let attempt = 1; ; attempt++) {
        const seqAtCopy = this.committedSeq;
        rmSync(copyDir, { recursive: true, force: true });
        mkdirSync(copyDir);
        await this.root.backup(copyDir, true);
        const copy = join(copyDir, 'data.mdb');
        await fsyncFile(copy);
        // None may sync on the old file past the swap.
        await this.flushed();
        await yieldToLoop();
        await this.root.flushed;
        // A write the hold did not stop (a Ready already past the pause when it came) is missing
        // from the copy: copy again. Checked in the turn of the swap, so none can follow it.
        if (this.committedSeq === seqAtCopy) {
          this.swapSync(copy);
          return attempt;
        }
        if (attempt === MAX_DEFRAG_COPIES) throw new Error(`defragment: writes went on during ${attempt} copies`); // UNKNOWN, as etcd answers a failed defrag
      }
    } finally {
      rmSync(copyDir, { recursive: true, force: true });
      this.writeGate = null;
      writeGate.open();
      writer?.resume();
    }
  }

  /**
   * Closes the environment, renames `copy` over data.mdb and reopens, synchronously. If the
   * rename fails the old file is reopened and the error thrown; a crash at any point leaves the
   * old file or the new one.
   */
  private swapSync(copy: string): void {
    // Only a failed rename leaves a usable environment (the old file, reopened). After any other
    // failure whatever is open is not to be written to: the backend counts as closed, so the next
    // write (the Ready loop's apply) fails and the member stops.
    let oldFileReopened = false;
    try {
      // With no asynchronous write pending (this backend makes none) lmdb-js closes at once and
      // returns a settled promise; anything else would leave reads facing a closing environment.
      void this.root.close();
      assert((this.root as unknown as { status: string }).status === 'closed', 'the environment closes synchronously');
      let renamed = false;
      try {
        renameSync(copy, join(this.path, 'data.mdb'));
        renamed = true;
        fsyncDir(this.path);
      } finally {
        this.env = openEnv(this.path, this.mapSizeBytes);
        this.sizeBytesCache = undefined;
        this.sizeInUseBytesCache = undefined;
        oldFileReopened = !renamed;
      }
      // lmdb-js shares one native environment per path: had any handle stayed open, the reopen
      // would have joined the old file. The new one ends where the copy ends.
      const stats = this.root.getStats() as LmdbStats;
      assert(stats.lastPageNumber !== undefined && (stats.lastPageNumber + 1) * stats.pageSize <= this.sizeBytes(), 'the reopened environment is the compact copy');
    } catch (err) {
      if (!oldFileReopened) this.closed = true;
      throw err;
    }
    // The copy was fsync'd and holds every commit.
    this.syncedSeq = this.committedSeq;
  }

  /**
   * Replaces the contents of every named DB with those of `file` (a `copyTo` copy made by another
   * member: a leader's snapshot), in ONE write transaction, durable on return (a classic commit
   * whatever the durability mode: the WAL already forgot what it replaces). etcd swaps the bbolt
   * file instead; copying keeps every reader and handle of this Backend valid, and a crash leaves
   * either the old state or the new one.
   */
  installFrom(file: string): void {
    assert(!this.closed, 'backend is closed');
    const source = open<Buffer, Buffer>({ path: file, readOnly: true, keyEncoding: 'binary', encoding: 'binary', maxDbs: DB_NAMES.length + 4 });
    try {
      this.commitWith('commit', () => {
        for (const name of DB_NAMES) {
          const from = source.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
          const to = this.root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
          to.clearSync();
          for (const { key, value } of from.getRange({})) to.put(key, value);
        }
      });
    } finally {
      const closing: Promise<unknown> = source.close().finally(() => {
        rmSync(`${file}-lock`, { force: true });
        this.background.delete(closing);
      });
      this.background.add(closing);
    }
  }

  /** Bytes of pages in use: the two meta pages plus every page of every named DB and the catalog. */
  sizeInUseBytes(): number {
    this.sizeInUseBytesCache ??= this.countPagesInUse();
    return this.sizeInUseBytesCache;
  }

  private countPagesInUse(): number {
    const pages = (s: LmdbStats): number => s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
    const root = this.root.getStats() as LmdbStats;
    let total = 2 + pages(root) + (root.free ? pages({ ...root.free, pageSize: root.pageSize }) : 0);
    for (const db of [this.meta, this.live, this.history, this.revs, this.leases, this.leaseKeys, this.authUsers, this.authRoles]) total += pages(db.getStats() as LmdbStats);
    return total * root.pageSize;
  }

  /**
   * Resolves once every transaction committed so far is durable (fsync'd). In `flush` mode one
   * fdatasync on the libuv pool serves every caller waiting at the time; a sync error rejects
   * (the member cannot promise durability any more and must stop).
   */
  async flushed(): Promise<void> {
    const target = this.committedSeq;
    while (this.syncedSeq < target) {
      this.syncing ??= this.sync();
      await this.syncing;
    }
  }

  private sync(): Promise<void> {
    const seq = this.committedSeq;
    return new Promise<void>((resolve, reject) => {
      // lmdb-js's sync(callback) queues mdb_env_sync(env, 1) on the libuv pool (untyped in its .d.ts).
      (this.root as unknown as LmdbSync).sync((err?: unknown) => {
        this.syncing = null;
        if (err !== undefined && err !== null) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        this.syncedSeq = Math.max(this.syncedSeq, seq);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.defrags.idle();
    await Promise.allSettled([...this.background]);
    await this.flushed();
    this.closed = true;
    // lmdb-js 3.5's close() can block the thread forever when called in the same macrotask as
    // recent synchronous transactions (observed here with 5+ commits); one turn of the event
    // loop lets its deferred read-txn reset run first. Its own `flushed` is awaited for the same
    // reason (it resolves at once: it does not track synchronous transactions).
    await yieldToLoop();
    await this.root.flushed;
    await this.root.close();
  }
}

/** Compact copies one defragmentation makes before it gives up because writes would not stop. */
const MAX_DEFRAG_COPIES = 3;

const WRITE_TXN: WriteTxn = Object.freeze({ kind: 'write' });

/** The histogram already on `registry` under `name` (a reopened backend), or a new one. */
function backendHistogram(registry: Registry, name: string, help: string, buckets: number[]): Histogram {
  return (registry.getSingleMetric(name) as Histogram | undefined) ?? new Histogram({ name, help, buckets, registers: [registry] });
}
