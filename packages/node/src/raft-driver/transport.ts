/**
 * Where a Ready's messages go once its state is durable. A single-member cluster has no peers, so
 * the only transport today is the no-op; the peer transport (raftpb over HTTP/2) is later work on
 * issue #4 and plugs in here.
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
