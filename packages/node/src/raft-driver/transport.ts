/**
 * Where a Ready's messages go once its state is durable: the member's peer/PeerTransport (gRPC
 * streams to every peer), or the no-op for the driver's unit tests.
 */
import type { Message } from '@corvid/raft';

export interface Transport {
  /** Sends without waiting; an unreachable peer is reported back through RawNode.reportUnreachable. */
  send(messages: readonly Message[]): void;
}

/** A member with no peers: Raft addresses no one, so there is nothing to send. */
export const NO_PEERS: Transport = {
  send: () => undefined,
};
