/**
 * The receiving side of the Stream and Ping calls. Each call is admitted once (the sender's id and
 * cluster id from its metadata; a foreign cluster gets FAILED_PRECONDITION "cluster ID mismatch",
 * as etcd's rafthttp answers), then every frame is decoded and its messages go to handler.step in
 * arrival order. gRPC delivers one call's frames in order, so one peer's messages stay in order.
 */
import { Metadata, status, type sendUnaryData, type ServerReadableStream, type ServerUnaryCall } from '@grpc/grpc-js';
import type { NodeId } from '@corvid/raft';
import { decodeBatch } from './codec.js';
import type { PeerContext } from './context.js';
import type { PeerHandler } from './handler.js';
import { peerLabel } from './metrics.js';
import { CLUSTER_ID_KEY, CLUSTER_ID_MISMATCH, checkCaller } from './service.js';

type Empty = Record<string, never>;

export interface ReceiverDeps extends PeerContext {
  readonly handler: PeerHandler;
  readonly isIsolated: (id: NodeId) => boolean;
  readonly heard: (id: NodeId) => void;
  /** Aborted when the transport closes: every incoming call ends. */
  readonly signal: AbortSignal;
}

/**
 * The sender of an admissible call, or null after answering the call with the refusal. An isolated
 * sender's Ping and Snapshot calls are refused; its Stream is admitted and its frames dropped, so
 * healing needs no redial.
 */
export function admit(deps: ReceiverDeps, md: Metadata, callback: sendUnaryData<Empty>, refuseIsolated = true): NodeId | null {
  if (deps.signal.aborted) {
    callback({ code: status.UNAVAILABLE, details: 'peer transport closed' });
    return null;
  }
  const caller = checkCaller(md, deps.clusterId);
  if (caller.ok && refuseIsolated && deps.isIsolated(caller.from)) {
    callback({ code: status.UNAVAILABLE, details: 'peer isolated' });
    return null;
  }
  if (caller.ok) return caller.from;
  if (caller.reason === 'cluster-mismatch') {
    deps.logger.warn('request cluster ID mismatch', { 'local-member-cluster-id': deps.clusterId.toString(16), 'remote-peer-cluster-id': md.get(CLUSTER_ID_KEY)[0] });
    callback({ code: status.FAILED_PRECONDITION, details: CLUSTER_ID_MISMATCH });
  } else {
    callback({ code: status.INVALID_ARGUMENT, details: 'peer call without a member id' });
  }
  return null;
}

export function handleStream(deps: ReceiverDeps, call: ServerReadableStream<Uint8Array, Empty>, callback: sendUnaryData<Empty>): void {
  const from = admit(deps, call.metadata, callback, false);
  if (from === null) return;
  // Headers tell the sender it was accepted (peer-stream.ts counts the peer active from then).
  call.sendMetadata(new Metadata());
  const label = { From: peerLabel(from) };
  let ended = false;
  const end = (err: { code: status; details: string } | null): void => {
    if (ended) return;
    ended = true;
    deps.signal.removeEventListener('abort', onAbort);
    if (err === null) callback(null, {});
    else callback(err);
  };
  const onAbort = (): void => end({ code: status.UNAVAILABLE, details: 'peer transport closed' });
  deps.signal.addEventListener('abort', onAbort);
  call.on('data', (frame: Uint8Array) => {
    if (ended || deps.isIsolated(from)) return;
    deps.metrics.receivedBytes.inc(label, frame.byteLength);
    let messages;
    try {
      messages = decodeBatch(frame);
    } catch (err) {
      deps.metrics.receivedFailures.inc(label);
      deps.logger.warn('failed to decode raft message', { 'remote-peer-id': label.From, error: err });
      end({ code: status.INVALID_ARGUMENT, details: `undecodable message batch: ${(err as Error).message}` });
      return;
    }
    deps.heard(from);
    for (const msg of messages) {
      // A MsgSnap travels only on a Snapshot call, with its file; a message for another member
      // (a stale address after a membership change) must not reach our Raft.
      const refusal = msg.type === 'MsgSnap' ? 'ignored MsgSnap received without its snapshot file'
        : msg.to !== deps.local ? 'ignored message addressed to another member' : null;
      if (refusal === null) {
        deps.handler.step(msg);
        continue;
      }
      deps.metrics.receivedFailures.inc(label);
      deps.logger.warn(refusal, { 'remote-peer-id': label.From, to: peerLabel(msg.to), type: msg.type });
    }
  });
  call.on('end', () => end(null));
  call.on('close', () => end({ code: status.CANCELLED, details: 'stream closed' }));
  call.on('error', (err: Error) => {
    deps.logger.debug('peer stream closed with an error', { 'remote-peer-id': label.From, error: err.message });
    end({ code: status.CANCELLED, details: err.message });
  });
}

export function handlePing(deps: ReceiverDeps, call: ServerUnaryCall<Empty, Empty>, callback: sendUnaryData<Empty>): void {
  const from = admit(deps, call.metadata, callback);
  if (from === null) return;
  deps.heard(from);
  callback(null, {});
}
