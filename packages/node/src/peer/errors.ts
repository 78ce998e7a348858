/**
 * Why a receiver refuses a peer call. These answer other members, never clients, so they are not
 * in the etcd error catalogue (api/errors.ts); each carries the gRPC status the sender sees.
 */
import { status, type StatusObject } from '@grpc/grpc-js';

export class PeerRefusal extends Error {
  constructor(readonly code: status, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PeerRefusal';
  }
}

/** The status to answer a failed call with: a refusal's own, or UNAVAILABLE for anything else (a disk error, a cancel). */
export function refusalStatus(err: unknown): Partial<StatusObject> {
  if (err instanceof PeerRefusal) return { code: err.code, details: err.message };
  return { code: status.UNAVAILABLE, details: err instanceof Error ? err.message : String(err) };
}
