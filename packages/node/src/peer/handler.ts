/**
 * What the transport needs from the member: where received messages and snapshots go, where send
 * failures are reported (Raft's MsgUnreachable and MsgSnapStatus), and the backend copy that goes
 * with an outgoing MsgSnap.
 */
import type { Message, NodeId } from '@corvid/raft';

export interface PeerHandler {
  /** Every received message except MsgSnap, in arrival order per peer. Called on the event loop; must not be awaited. */
  step(msg: Message): void;
  /** A MsgSnap whose attached backend file was received completely, checksum verified, at `dbPath` (the handler takes ownership of the file). */
  receiveSnapshot(msg: Message, dbPath: string): void;
  /** Raft's MsgUnreachable: a send to `id` failed / the stream broke. Never called from inside send(). */
  reportUnreachable(id: NodeId): void;
  /** Raft's MsgSnapStatus for a MsgSnap we sent. */
  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void;
}

export interface SnapshotSource {
  /** A consistent copy of the backend to ship with this MsgSnap: a file the transport streams and then calls release(). */
  open(msg: Message): Promise<{ path: string; release(): Promise<void> }>;
}
