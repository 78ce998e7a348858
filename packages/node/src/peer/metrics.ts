/**
 * The peer transport's metrics, with etcd 3.4's names, labels, help texts and buckets
 * (etcdserver/api/rafthttp/metrics.go), registered on the member's injected Registry. Peer labels
 * are member ids in lower-case hex: bounded by the cluster size, as in etcd.
 */
import { Counter, exponentialBuckets, Gauge, Histogram, type Registry } from 'prom-client';

export interface PeerMetrics {
  readonly sentBytes: Counter<'To'>;
  readonly receivedBytes: Counter<'From'>;
  readonly sentFailures: Counter<'To'>;
  readonly receivedFailures: Counter<'From'>;
  /** Measured by the Ping RPC every PING_INTERVAL_MS while the peer's stream is up. */
  readonly roundTripSeconds: Histogram<'To'>;
  readonly snapshotSendSuccess: Counter<'To'>;
  readonly snapshotSendFailures: Counter<'To'>;
  readonly snapshotSendSeconds: Histogram<'To'>;
  readonly snapshotReceiveSuccess: Counter<'From'>;
  readonly snapshotReceiveFailures: Counter<'From'>;
  readonly snapshotReceiveSeconds: Histogram<'From'>;
  readonly activePeers: Gauge<'Local' | 'Remote'>;
  readonly disconnectedPeers: Counter<'Local' | 'Remote'>;
}

/** etcd's label value for a member id. */
export function peerLabel(id: bigint): string {
  return id.toString(16);
}

export function createPeerMetrics(registry: Registry): PeerMetrics {
  const registers = [registry];
  // etcd: "lowest bucket start of upper bound 0.1 sec (100 ms) with factor 2; highest 6.4 sec".
  const snapshotBuckets = exponentialBuckets(0.1, 2, 7);
  return {
    sentBytes: new Counter({ name: 'etcd_network_peer_sent_bytes_total', help: 'The total number of bytes sent to peers.', labelNames: ['To'], registers }),
    receivedBytes: new Counter({ name: 'etcd_network_peer_received_bytes_total', help: 'The total number of bytes received from peers.', labelNames: ['From'], registers }),
    sentFailures: new Counter({ name: 'etcd_network_peer_sent_failures_total', help: 'The total number of send failures from peers.', labelNames: ['To'], registers }),
    receivedFailures: new Counter({ name: 'etcd_network_peer_received_failures_total', help: 'The total number of receive failures from peers.', labelNames: ['From'], registers }),
    roundTripSeconds: new Histogram({
      name: 'etcd_network_peer_round_trip_time_seconds', help: 'Round-Trip-Time histogram between peers',
      labelNames: ['To'], buckets: exponentialBuckets(0.0001, 2, 16), registers,
    }),
    // etcd 3.4 names these four counters without the _total suffix; we match etcd.
    snapshotSendSuccess: new Counter({ name: 'etcd_network_snapshot_send_success', help: 'Total number of successful snapshot sends', labelNames: ['To'], registers }),
    snapshotSendFailures: new Counter({ name: 'etcd_network_snapshot_send_failures', help: 'Total number of snapshot send failures', labelNames: ['To'], registers }),
    snapshotSendSeconds: new Histogram({
      name: 'etcd_network_snapshot_send_total_duration_seconds', help: 'Total latency distributions of v3 snapshot sends',
      labelNames: ['To'], buckets: snapshotBuckets, registers,
    }),
    snapshotReceiveSuccess: new Counter({ name: 'etcd_network_snapshot_receive_success', help: 'Total number of successful snapshot receives', labelNames: ['From'], registers }),
    snapshotReceiveFailures: new Counter({ name: 'etcd_network_snapshot_receive_failures', help: 'Total number of snapshot receive failures', labelNames: ['From'], registers }),
    snapshotReceiveSeconds: new Histogram({
      name: 'etcd_network_snapshot_receive_total_duration_seconds', help: 'Total latency distributions of v3 snapshot receives',
      labelNames: ['From'], buckets: snapshotBuckets, registers,
    }),
    activePeers: new Gauge({ name: 'etcd_network_active_peers', help: 'The current number of active peer connections.', labelNames: ['Local', 'Remote'], registers }),
    disconnectedPeers: new Counter({
      name: 'etcd_network_disconnected_peers_total', help: 'The total number of disconnected peers.', labelNames: ['Local', 'Remote'], registers,
    }),
  };
}
