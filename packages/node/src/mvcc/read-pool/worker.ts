/**
 * A read-pool worker thread: opens the member's LMDB environment (the same files the event loop
 * writes; LMDB readers never block the writer) and serves one job at a time. Each job runs in one
 * synchronous turn after a fresh read transaction is taken, so it reads one committed snapshot:
 * the revision, compact revision and data all come from it, and the header revision is the
 * snapshot's — exactly the state the answer describes.
 */
import { constants, setPriority } from 'node:os';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { open } from 'lmdb';
import { etcdserverpb } from '@corvid/proto';
import { CorvidError, isCorvidError } from '../../errors/index.js';
import { DB_HISTORY, DB_LIVE, DB_META, DB_NAMES, DB_REVS, META_COMPACT_REVISION, META_CURRENT_REVISION, decodeMetaInt } from '../../storage/schema.js';
import { hashUpTo } from '../hash.js';
import { rangeView } from '../range.js';
import type { MvccDbs } from '../reader.js';
import type { RevisionView } from '../revision.js';
import { encodeRangeResponse } from './encode.js';
import type { HashJob, RangeJob, ReadJob, ReadReply, WorkerInit, WorkerMessage } from './protocol.js';

const init = workerData as WorkerInit;

// Long reads yield the CPU to the event loop that drives Raft and applies writes: on Linux a nice
// value is per thread (setpriority(2), "BUGS"), so this lowers this worker alone. Where the OS
// refuses, the worker runs at normal priority.
try {
  setPriority(constants.priority.PRIORITY_BELOW_NORMAL);
} catch (err) {
  if (!(err instanceof Error && 'code' in err)) throw err;
}
const root = open<Buffer, Buffer>({
  path: init.path,
  keyEncoding: 'binary',
  encoding: 'binary',
  maxDbs: DB_NAMES.length + 4,
  // The same flags as Backend.open: lmdb-js shares one environment per path within a process.
  overlappingSync: false,
});
const db = (name: string): MvccDbs['live'] => root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
const dbs: MvccDbs = { meta: db(DB_META), live: db(DB_LIVE), history: db(DB_HISTORY), revs: db(DB_REVS) };

/** The revisions of the snapshot this turn reads (the applier writes both with the state they describe). */
function snapshotView(): RevisionView {
  return { rev: decodeMetaInt(dbs.meta.get(META_CURRENT_REVISION), 1), compactRev: decodeMetaInt(dbs.meta.get(META_COMPACT_REVISION), -1) };
}

function serveRange(job: RangeJob): ReadReply {
  const request = etcdserverpb.RangeRequest.decode(job.request);
  const view = snapshotView();
  const out = rangeView(dbs, view, request);
  const bytes = encodeRangeResponse(
    { header: { ...job.header, revision: BigInt(view.rev) }, kvs: out.kvs, more: out.more, count: BigInt(out.count) },
    job.maxResponseBytes,
    true,
  );
  return { kind: 'range', bytes, revision: view.rev, count: out.count, more: out.more };
}

/** etcd's HashByRev, at this snapshot's revisions (KvStore.hashKV's checks). */
function serveHash(job: HashJob): ReadReply {
  const view = snapshotView();
  if (job.revision > 0 && job.revision <= view.compactRev) throw new CorvidError('Compacted');
  if (job.revision > view.rev) throw new CorvidError('FutureRev');
  const rev = job.revision <= 0 ? view.rev : job.revision;
  return { kind: 'hash', hash: hashUpTo(dbs, rev, view.compactRev), compactRevision: view.compactRev, revision: view.rev };
}

function serve(job: ReadJob): ReadReply {
  // lmdb-js keeps a read transaction until a 0 ms timer resets it, which may not have run
  // between two jobs: start from the latest commit (a linearizable read needs it), and let the
  // snapshot go as soon as the job is done, so the writer can reuse pages.
  root.resetReadTxn();
  try {
    return job.kind === 'range' ? serveRange(job) : serveHash(job);
  } catch (err) {
    if (isCorvidError(err)) return { kind: 'error', code: err.code, detail: err.detail };
    return { kind: 'failure', stack: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  } finally {
    root.resetReadTxn();
  }
}

/**
 * Closes the environment and ends the thread with code 0; one loop turn first, as Backend.close
 * (lmdb-js can hang closing in the turn of a transaction). Code 1 tells the pool the handles may
 * still be open.
 */
function closeAndExit(): void {
  void yieldToLoop()
    .then(() => root.close())
    .then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`read-pool worker: closing LMDB failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exit(1);
      },
    );
}

parentPort!.on('message', (message: WorkerMessage) => {
  if (message.kind === 'close') {
    closeAndExit();
    return;
  }
  const reply = serve(message);
  parentPort!.postMessage(reply, reply.kind === 'range' ? [reply.bytes.buffer as ArrayBuffer] : []);
});
