#!/usr/bin/env node
/**
 * Generates the Grafana dashboards in this folder (current JSON schema, schemaVersion 39) from the
 * compact panel lists below, so every dashboard shares the same variables, datasource and layout.
 * Run `node dashboards/generate.mjs` after editing; the JSON files are committed, and
 * test/observability/cluster-metrics.test.ts runs every panel's query against a real Prometheus
 * scraping a real 3-member cluster.
 *
 * Variables: `datasource` (any Prometheus), `cluster` (the scrape job: one job per cluster, as etcd's
 * own dashboard assumes) and `instance` (members, multi-select). Selectors are `$sel`.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const SEL = 'job=~"$cluster",instance=~"$instance"';
const RATE = '$__rate_interval';

const q = (expr, legend = '{{instance}}') => ({ expr: expr.replaceAll('$sel', SEL).replaceAll('$rate', RATE), legend });
const quantiles = (metric, by = 'instance', legend = '{{instance}}') =>
  [0.5, 0.9, 0.99].map((p) => q(`histogram_quantile(${p}, sum(rate(${metric}_bucket{$sel}[$rate])) by (${by}, le))`, `p${Math.round(p * 100)} ${legend}`));

/** A panel: [type, title, unit, queries, description, width]. */
const panel = (type, title, unit, queries, description, w = 8) => ({ type, title, unit, queries, description, w });
const ts = (...a) => panel('timeseries', ...a);
const stat = (...a) => panel('stat', ...a);

