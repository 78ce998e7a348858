/**
 * Watch metrics: etcd 3.4's (mvcc/metrics.go, names and help verbatim) plus Corvid's
 * commit→send latency histogram. Registered on the injected Registry like the other mvcc metrics.
 */
import { Counter, exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';
import { registered } from '../metrics.js';

export class WatchMetrics {
  /** etcd_debugging_mvcc_watcher_total: watchers alive (synced, unsynced or compacted-but-not-cancelled excluded). */
  readonly watchers: Gauge;
  /** etcd_debugging_mvcc_slow_watcher_total: watchers in the unsynced group. */
  readonly slowWatchers: Gauge;
  readonly streams: Gauge;
  readonly events: Counter;
  readonly pendingEvents: Gauge;
  /** corvid_watch_event_delay_seconds: from the batch commit to the write of its events to a synced watcher's stream. */
  readonly eventDelaySeconds: Histogram;

  constructor(registry: Registry = new Registry()) {
    const registers = [registry];
    const gauge = (name: string, help: string): Gauge => registered(registry, name, () => new Gauge({ name, help, registers }));
    this.watchers = gauge('etcd_debugging_mvcc_watcher_total', 'Total number of watchers.');
    this.slowWatchers = gauge('etcd_debugging_mvcc_slow_watcher_total', 'Total number of unsynced slow watchers.');
    this.streams = gauge('etcd_debugging_mvcc_watch_stream_total', 'Total number of watch streams.');
    this.pendingEvents = gauge('etcd_debugging_mvcc_pending_events_total', 'Total number of pending events to be sent.');
    this.events = registered(registry, 'etcd_debugging_mvcc_events_total', () => new Counter({ name: 'etcd_debugging_mvcc_events_total', help: 'Total number of events sent by this member.', registers }));
    this.eventDelaySeconds = registered(registry, 'corvid_watch_event_delay_seconds', () => new Histogram({
      name: 'corvid_watch_event_delay_seconds',
      help: 'Time from the commit of a write batch to the write of its events to a synced watcher\'s stream.',
      buckets: exponentialBuckets(0.0001, 2, 16),
      registers,
    }));
  }
}
