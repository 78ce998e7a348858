/**
 * The receiving side of a Snapshot call: the MsgSnap header, the backend file in chunks, then its
 * SHA-256. The file is written to `${snapshotDir}/<term>-<index>.db.part` as it arrives (reading
 * the call only as fast as the disk takes it), checked against the announced size and the digest,
 * synced, renamed to `.db` and only then handed to Raft. Anything else (a bad frame, a short or
 * long file, a wrong digest, a cancelled call) removes the partial file and refuses the call.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { status, type sendUnaryData, type ServerReadableStream } from '@grpc/grpc-js';
import type { Message, NodeId } from '@corvid/raft';
import type { SnapshotChunk } from './codec.js';
import { PeerRefusal, refusalStatus } from './errors.js';
import { peerLabel } from './metrics.js';
import { admit, type ReceiverDeps } from './receiver.js';

type Empty = Record<string, never>;
type SnapshotCall = ServerReadableStream<SnapshotChunk, Empty>;

export interface SnapshotReceiverDeps extends ReceiverDeps {
  readonly snapshotDir: string;
  /** Takes ownership of a task so close() can await it. */
  readonly own: (task: Promise<void>) => void;
}

export function handleSnapshot(deps: SnapshotReceiverDeps, call: SnapshotCall, callback: sendUnaryData<Empty>): void {
  const from = admit(deps, call.metadata, callback);
  if (from === null) return;
  const label = { From: peerLabel(from) };
  const startMs = deps.nowMs();
  const onAbort = (): void => {
    call.destroy(new PeerRefusal(status.UNAVAILABLE, 'peer transport closed'));
  };
  deps.signal.addEventListener('abort', onAbort);
  deps.own(receive(deps, from, call).then(
    ({ msg, dbPath }) => {
      deps.metrics.snapshotReceiveSuccess.inc(label);
      deps.metrics.snapshotReceiveSeconds.observe(label, (deps.nowMs() - startMs) / 1000);
      deps.logger.info('received and saved database snapshot', { 'remote-peer-id': label.From, 'snapshot-index': msg.snapshot?.metadata.index, path: dbPath });
      deps.handler.receiveSnapshot(msg, dbPath);
      callback(null, {});
    },
    (err: unknown) => {
      deps.metrics.snapshotReceiveFailures.inc(label);
      deps.logger.warn('failed to receive snapshot', { 'remote-peer-id': label.From, error: err instanceof Error ? err.message : String(err) });
      callback(refusalStatus(err));
    },
  ).finally(() => deps.signal.removeEventListener('abort', onAbort)));
}

interface Received {
  readonly msg: Message;
  readonly dbPath: string;
}

interface Incoming {
  readonly msg: Message;
  readonly sizeBytes: number;
  readonly partPath: string;
  readonly file: FileHandle;
}

async function receive(deps: SnapshotReceiverDeps, from: NodeId, call: SnapshotCall): Promise<Received> {
  let incoming: Incoming | null = null;
  let digest: Uint8Array | null = null;
  let sizeBytes = 0;
  const hash = createHash('sha256');
  try {
    for await (const chunk of call as AsyncIterable<SnapshotChunk>) {
      if (deps.isIsolated(from)) throw new PeerRefusal(status.UNAVAILABLE, 'peer isolated');
      if (incoming === null) {
        incoming = await start(deps, chunk);
        continue;
      }
      if (chunk.kind === 'header' || digest !== null) throw new PeerRefusal(status.INVALID_ARGUMENT, `snapshot stream: unexpected ${chunk.kind} chunk`);
      if (chunk.kind === 'sha256') {
        digest = chunk.digest;
        continue;
      }
      sizeBytes += chunk.data.byteLength;
      if (sizeBytes > incoming.sizeBytes) throw new PeerRefusal(status.DATA_LOSS, `snapshot stream: more than the announced ${incoming.sizeBytes} bytes`);
      deps.metrics.receivedBytes.inc({ From: peerLabel(from) }, chunk.data.byteLength);
      hash.update(chunk.data);
      await writeAll(incoming.file, chunk.data);
    }
    if (incoming === null) throw new PeerRefusal(status.INVALID_ARGUMENT, 'snapshot stream: no header');
    if (digest === null || sizeBytes !== incoming.sizeBytes) {
      throw new PeerRefusal(status.DATA_LOSS, `snapshot stream truncated: ${sizeBytes} of ${incoming.sizeBytes} bytes${digest === null ? ', no digest' : ''}`);
    }
    if (!hash.digest().equals(digest)) throw new PeerRefusal(status.DATA_LOSS, 'snapshot stream: SHA-256 mismatch');
    await incoming.file.sync();
    // A transport closed meanwhile has no Raft to hand the file to.
    if (deps.signal.aborted) throw new PeerRefusal(status.UNAVAILABLE, 'peer transport closed');
    await incoming.file.close();
    const dbPath = incoming.partPath.slice(0, -'.part'.length);
    await rename(incoming.partPath, dbPath);
    return { msg: incoming.msg, dbPath };
  } catch (err) {
    if (incoming !== null) {
      await incoming.file.close().catch((closeErr: unknown) => deps.logger.debug('closing a refused snapshot file failed', { error: closeErr }));
      await rm(incoming.partPath, { force: true });
    }
    throw err;
  }
}

async function start(deps: SnapshotReceiverDeps, chunk: SnapshotChunk): Promise<Incoming> {
  if (chunk.kind !== 'header') throw new PeerRefusal(status.INVALID_ARGUMENT, 'snapshot stream must start with its header');
  const { message: msg, sizeBytes } = chunk;
  if (msg.type !== 'MsgSnap' || msg.snapshot === null) throw new PeerRefusal(status.INVALID_ARGUMENT, `snapshot stream: header carries ${msg.type}`);
  if (msg.to !== deps.local) throw new PeerRefusal(status.INVALID_ARGUMENT, `snapshot stream: addressed to member ${peerLabel(msg.to)}`);
  const { term, index } = msg.snapshot.metadata;
  await mkdir(deps.snapshotDir, { recursive: true });
  const partPath = join(deps.snapshotDir, `${term}-${index}.db.part`);
  return { msg, sizeBytes, partPath, file: await open(partPath, 'w') };
}

async function writeAll(file: FileHandle, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.byteLength;) {
    const { bytesWritten } = await file.write(data, offset, data.byteLength - offset);
    offset += bytesWritten;
  }
}
