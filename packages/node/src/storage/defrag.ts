/**
 * Defragmentation's parts that do not need the environment: who must let go of it, how a second
 * request joins, and the file steps that make the swap crash-safe. `Backend.defragment` runs the
 * sequence (docs/storage.md, "Defragmentation").
 *
 * LMDB's data file never shrinks: freed pages are reused, never returned. Only a compacting copy
 * (mdb_env_copy2 with MDB_CP_COMPACT) writes a small file, so defragmenting is: hold the writers,
 * copy, fsync the copy, close the environment, rename the copy over `data.mdb`, fsync the
 * directory, reopen. A crash leaves either the old file or the new one (rename is atomic), plus
 * perhaps a leftover copy directory that the next open removes.
 */
import { closeSync, fsyncSync, openSync, rmSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';

/** The member's writer (the Raft driver's Ready loop): paused for the copy and the swap. */
export interface WriteHold {
  pause(): void;
  resume(): void;
  /** Resolves once no write taken before `pause` is still on its way (a Ready whose WAL save is in flight). */
  settled(): Promise<void>;
}

/**
 * Something that opens the same environment by path on another thread (the read pool's workers).
 * lmdb-js shares one native environment per path within a process, so the old file would stay
 * open under the reopened one: `suspend` resolves once every such handle is closed; `resume`
 * lets it open the new file.
 */
export interface EnvSharer {
  suspend(): Promise<void>;
  resume(): void;
}

/** The sizes a defragmentation logs and the caller may report. */
export interface DefragResult {
  readonly sizeBytesBefore: number;
  readonly sizeInUseBytesBefore: number;
  readonly sizeBytesAfter: number;
  readonly sizeInUseBytesAfter: number;
  readonly tookMs: number;
  /** Compact copies made: more than 1 when a write landed during a copy (which was then made again). */
  readonly copies: number;
}

/** Where the compact copy is written: beside the environment directory, so the rename stays on one file system. */
export function defragCopyDir(envPath: string): string {
  return `${envPath}.defrag`;
}

/** Removes what an interrupted defragmentation left (the copy was never renamed: the old file is whole). */
export function removeDefragLeftovers(envPath: string): void {
  rmSync(defragCopyDir(envPath), { recursive: true, force: true });
}

/** fsyncs a finished file: LMDB's copy does not promise its pages reached the disk. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await openFile(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a directory, so a rename inside it is durable. */
export function fsyncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * At most one run at a time; a call that arrives during a run waits for it and then shares one
 * more run with every other caller that arrived meanwhile (etcd 3.4 serialises Defragment calls
 * on its batch lock: a call that waited still defragments, after the first). So at most one run
 * and one pending run exist, however many callers wait.
 */
export class SerialRuns<T> {
  private running: Promise<T> | null = null;
  private pending: Promise<T> | null = null;

  /** Runs `fn` now, or after the run in progress (sharing the pending run, and its `fn`, if one waits already). */
  run(fn: () => Promise<T>): Promise<T> {
    if (this.pending !== null) return this.pending;
    if (this.running === null) return this.start(fn);
    const after = this.running.then(noop, noop);
    this.pending = after.then(() => {
      this.pending = null;
      return this.start(fn);
    });
    return this.pending;
  }

  /** The run in progress (or pending) to wait for, settled either way. */
  idle(): Promise<void> {
    return (this.pending ?? this.running ?? Promise.resolve()).then(noop, noop);
  }

  isRunning(): boolean {
    return this.running !== null;
  }

  private start(fn: () => Promise<T>): Promise<T> {
    const run = fn().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }
}

function noop(): void {}
