/**
 * Maintenance.Snapshot as etcd 3.4 streams it: the whole backend in 32 KiB blobs, each with the
 * bytes still to come, then one last message whose blob is the SHA-256 of everything sent, which
 * `etcdctl snapshot restore` checks. The copy is made by LMDB on its own thread from one read
 * transaction and streamed from disk with backpressure, so a snapshot never blocks writes and
 * never holds the store in memory. The file is Corvid's (LMDB), not bolt: `corvid snapshot`
 * (issue #8) reads it, etcd's tools do not.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { etcdserverpb } from '@corvid/proto';
import type { Backend } from '../storage/index.js';
import { drained } from './drained.js';

/** etcd's snapshotSendBufferSize. */
const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

type SnapshotCall = ServerWritableStream<etcdserverpb.SnapshotRequest, etcdserverpb.SnapshotResponse>;

/** Streams a snapshot of `backend` to `call`; the temporary copy lives under `workDir` and is always removed. */
export async function streamSnapshot(backend: Backend, workDir: string, call: SnapshotCall, onMessage: () => void): Promise<void> {
  const dir = await mkdtemp(join(workDir, 'snapshot-'));
  try {
    const file = await backend.copyTo(dir);
    const total = (await stat(file)).size;
    const sha = createHash('sha256');
    let sent = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: SNAPSHOT_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      if (call.cancelled) return;
      sent += chunk.length;
      sha.update(chunk);
      onMessage();
      if (!call.write({ header: undefined, remainingBytes: BigInt(total - sent), blob: chunk })) await drained(call);
    }
    onMessage();
    call.write({ header: undefined, remainingBytes: 0n, blob: sha.digest() });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
