/**
 * PeerTransport: the member's Raft messages to and from its peers over gRPC. One PeerStream per
 * peer sends (bounded queue, batches, reconnect with back-off); receiver.ts and
 * snapshot-receiver.ts answer the peers' calls; a MsgSnap goes on its own Snapshot call, one in
 * flight per peer. send() never blocks and never throws; failures reach Raft as reportUnreachable
 * and reportSnapshot, always from a later task or microtask, never from inside send().
 */
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { Message, NodeId } from '@corvid/raft';
import type { Logger } from '../util/logger.js';
import type { PeerHandler, SnapshotSource } from './handler.js';
import { createPeerMetrics, peerLabel, type PeerMetrics } from './metrics.js';
import { PeerStream } from './peer-stream.js';
import type { PeerTls } from './peer-tls.js';
import { handlePing, handleStream } from './receiver.js';
import { PEER_SERVICE } from './service.js';
import { handleSnapshot, type SnapshotReceiverDeps } from './snapshot-receiver.js';
import { sendSnapshot } from './snapshot-sender.js';

export interface PeerTransportOptions {
  readonly memberId: NodeId;
  readonly clusterId: bigint;
  readonly handler: PeerHandler;
  readonly snapshots: SnapshotSource;
  /** Where received snapshot files are written (created if missing), e.g. `${dataDir}/member/snap`. */
  readonly snapshotDir: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Monotonic milliseconds (default performance.now). */
  readonly nowMs?: () => number;
  /** Uniform in [0, 1) for back-off jitter (default Math.random). */
  readonly random?: () => number;
  /** Peer TLS (peer-tls.ts): how peers are dialled and which URLs can be; default plain http:// only. */
  readonly tls?: PeerTls;
}

interface Peer {
  readonly stream: PeerStream;
  /** The Snapshot call in flight to this peer, if any: at most one. */
  snapshot: AbortController | null;
}

export class PeerTransport {
  private readonly peers = new Map<NodeId, Peer>();
  private isolated: ReadonlySet<NodeId> = new Set();
  /** When each peer last answered us or sent us something (monotonic ms). */
  private readonly heardAtMs = new Map<NodeId, number>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly closing = new AbortController();
  private readonly metrics: PeerMetrics;
  private readonly nowMs: () => number;
  private readonly random: () => number;

  constructor(private readonly options: PeerTransportOptions) {
    this.metrics = createPeerMetrics(options.registry);
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.random = options.random ?? Math.random;
  }