const DASHBOARDS = {
  'etcd-overview': {
    title: 'etcd overview (etcd 3.4 metrics)',
    description: 'Only metric names etcd 3.4 exports: works unchanged for etcd and for Corvid.',
    rows: {
      Cluster: [
        stat('Has leader', 'short', [q('min(etcd_server_has_leader{$sel})', 'has leader')], 'Minimum over members of etcd_server_has_leader: 0 means some member sees no leader.', 4),
        stat('Members up', 'short', [q('sum(up{$sel})', 'up')], 'Scrape targets of the cluster that answer.', 4),
        stat('Leader', 'short', [q('max by (instance) (etcd_server_is_leader{$sel}) == 1', '{{instance}}')], 'The member whose etcd_server_is_leader is 1.', 4),
        stat('Leader changes (1 h)', 'short', [q('sum(changes(etcd_server_leader_changes_seen_total{$sel}[1h]))', 'changes')], 'Leader changes seen by the members in the last hour.', 4),
        ts('Revision', 'short', [q('etcd_debugging_mvcc_current_revision{$sel}'), q('etcd_debugging_mvcc_compact_revision{$sel}', 'compacted {{instance}}')], 'Current and compacted MVCC revision per member.'),
        ts('DB size and quota', 'bytes', [q('etcd_mvcc_db_total_size_in_bytes{$sel}', 'size {{instance}}'), q('etcd_mvcc_db_total_size_in_use_in_bytes{$sel}', 'in use {{instance}}'), q('etcd_server_quota_backend_bytes{$sel}', 'quota {{instance}}')], 'Backend file size, pages in use, and the space quota (NOSPACE is raised past it).'),
        ts('Keys', 'short', [q('etcd_debugging_mvcc_keys_total{$sel}')], 'Live keys per member.'),
        ts('Watchers and watch streams', 'short', [q('etcd_debugging_mvcc_watcher_total{$sel}', 'watchers {{instance}}'), q('etcd_debugging_mvcc_watch_stream_total{$sel}', 'streams {{instance}}'), q('etcd_debugging_mvcc_slow_watcher_total{$sel}', 'slow {{instance}}')], 'Watchers, watch streams and unsynced (slow) watchers.'),
        ts('Lease grants, revokes, renewals', 'ops', [q('sum(rate(etcd_debugging_lease_granted_total{$sel}[$rate]))', 'granted'), q('sum(rate(etcd_debugging_lease_revoked_total{$sel}[$rate]))', 'revoked'), q('sum(rate(etcd_debugging_lease_renewed_total{$sel}[$rate]))', 'renewed')], 'Lease operations per second.'),
      ],
      'gRPC requests': [
        ts('RPC rate', 'reqps', [q('sum(rate(grpc_server_started_total{$sel,grpc_type="unary"}[$rate]))', 'started'), q('sum(rate(grpc_server_handled_total{$sel,grpc_type="unary",grpc_code!="OK"}[$rate]))', 'failed')], 'Unary calls started and failed per second.'),
        ts('RPC rate by method', 'reqps', [q('sum by (grpc_service, grpc_method) (rate(grpc_server_handled_total{$sel}[$rate]))', '{{grpc_service}}/{{grpc_method}}')], 'Calls handled per second by method.'),
        ts('Active streams', 'short', [q('sum(grpc_server_started_total{$sel,grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"}) - sum(grpc_server_handled_total{$sel,grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"})', 'watch streams'), q('sum(grpc_server_started_total{$sel,grpc_service="etcdserverpb.Lease",grpc_type="bidi_stream"}) - sum(grpc_server_handled_total{$sel,grpc_service="etcdserverpb.Lease",grpc_type="bidi_stream"})', 'lease keepalive streams')], 'Streams started and not yet ended.'),
        ts('Latency by method (p50/p90/p99)', 's', quantiles('grpc_server_handling_seconds', 'grpc_method', '{{grpc_method}}'), 'Unary and stream handling time by method. Needs --metrics extensive (as etcd).', 12),
        { ...panel('heatmap', 'Latency heatmap (unary)', 's', [{ ...q('sum(rate(grpc_server_handling_seconds_bucket{$sel,grpc_type="unary"}[$rate])) by (le)', '{{le}}'), format: 'heatmap' }], 'Distribution of unary handling time. Needs --metrics extensive.', 12) },
        ts('Client traffic', 'Bps', [q('sum(rate(etcd_network_client_grpc_received_bytes_total{$sel}[$rate]))', 'received'), q('sum(rate(etcd_network_client_grpc_sent_bytes_total{$sel}[$rate]))', 'sent')], 'Bytes of gRPC messages from and to clients.'),
      ],
      Disk: [
        ts('WAL fsync (p50/p90/p99)', 's', quantiles('etcd_disk_wal_fsync_duration_seconds'), 'Durable sync of the Raft log per Ready. etcd alerts above 0.5 s at p99.'),
        ts('Backend commit (p50/p90/p99)', 's', quantiles('etcd_disk_backend_commit_duration_seconds'), 'Backend commit latency. etcd alerts above 0.25 s at p99.'),
        ts('Backend snapshot and defrag', 's', [q('sum(rate(etcd_disk_backend_snapshot_duration_seconds_sum{$sel}[$rate])) / sum(rate(etcd_disk_backend_snapshot_duration_seconds_count{$sel}[$rate]))', 'snapshot mean'), q('sum(rate(etcd_disk_backend_defrag_duration_seconds_count{$sel}[$rate]))', 'defrags/s'), q('max(etcd_disk_defrag_inflight{$sel})', 'defrag in flight')], 'Mean backend snapshot time, defragmentations and whether one runs.'),
      ],
      Raft: [
        ts('Proposals committed and applied', 'ops', [q('sum(rate(etcd_server_proposals_committed_total{$sel}[$rate]))', 'committed'), q('sum(rate(etcd_server_proposals_applied_total{$sel}[$rate]))', 'applied')], 'Raft entries committed and applied per second.'),
        ts('Proposals pending and failed', 'short', [q('sum(etcd_server_proposals_pending{$sel})', 'pending'), q('sum(rate(etcd_server_proposals_failed_total{$sel}[$rate]))', 'failed/s')], 'Proposals waiting to commit; failures per second.'),
        ts('Slow applies and read indexes', 'short', [q('sum(increase(etcd_server_slow_apply_total{$sel}[$rate]))', 'slow applies'), q('sum(increase(etcd_server_slow_read_indexes_total{$sel}[$rate]))', 'slow read indexes'), q('sum(increase(etcd_server_read_indexes_failed_total{$sel}[$rate]))', 'failed read indexes')], 'Applies over 100 ms; ReadIndex requests that timed out or failed.'),
        ts('Peer round trip (p99)', 's', [q('histogram_quantile(0.99, sum(rate(etcd_network_peer_round_trip_time_seconds_bucket{$sel}[$rate])) by (instance, To, le))', '{{instance}} → {{To}}')], 'Round trip to each peer. etcd alerts above 0.15 s.'),
        ts('Peer traffic', 'Bps', [q('sum by (instance) (rate(etcd_network_peer_sent_bytes_total{$sel}[$rate]))', 'sent {{instance}}'), q('sum by (instance) (rate(etcd_network_peer_received_bytes_total{$sel}[$rate]))', 'received {{instance}}')], 'Bytes sent to and received from peers.'),
        ts('Peer send failures', 'short', [q('sum by (instance) (rate(etcd_network_peer_sent_failures_total{$sel}[$rate]))')], 'Failed sends to peers per second (etcdMembersDown looks at this).'),
      ],
      Process: [
        ts('Resident memory', 'bytes', [q('process_resident_memory_bytes{$sel}')], 'RSS per member.'),
        ts('CPU', 'percentunit', [q('rate(process_cpu_seconds_total{$sel}[$rate])')], 'CPU seconds per second per member.'),
        ts('Open file descriptors', 'short', [q('process_open_fds{$sel}'), q('process_max_fds{$sel}', 'max {{instance}}')], 'Open and maximum file descriptors.'),
      ],
    },
  },
  'corvid-cluster': {
    title: 'Corvid: cluster',
    description: 'Leader, members, revision, space, keys, leases and watchers, with Corvid\'s own series.',
    rows: {
      Cluster: [
        stat('Members up', 'short', [q('sum(up{$sel})', 'up')], 'Scrape targets of the cluster that answer.', 6),
        stat('Members with a leader', 'short', [q('sum(etcd_server_has_leader{$sel})', 'with leader')], 'Members that see a leader.', 6),
        stat('Learners', 'short', [q('sum(etcd_server_is_learner{$sel})', 'learners')], 'Members that are learners.', 6),
        stat('Version', 'short', [q('count by (server_version) (etcd_server_version{$sel})', '{{server_version}}')], 'etcd version each member reports (Corvid matches etcd 3.4).', 6),
        ts('Leader', 'short', [q('etcd_server_is_leader{$sel}')], '1 for the member that leads.'),
        ts('Revision', 'short', [q('etcd_debugging_mvcc_current_revision{$sel}')], 'Current revision per member.'),
        ts('Space used of quota', 'percentunit', [q('etcd_mvcc_db_total_size_in_bytes{$sel} / etcd_server_quota_backend_bytes{$sel}')], 'Backend size as a fraction of the quota; NOSPACE past 1.'),
        ts('Keys', 'short', [q('etcd_debugging_mvcc_keys_total{$sel}')], 'Live keys.'),
        ts('Active leases', 'short', [q('corvid_lease_active{$sel}')], 'Leases granted and not yet revoked or expired (Corvid).'),
        ts('Watchers', 'short', [q('etcd_debugging_mvcc_watcher_total{$sel}')], 'Watchers per member.'),
      ],
    },
  },
  'corvid-requests': {
    title: 'Corvid: request latency',
    description: 'gRPC latency per method and its distribution (needs --metrics extensive), apply and ReadIndex times.',
    rows: {
      Latency: [
        ts('p50 by method', 's', [q('histogram_quantile(0.5, sum(rate(grpc_server_handling_seconds_bucket{$sel}[$rate])) by (grpc_method, le))', '{{grpc_method}}')], 'Median handling time by method.'),
        ts('p90 by method', 's', [q('histogram_quantile(0.9, sum(rate(grpc_server_handling_seconds_bucket{$sel}[$rate])) by (grpc_method, le))', '{{grpc_method}}')], '90th percentile handling time by method.'),
        ts('p99 by method', 's', [q('histogram_quantile(0.99, sum(rate(grpc_server_handling_seconds_bucket{$sel}[$rate])) by (grpc_method, le))', '{{grpc_method}}')], '99th percentile handling time by method.'),
        { ...panel('heatmap', 'Put latency heatmap', 's', [{ ...q('sum(rate(grpc_server_handling_seconds_bucket{$sel,grpc_method="Put"}[$rate])) by (le)', '{{le}}'), format: 'heatmap' }], 'Distribution of Put handling time.', 12) },
        { ...panel('heatmap', 'Range latency heatmap', 's', [{ ...q('sum(rate(grpc_server_handling_seconds_bucket{$sel,grpc_method="Range"}[$rate])) by (le)', '{{le}}'), format: 'heatmap' }], 'Distribution of Range handling time.', 12) },
        ts('Errors by code', 'reqps', [q('sum by (grpc_method, grpc_code) (rate(grpc_server_handled_total{$sel,grpc_code!="OK"}[$rate]))', '{{grpc_method}} {{grpc_code}}')], 'Failed calls per second by method and code.'),
        ts('Apply time by operation (p99)', 's', [q('histogram_quantile(0.99, sum(rate(corvid_server_apply_duration_seconds_bucket{$sel}[$rate])) by (op, le))', '{{op}}')], 'Time to apply one committed entry, by operation (Corvid).'),
        ts('ReadIndex wait (p50/p99)', 's', [q('histogram_quantile(0.5, sum(rate(corvid_server_read_index_wait_seconds_bucket{$sel}[$rate])) by (instance, le))', 'p50 {{instance}}'), q('histogram_quantile(0.99, sum(rate(corvid_server_read_index_wait_seconds_bucket{$sel}[$rate])) by (instance, le))', 'p99 {{instance}}')], 'Time a linearizable read waits for its ReadIndex (Corvid).'),
        ts('Read pool', 'short', [q('corvid_read_pool_queue_depth{$sel}', 'queued {{instance}}'), q('corvid_read_pool_busy_workers{$sel}', 'busy {{instance}}')], 'Long reads (big ranges, counts, HashKV) queued for and running on worker threads (Corvid).'),
      ],
    },
  },
  'corvid-disk': {
    title: 'Corvid: disk',
    description: 'Raft log sync, backend commit, snapshot and defragmentation.',
    rows: {
      Disk: [
        ts('Log sync p99', 's', [q('histogram_quantile(0.99, sum(rate(etcd_disk_wal_fsync_duration_seconds_bucket{$sel}[$rate])) by (instance, le))')], 'Durable sync of the Raft log (one LMDB commit per Ready).'),
        ts('Backend commit p99', 's', [q('histogram_quantile(0.99, sum(rate(etcd_disk_backend_commit_duration_seconds_bucket{$sel}[$rate])) by (instance, le))')], 'Backend commit latency.'),
        ts('Syncs per second', 'ops', [q('rate(etcd_disk_wal_fsync_duration_seconds_count{$sel}[$rate])', 'log {{instance}}'), q('rate(etcd_disk_backend_commit_duration_seconds_count{$sel}[$rate])', 'backend {{instance}}')], 'Log syncs and backend commits per second.'),
        ts('Backend snapshots', 'short', [q('increase(etcd_disk_backend_snapshot_duration_seconds_count{$sel}[$rate])')], 'Backend snapshots taken (Snapshot RPC, snapshots sent to followers).'),
        ts('Defragmentation', 'short', [q('increase(etcd_disk_backend_defrag_duration_seconds_count{$sel}[$rate])', 'defrags {{instance}}'), q('etcd_disk_defrag_inflight{$sel}', 'in flight {{instance}}')], 'Defragmentations (none until Defragment is built).'),
        ts('Open read transactions', 'short', [q('etcd_mvcc_db_open_read_transactions{$sel}')], 'LMDB reader slots held.'),
      ],
    },
  },
  'corvid-raft': {
    title: 'Corvid: Raft',
    description: 'Proposals, leader changes and peers.',
    rows: {
      Raft: [
        ts('Committed − applied', 'short', [q('etcd_server_proposals_committed_total{$sel} - etcd_server_proposals_applied_total{$sel}')], 'Entries committed but not yet applied.'),
        ts('Proposals committed/s', 'ops', [q('rate(etcd_server_proposals_committed_total{$sel}[$rate])')], 'Raft index progress per second.'),
        ts('Pending proposals', 'short', [q('etcd_server_proposals_pending{$sel}')], 'Proposals waiting to be applied.'),
        ts('Failed proposals/s', 'ops', [q('rate(etcd_server_proposals_failed_total{$sel}[$rate])')], 'Proposals that failed (dropped, timed out, too many requests).'),
        ts('Leader changes', 'short', [q('increase(etcd_server_leader_changes_seen_total{$sel}[1h])')], 'Leader changes seen in the last hour.'),
        ts('Peer round trip p99', 's', [q('histogram_quantile(0.99, sum(rate(etcd_network_peer_round_trip_time_seconds_bucket{$sel}[$rate])) by (instance, To, le))', '{{instance}} → {{To}}')], 'Round trip to each peer.'),
        ts('Active peers', 'short', [q('sum by (instance) (etcd_network_active_peers{$sel})')], 'Peers with an active connection.'),
      ],
    },
  },
  'corvid-watches-leases': {
    title: 'Corvid: watches and leases',
    description: 'Watch delivery and lease lifecycle.',
    rows: {
      Watches: [
        ts('Watch event delay p99', 's', [q('histogram_quantile(0.99, sum(rate(corvid_watch_event_delay_seconds_bucket{$sel}[$rate])) by (instance, le))')], 'Commit to send of watch events (Corvid).'),
        ts('Events sent/s', 'ops', [q('rate(etcd_debugging_mvcc_events_total{$sel}[$rate])')], 'Watch events sent per second.'),
        ts('Pending events', 'short', [q('etcd_debugging_mvcc_pending_events_total{$sel}')], 'Events waiting to be sent.'),
        ts('Slow watchers', 'short', [q('etcd_debugging_mvcc_slow_watcher_total{$sel}')], 'Unsynced watchers catching up.'),
      ],
      Leases: [
        ts('Active leases', 'short', [q('corvid_lease_active{$sel}')], 'Leases alive (Corvid).'),
        ts('Expired leases/s', 'ops', [q('rate(etcd_debugging_server_lease_expired_total{$sel}[$rate])')], 'Leases the leader expired per second.'),
        ts('Expiry batch size p99', 'short', [q('histogram_quantile(0.99, sum(rate(corvid_lease_expiry_batch_leases_bucket{$sel}[$rate])) by (instance, le))')], 'Leases revoked per expiry batch (Corvid).'),
        ts('Checkpoints/s', 'ops', [q('rate(corvid_lease_checkpoints_total{$sel}[$rate])')], 'Remaining-TTL checkpoints proposed (Corvid).'),
        ts('Checkpoint batch size p99', 'short', [q('histogram_quantile(0.99, sum(rate(corvid_lease_checkpoint_batch_leases_bucket{$sel}[$rate])) by (instance, le))')], 'Leases per checkpoint proposal (Corvid).'),
      ],
    },
  },
  'corvid-nodejs': {
    title: 'Corvid: Node.js runtime',
    description: 'Event loop, heap, GC and handles of each member process.',
    rows: {
      Runtime: [
        ts('Event-loop lag', 's', [q('nodejs_eventloop_lag_p99_seconds{$sel}', 'p99 {{instance}}'), q('nodejs_eventloop_lag_max_seconds{$sel}', 'max {{instance}}')], 'Event-loop delay: long synchronous work stalls ticks and can cause elections.'),
        ts('Heap used', 'bytes', [q('nodejs_heap_size_used_bytes{$sel}', 'used {{instance}}'), q('nodejs_heap_size_total_bytes{$sel}', 'total {{instance}}')], 'V8 heap.'),
        ts('GC time/s', 's', [q('sum by (instance, kind) (rate(nodejs_gc_duration_seconds_sum{$sel}[$rate]))', '{{instance}} {{kind}}')], 'Seconds spent in GC per second, by kind.'),
        ts('Active handles', 'short', [q('nodejs_active_handles_total{$sel}')], 'libuv handles (sockets, timers).'),
        ts('CPU', 'percentunit', [q('rate(process_cpu_seconds_total{$sel}[$rate])')], 'CPU seconds per second.'),
        ts('Resident memory', 'bytes', [q('process_resident_memory_bytes{$sel}')], 'RSS.'),
      ],
    },
  },
  'corvid-operator': {
    title: 'Corvid: operator',
    description: 'corvid-operator (packages/operator): reconcile passes, their duration and errors, backups taken and the age of each cluster\'s newest backup.',
    // The operator is its own scrape job: its variables come from its own series, not the members'.
    variables: { metric: 'corvid_operator_reconcile_duration_seconds_count', cluster: 'Operator (job)', instance: 'Replica' },
    rows: {
      Reconcile: [
        stat('Replicas up', 'short', [q('sum(up{$sel})', 'up')], 'Operator replicas that answer the scrape (one reconciles; the others wait for the Lease).', 6),
        stat('Reconcile errors (1 h)', 'short', [q('sum(increase(corvid_operator_reconcile_errors_total{$sel}[1h]))', 'errors')], 'Reconcile passes that failed in the last hour (each is retried with backoff).', 6),
        stat('Backups taken (24 h)', 'short', [q('sum(increase(corvid_operator_backups_total{$sel}[24h]))', 'backups')], 'EtcdBackups that succeeded in the last day.', 6),
        stat('Oldest newest backup', 's', [q('max(corvid_operator_last_backup_age_seconds{$sel})', 'age')], 'The largest, over clusters, of the time since the cluster\'s newest successful backup.', 6),
        ts('Reconcile passes and errors', 'ops', [q('sum(rate(corvid_operator_reconcile_duration_seconds_count{$sel}[$rate]))', 'passes'), q('sum(rate(corvid_operator_reconcile_errors_total{$sel}[$rate]))', 'errors')], 'Reconcile passes over EtcdClusters per second, and failed ones.'),
        ts('Reconcile duration (p50/p90/p99)', 's', quantiles('corvid_operator_reconcile_duration_seconds'), 'One pass: observe (Kubernetes lists, member Status in parallel), decide, at most one step, status write.'),
        ts('Reconcile error ratio', 'percentunit', [q('sum(rate(corvid_operator_reconcile_errors_total{$sel}[$rate])) / sum(rate(corvid_operator_reconcile_duration_seconds_count{$sel}[$rate]))', 'errors / passes')], 'Share of passes that failed.'),
      ],
      Backups: [
        ts('Backups taken', 'short', [q('sum(increase(corvid_operator_backups_total{$sel}[1h]))', 'per hour')], 'Successful backups over the last hour (scheduled and on demand).', 12),
        ts('Last backup age by cluster', 's', [q('corvid_operator_last_backup_age_seconds{$sel}', '{{namespace}}/{{cluster}}')], 'Seconds since each EtcdCluster\'s newest successful backup, as seen by this replica since it started.', 12),
      ],
      Process: [
        ts('Event-loop lag', 's', [q('nodejs_eventloop_lag_p99_seconds{$sel}', 'p99 {{instance}}')], 'Event-loop delay of the operator process.'),
        ts('Resident memory', 'bytes', [q('process_resident_memory_bytes{$sel}')], 'RSS.'),
        ts('CPU', 'percentunit', [q('rate(process_cpu_seconds_total{$sel}[$rate])')], 'CPU seconds per second.'),
      ],
    },
  },
};

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** Members' dashboards take their variables from etcd_server_has_leader; others name their own metric. */
const MEMBER_VARIABLES = { metric: 'etcd_server_has_leader', cluster: 'Cluster (job)', instance: 'Member' };

