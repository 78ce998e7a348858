/**
 * Pending ReadIndex requests on the leader (etcd's readOnly, "safe" option only). A request is released once a
 * quorum acknowledged a heartbeat carrying its context, which proves this node was still the leader when the
 * request arrived; requests are released in arrival order.
 */
import type { Message, NodeId } from './messages.js';

export interface ReadIndexStatus {
  readonly req: Message;
  readonly index: number;
  readonly acks: Map<NodeId, boolean>;
}

export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (const b of ctx) s += String.fromCharCode(b);
  return s;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Queues a request (its context is entries[0].data) to be answered at `index`. Duplicates are ignored. */
  addRequest(index: number, m: Message): void {
    const key = contextKey(m.entries[0]!.data);
    if (this.pending.has(key)) return;
    this.pending.set(key, { req: m, index, acks: new Map() });
    this.queue.push(key);
  }

  /** Records a heartbeat ack for a context; returns the acks so far, or null if the context is unknown. */
  recvAck(id: NodeId, ctx: Uint8Array): Map<NodeId, boolean> | null {
    const rs = this.pending.get(contextKey(ctx));
    if (rs === undefined) return null;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Releases every request up to and including the one with this context, in order. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return released.map((k) => {
      const rs = this.pending.get(k)!;
      this.pending.delete(k);
      return rs;
    });
  }

  lastPendingRequestCtx(): Uint8Array | null {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? null : this.pending.get(key)!.req.entries[0]!.data;
  }

  pendingCount(): number {
    return this.queue.length;
  }
}
