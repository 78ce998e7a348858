/**
 * The sending side of a Snapshot call: asks the SnapshotSource for a consistent copy of the
 * backend, streams the MsgSnap header, the file in SNAPSHOT_CHUNK_BYTES chunks (waiting for
 * 'drain' when the call pushes back) and its SHA-256, then waits for the receiver's answer. The
 * copy is always released. Resolves to whether the receiver accepted it; never rejects.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Client, ClientWritableStream, ServiceError } from '@grpc/grpc-js';
import type { Message } from '@corvid/raft';
import type { SnapshotChunk } from './codec.js';
import type { PeerContext } from './context.js';
import type { SnapshotSource } from './handler.js';
import { SNAPSHOT_CHUNK_BYTES } from './limits.js';
import { peerLabel } from './metrics.js';
import { SNAPSHOT_METHOD, callMetadata } from './service.js';

export interface SnapshotSenderDeps extends PeerContext {
  readonly snapshots: SnapshotSource;
}

type SnapshotCall = ClientWritableStream<SnapshotChunk>;

export async function sendSnapshot(deps: SnapshotSenderDeps, client: Client, msg: Message, signal: AbortSignal): Promise<boolean> {
  const label = { To: peerLabel(msg.to) };
  const startMs = deps.nowMs();
  try {
    const snapshot = await deps.snapshots.open(msg);
    try {
      await stream(deps, client, msg, snapshot.path, signal);
    } finally {
      await snapshot.release();
    }
    deps.metrics.snapshotSendSuccess.inc(label);
    deps.metrics.snapshotSendSeconds.observe(label, (deps.nowMs() - startMs) / 1000);
    deps.logger.info('sent database snapshot to remote peer', { 'remote-peer-id': label.To, 'snapshot-index': msg.snapshot?.metadata.index });
    return true;
  } catch (err) {
    deps.metrics.snapshotSendFailures.inc(label);
    deps.logger.warn('failed to send database snapshot', { 'remote-peer-id': label.To, error: err instanceof Error ? err.message : String(err) });
    return false;
  }
}

async function stream(deps: SnapshotSenderDeps, client: Client, msg: Message, path: string, signal: AbortSignal): Promise<void> {
  const sizeBytes = (await stat(path)).size;
  /** Set once the receiver has answered (a refusal can come at any point): nothing more is read or written. */
  let ended = false;
  let answer: (err: ServiceError | null) => void = () => undefined;
  const answered = new Promise<ServiceError | null>((resolve) => {
    answer = resolve;
  });
  const c: SnapshotCall = client.makeClientStreamRequest(
    SNAPSHOT_METHOD.path, SNAPSHOT_METHOD.requestSerialize, SNAPSHOT_METHOD.responseDeserialize,
    callMetadata(deps.local, deps.clusterId), {}, (err) => {
      ended = true;
      answer(err);
    },
  );
  const onAbort = (): void => c.cancel();
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort);
  try {
    c.write({ kind: 'header', message: msg, sizeBytes });
    const hash = createHash('sha256');
    for await (const data of createReadStream(path, { highWaterMark: SNAPSHOT_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      if (ended) break;
      hash.update(data);
      deps.metrics.sentBytes.inc({ To: peerLabel(msg.to) }, data.byteLength);
      if (!c.write({ kind: 'data', data })) await drainedOrAnswered(c, answered);
    }
    if (!ended) {
      c.write({ kind: 'sha256', digest: hash.digest() });
      c.end();
    }
    const err = await answered;
    if (err !== null) throw err;
  } catch (err) {
    c.cancel();
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Waits for the call to take more, or for the receiver's answer (a refusal arrives before any drain). */
function drainedOrAnswered(call: SnapshotCall, answered: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const onDrain = (): void => resolve();
    call.once('drain', onDrain);
    void answered.then(() => {
      call.off('drain', onDrain);
      resolve();
    });
  });
}
