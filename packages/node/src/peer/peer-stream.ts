/**
 * The sending side for one peer: a bounded queue and one long-lived Stream call that carries it in
 * batches. The call is (re)dialled with exponential back-off, trying the peer's URLs in turn; while
 * it is down, messages are dropped at once (Raft resends what matters) and reported unreachable.
 * HTTP/2 back-pressure (write() returning false) stops the flush until 'drain', so memory is
 * bounded by the queue (messages and bytes) plus grpc-js's own 16-frame write buffer.
 */
import { Client, credentials, status, type ChannelCredentials, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import type { Message, NodeId } from '@corvid/raft';
import { encodeBatch } from './codec.js';
import type { PeerContext } from './context.js';
import type { PeerHandler } from './handler.js';
import {
  BACKOFF_MAX_MS, BACKOFF_MIN_MS, MAX_BATCH_BYTES, MAX_FRAME_BYTES, MAX_QUEUE_BYTES, MAX_QUEUE_MESSAGES, PING_INTERVAL_MS, PING_TIMEOUT_MS,
} from './limits.js';
import { peerLabel } from './metrics.js';
import { CLUSTER_ID_MISMATCH, PING_METHOD, STREAM_METHOD, callMetadata } from './service.js';

export interface PeerStreamDeps extends PeerContext {
  readonly handler: PeerHandler;
  /** Records that the peer answered us (for activePeers). */
  readonly heard: (id: NodeId) => void;
  /** Uniform in [0, 1), for back-off jitter. */
  readonly random: () => number;
  /** How peers are dialled: insecure for http:// URLs, peer TLS for https:// (peer-tls.ts). */
  readonly channelCredentials?: ChannelCredentials;
}

/** closed: after close(); backoff: no call, waiting to redial; connecting: call made, not yet accepted; open: accepted. */
type State = 'backoff' | 'connecting' | 'open' | 'closed';

const CHANNEL_OPTIONS = {
  // grpc-js's own reconnect back-off (default up to 120 s) must not outlast ours.
  'grpc.initial_reconnect_backoff_ms': BACKOFF_MIN_MS,
  'grpc.max_reconnect_backoff_ms': BACKOFF_MAX_MS,
  'grpc.max_receive_message_length': MAX_FRAME_BYTES,
  'grpc.max_send_message_length': MAX_FRAME_BYTES,
};

export class PeerStream {
  private urls: readonly string[] = [];
  private readonly clients = new Map<string, Client>();
  private urlIndex = 0;
  private state: State = 'backoff';
  private activeSinceMs: number | null = null;
  private call: ClientWritableStream<Uint8Array> | null = null;
  /** Messages not yet written to the call; at most MAX_QUEUE_MESSAGES and MAX_QUEUE_BYTES. */
  private queue: Message[] = [];
  /** messageBytes() of everything in `queue`. */
  private queuedBytes = 0;
  private waitingForDrain = false;
  private backoffMs = BACKOFF_MIN_MS;
  private redialTimer: NodeJS.Timeout | null = null;
  private readonly pingTimer: NodeJS.Timeout;
  private pingInFlight = false;
  /** Fault injection: while set, no ping is made (the transport drops the messages before they get here). */
  isolated = false;

  constructor(private readonly remote: NodeId, urls: readonly string[], private readonly deps: PeerStreamDeps) {
    this.setUrls(urls);
    this.pingTimer = setInterval(() => this.ping(), PING_INTERVAL_MS);
    this.dial();
  }

  /** Queues a message; false when it was dropped (stream down or queue full). */
  enqueue(msg: Message): boolean {
    if (this.state === 'backoff' || this.state === 'closed' || this.queue.length >= MAX_QUEUE_MESSAGES) return false;
    const bytes = messageBytes(msg);
    // One message always fits in an empty queue, however large, or it could never be sent.
    if (this.queue.length > 0 && this.queuedBytes + bytes > MAX_QUEUE_BYTES) return false;
    this.queue.push(msg);
    this.queuedBytes += bytes;
    return true;
  }

  queuedMessages(): number {
    return this.queue.length;
  }

  /** When the stream to this peer last opened, while it stays open (etcd's ActiveSince); null otherwise. */
  activeSince(): number | null {
    return this.activeSinceMs;
  }

  /** The client of the URL in use, for the Snapshot call. */
  client(): Client {
    return this.clientFor(this.currentUrl());
  }

  /** Writes queued messages in batches until the queue is empty or the call pushes back. */
  flush(): void {
    const call = this.call;
    if (call === null || this.waitingForDrain) return;
    while (this.queue.length > 0) {
      const frame = encodeBatch(this.takeBatch());
      this.deps.metrics.sentBytes.inc({ To: peerLabel(this.remote) }, frame.byteLength);
      if (!call.write(frame)) {
        this.waitingForDrain = true;
        call.once('drain', () => {
          if (call !== this.call) return;
          this.waitingForDrain = false;
          this.flush();
        });
        return;
      }
    }
  }

  private takeBatch(): Message[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || bytes < MAX_BATCH_BYTES)) {
      bytes += messageBytes(this.queue[n] as Message);
      n++;
    }
    if (n === this.queue.length) return this.takeAll();
    this.queuedBytes -= bytes;
    return this.queue.splice(0, n);
  }

  /** Empties the queue, returning what it held (without copying it). */
  private takeAll(): Message[] {
    const all = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    return all;
  }

  /** Membership change: new URLs take effect at the next dial; a call on a dropped URL is broken now. */
  setUrls(urls: readonly string[]): void {
    const current = this.urls.length > 0 ? this.currentUrl() : null;
    this.urls = [...urls];
    for (const [url, client] of this.clients) {
      if (urls.includes(url)) continue;
      client.close();
      this.clients.delete(url);
    }
    if (current !== null && !urls.includes(current)) this.call?.cancel();
  }

  close(): void {
    if (this.state === 'open') this.deps.metrics.activePeers.set(this.labels(), 0);
    this.state = 'closed';
    clearInterval(this.pingTimer);
    if (this.redialTimer !== null) clearTimeout(this.redialTimer);
    this.takeAll();
    const call = this.call;
    this.call = null;
    call?.cancel();
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private currentUrl(): string {
    return this.urls[this.urlIndex % this.urls.length] as string;
  }

  private clientFor(url: string): Client {
    let client = this.clients.get(url);
    if (client === undefined) {
      client = new Client(new URL(url).host, this.deps.channelCredentials ?? credentials.createInsecure(), CHANNEL_OPTIONS);
      this.clients.set(url, client);
    }
    return client;
  }

  private dial(): void {
    this.redialTimer = null;
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const { local, clusterId } = this.deps;
    const call: ClientWritableStream<Uint8Array> = this.client().makeClientStreamRequest(
      STREAM_METHOD.path, STREAM_METHOD.requestSerialize, STREAM_METHOD.responseDeserialize,
      callMetadata(local, clusterId), {}, (err) => this.onEnd(call, err),
    );
    // The receiver sends its headers once it has accepted us (same cluster).
    call.on('metadata', () => this.onOpen(call));
    this.call = call;
    this.flush();
  }

  private onOpen(call: ClientWritableStream<Uint8Array>): void {
    if (call !== this.call || this.state !== 'connecting') return;
    this.state = 'open';
    this.activeSinceMs = this.deps.nowMs();
    this.backoffMs = BACKOFF_MIN_MS;
    this.deps.heard(this.remote);
    this.deps.metrics.activePeers.set(this.labels(), 1);
    this.deps.logger.info('peer became active', { 'remote-peer-id': peerLabel(this.remote), url: this.currentUrl() });
  }

  /** The call ended: whatever was written or queued is lost, so Raft hears the peer is unreachable; then redial. */
  private onEnd(call: ClientWritableStream<Uint8Array>, err: ServiceError | null): void {
    if (call !== this.call || this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.activeSinceMs = null;
    this.call = null;
    this.waitingForDrain = false;
    const lost = this.takeAll().length;
    const to = peerLabel(this.remote);
    this.deps.metrics.sentFailures.inc({ To: to }, Math.max(lost, 1));
    if (wasOpen) {
      this.deps.metrics.activePeers.set(this.labels(), 0);
      this.deps.metrics.disconnectedPeers.inc(this.labels());
    }
    const fields = { 'remote-peer-id': to, url: this.currentUrl(), error: err?.details ?? 'stream closed by peer' };
    if (err?.code === status.FAILED_PRECONDITION && err.details.includes(CLUSTER_ID_MISMATCH)) {
      this.deps.logger.error('request sent was ignored due to cluster ID mismatch', fields);
    } else if (wasOpen) {
      this.deps.logger.warn('lost TCP streaming connection with remote peer', fields);
    } else {
      this.deps.logger.debug('failed to dial remote peer', fields);
    }
    this.deps.handler.reportUnreachable(this.remote);
    this.urlIndex++;
    this.state = 'backoff';
    const delayMs = this.backoffMs / 2 + (this.deps.random() * this.backoffMs) / 2;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    this.redialTimer = setTimeout(() => this.dial(), delayMs);
  }

  /** etcd_network_peer_round_trip_time_seconds; a peer that does not answer within PING_TIMEOUT_MS has its stream broken. */
  private ping(): void {
    const call = this.call;
    if (this.state !== 'open' || this.isolated || this.pingInFlight || call === null) return;
    this.pingInFlight = true;
    const startMs = this.deps.nowMs();
    this.client().makeUnaryRequest(
      PING_METHOD.path, PING_METHOD.requestSerialize, PING_METHOD.responseDeserialize, {},
      callMetadata(this.deps.local, this.deps.clusterId), { deadline: Date.now() + PING_TIMEOUT_MS },
      (err) => {
        this.pingInFlight = false;
        if (err === null) {
          this.deps.metrics.roundTripSeconds.observe({ To: peerLabel(this.remote) }, (this.deps.nowMs() - startMs) / 1000);
          this.deps.heard(this.remote);
        } else if (call === this.call && !this.isolated) {
          this.deps.logger.warn('peer ping failed; reconnecting', { 'remote-peer-id': peerLabel(this.remote), error: err.details });
          call.cancel();
        }
      },
    );
  }

  private labels(): { Local: string; Remote: string } {
    return { Local: peerLabel(this.deps.local), Remote: peerLabel(this.remote) };
  }
}

/** What a message costs in the queue and in a batch: its entries' data plus a fixed allowance for the rest. */
function messageBytes(msg: Message): number {
  let bytes = 64;
  for (const e of msg.entries) bytes += e.data.byteLength;
  return bytes;
}