function templating(v = MEMBER_VARIABLES) {
  const query = (name, label, q, extra) => ({
    name, label, type: 'query', datasource: DATASOURCE, query: { query: q, refId: `${name}-var` }, definition: q,
    refresh: 2, sort: 1, current: {}, hide: 0, ...extra,
  });
  return {
    list: [
      { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1 },
      query('cluster', v.cluster, `label_values(${v.metric}, job)`, { multi: false, includeAll: false }),
      query('instance', v.instance, `label_values(${v.metric}{job=~"$cluster"}, instance)`, { multi: true, includeAll: true, allValue: '.*' }),
    ],
  };
}

function build(uid, spec) {
  const panels = [];
  let id = 1;
  let y = 0;
  for (const [row, list] of Object.entries(spec.rows)) {
    panels.push({ id: id++, type: 'row', title: row, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    for (const p of list) {
      const h = p.type === 'stat' ? 4 : 8;
      if (x + p.w > 24) { x = 0; y += 8; }
      panels.push({
        id: id++, type: p.type, title: p.title, description: p.description, datasource: DATASOURCE,
        gridPos: { h, w: p.w, x, y },
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options: p.type === 'heatmap' ? { calculate: false, yAxis: { unit: p.unit } } : {},
        targets: p.queries.map((t, i) => ({
          refId: String.fromCharCode(65 + i), datasource: DATASOURCE, expr: t.expr, legendFormat: t.legend,
          ...(t.format === undefined ? {} : { format: t.format }),
        })),
      });
      x += p.w;
    }
    y += 8;
  }
  return {
    uid, title: spec.title, description: spec.description, tags: ['etcd', 'corvid'], timezone: 'browser', editable: true,
    schemaVersion: 39, version: 1, refresh: '30s', time: { from: 'now-1h', to: 'now' }, graphTooltip: 1,
    templating: templating(spec.variables), annotations: { list: [] }, panels,
  };
}

for (const [uid, spec] of Object.entries(DASHBOARDS)) {
  writeFileSync(join(HERE, `${uid}.json`), `${JSON.stringify(build(uid, spec), null, 2)}\n`);
}
