/**
 * The messages between the event loop and a read-pool worker. A job carries everything the worker
 * needs (the request as protobuf bytes, the header identity), so a worker holds no state but its
 * LMDB handles; a reply is either the finished response bytes or an operating error by code.
 */
import type { ErrorCode } from '../../errors/index.js';

/** The header fields the member fills in (the revision comes from the worker's own snapshot). */
export interface HeaderIdentity {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly raftTerm: bigint;
}

export interface RangeJob {
  readonly kind: 'range';
  /** etcdserverpb.RangeRequest, encoded. */
  readonly request: Uint8Array;
  readonly header: HeaderIdentity;
  /** grpc's send limit: a bigger response fails as grpc-go fails it. */
  readonly maxResponseBytes: number;
}

export interface HashJob {
  readonly kind: 'hash';
  /** HashKVRequest.revision; 0 = current. */
  readonly revision: number;
}

export type ReadJob = RangeJob | HashJob;

/**
 * Asks an idle worker to close its LMDB handles and exit (a defragmentation is about to swap the
 * file: lmdb-js shares one native environment per path, so none may stay open). Its exit is the answer.
 */
export interface CloseRequest {
  readonly kind: 'close';
}

export type WorkerMessage = ReadJob | CloseRequest;

export interface RangeReply {
  readonly kind: 'range';
  /** gRPC's 5-byte prefix, then etcdserverpb.RangeResponse encoded (its ArrayBuffer was transferred). */
  readonly bytes: Uint8Array;
  /** The revision of the snapshot the worker read: the response header's revision. */
  readonly revision: number;
  readonly count: number;
  readonly more: boolean;
}

export interface HashReply {
  readonly kind: 'hash';
  readonly hash: number;
  readonly compactRevision: number;
  readonly revision: number;
}

export interface ErrorReply {
  readonly kind: 'error';
  readonly code: ErrorCode;
  readonly detail: string | undefined;
}

/** Anything but an operating error: a bug or LMDB failing. The event loop logs it as unknown. */
export interface FailureReply {
  readonly kind: 'failure';
  readonly stack: string;
}

export type ReadReply = RangeReply | HashReply | ErrorReply | FailureReply;

/** Worker-thread start data. */
export interface WorkerInit {
  /** The LMDB environment directory (`Backend.path`). */
  readonly path: string;
}