  /** Add, update or forget peers (membership changes); URLs like http://127.0.0.1:2380. */
  setPeer(id: NodeId, peerUrls: readonly string[]): void {
    if (id === this.options.memberId || this.closing.signal.aborted) return;
    const urls = peerUrls.filter((url) => this.options.tls?.dials(url) ?? isDialable(url));
    if (urls.length < peerUrls.length) {
      this.options.logger.warn('ignored peer URLs that are not http://host:port', { 'remote-peer-id': peerLabel(id), 'peer-urls': peerUrls });
    }
    if (urls.length === 0) return;
    const peer = this.peers.get(id);
    if (peer !== undefined) {
      peer.stream.setUrls(urls);
      return;
    }
    const { memberId: local, clusterId, handler, logger } = this.options;
    const stream = new PeerStream(id, urls, {
      local, clusterId, handler, logger, metrics: this.metrics, heard: this.heard, nowMs: this.nowMs, random: this.random,
      ...(this.options.tls?.enabled === true ? { channelCredentials: this.options.tls.channelCredentials() } : {}),
    });
    stream.isolated = this.isolated.has(id);
    this.peers.set(id, { stream, snapshot: null });
  }

  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    peer.stream.close();
    peer.snapshot?.abort();
    this.peers.delete(id);
    this.heardAtMs.delete(id);
  }

  /** Never blocks and never throws: queues per peer (bounded; when full, drop and report unreachable), sends batched. */
  send(messages: readonly Message[]): void {
    const dropped = new Map<NodeId, number>();
    const lostSnapshots: NodeId[] = [];
    const touched = new Set<PeerStream>();
    for (const msg of messages) {
      const peer = this.peers.get(msg.to);
      if (peer === undefined) {
        this.options.logger.debug('ignored message send request; unknown remote peer target', { 'unknown-target-peer-id': peerLabel(msg.to) });
      } else if (this.isolated.has(msg.to)) {
        // A partition: the message is lost on the way, as on a cut network. A lost MsgSnap is
        // reported, as a failed transfer would be, or Raft would wait for its status forever.
        if (msg.type === 'MsgSnap') lostSnapshots.push(msg.to);
      } else if (msg.type === 'MsgSnap') {
        this.startSnapshot(peer, msg);
      } else if (peer.stream.enqueue(msg)) {
        touched.add(peer.stream);
      } else {
        dropped.set(msg.to, (dropped.get(msg.to) ?? 0) + 1);
      }
    }
    for (const stream of touched) stream.flush();
    if (dropped.size === 0 && lostSnapshots.length === 0) return;
    for (const [to, count] of dropped) this.metrics.sentFailures.inc({ To: peerLabel(to) }, count);
    queueMicrotask(() => {
      if (this.closing.signal.aborted) return;
      for (const to of dropped.keys()) this.options.handler.reportUnreachable(to);
      for (const to of lostSnapshots) this.options.handler.reportSnapshot(to, 'failure');
    });
  }

  /** Fault injection for tests: drop every message to and from these peers until called again (empty = heal). */
  isolate(ids: readonly NodeId[]): void {
    this.isolated = new Set(ids);
    for (const [id, peer] of this.peers) peer.stream.isolated = this.isolated.has(id);
    this.options.logger.info('peer isolation changed', { isolated: ids.map(peerLabel) });
  }

  /** The gRPC service to add to the peer server. */
  service(): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
    const { memberId: local, clusterId, handler, logger, snapshotDir } = this.options;
    const deps: SnapshotReceiverDeps = {
      local, clusterId, handler, logger, snapshotDir, metrics: this.metrics, signal: this.closing.signal, nowMs: this.nowMs,
      isIsolated: (id) => this.isolated.has(id), heard: this.heard, own: this.own,
    };
    return {
      definition: PEER_SERVICE,
      implementation: {
        Stream: (call: Parameters<typeof handleStream>[1], callback: Parameters<typeof handleStream>[2]) => handleStream(deps, call, callback),
        Snapshot: (call: Parameters<typeof handleSnapshot>[1], callback: Parameters<typeof handleSnapshot>[2]) => handleSnapshot(deps, call, callback),
        Ping: (call: Parameters<typeof handlePing>[1], callback: Parameters<typeof handlePing>[2]) => handlePing(deps, call, callback),
      },
    };
  }

  /** Ids of peers we have heard from within `withinMs` (etcd's "active since"; used for MemberAdd/Remove safety checks). */
  activePeers(withinMs: number): NodeId[] {
    const now = this.nowMs();
    return [...this.heardAtMs].filter(([, atMs]) => now - atMs <= withinMs).map(([id]) => id);
  }

  /**
   * etcd's ActiveSince: when our stream to `id` opened, if it is open now (monotonic ms); null when
   * it is not (down, unknown, isolated). MemberAdd/Remove's safety checks read it.
   */
  activeSince(id: NodeId): number | null {
    if (this.isolated.has(id)) return null;
    return this.peers.get(id)?.stream.activeSince() ?? null;
  }

  /** Messages waiting for `id`'s stream (0 for an unknown peer); for tests and debugging. */
  queuedMessages(id: NodeId): number {
    return this.peers.get(id)?.stream.queuedMessages() ?? 0;
  }

  /** Stops every stream and call, and waits for in-flight snapshot transfers to end. */
  async close(): Promise<void> {
    this.closing.abort();
    for (const id of [...this.peers.keys()]) this.removePeer(id);
    await Promise.all(this.tasks);
  }

  private readonly heard = (id: NodeId): void => {
    this.heardAtMs.set(id, this.nowMs());
  };

  private readonly own = (task: Promise<void>): void => {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  };

  private startSnapshot(peer: Peer, msg: Message): void {
    if (peer.snapshot !== null) {
      // Raft sends one MsgSnap per follower until it hears the status of the last one, which will come.
      this.options.logger.warn('dropped MsgSnap: a snapshot to this peer is in flight', { 'remote-peer-id': peerLabel(msg.to) });
      return;
    }
    const abort = new AbortController();
    peer.snapshot = abort;
    const { memberId: local, clusterId, snapshots, logger, handler } = this.options;
    const deps = { local, clusterId, snapshots, logger, metrics: this.metrics, nowMs: this.nowMs };
    this.own(sendSnapshot(deps, peer.stream.client(), msg, abort.signal).then((ok) => {
      if (peer.snapshot === abort) peer.snapshot = null;
      if (this.closing.signal.aborted) return;
      if (!ok) handler.reportUnreachable(msg.to);
      handler.reportSnapshot(msg.to, ok ? 'finish' : 'failure');
    }));
  }
}

/** Whether the transport can dial `url`: http:// with a host (peer TLS is not implemented). */
function isDialable(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return parsed.protocol === 'http:' && parsed.host !== '';
}
