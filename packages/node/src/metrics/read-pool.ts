/**
 * corvid_read_pool_* — the worker-thread read pool (mvcc/read-pool): it sets `queued` and
 * `busyWorkers` on every change, observes `waitSeconds` when a job leaves the queue and
 * `runSeconds` when a worker answers. A store reopened on the same registry reuses them.
 */
import { exponentialBuckets, Gauge, Histogram, type Metric, type Registry } from 'prom-client';

export interface ReadPoolMetrics {
  readonly queued: Gauge;
  readonly busyWorkers: Gauge;
  readonly waitSeconds: Histogram;
  readonly runSeconds: Histogram;
}

export function createReadPoolMetrics(registry: Registry): ReadPoolMetrics {
  const registers = [registry];
  const buckets = exponentialBuckets(0.0001, 2, 16);
  const reuse = <M extends Metric>(name: string, create: (name: string) => M): M => (registry.getSingleMetric(name) as M | undefined) ?? create(name);
  return {
    queued: reuse('corvid_read_pool_queue_depth', (name) => new Gauge({ name, help: 'Long reads waiting for a read worker.', registers })),
    busyWorkers: reuse('corvid_read_pool_busy_workers', (name) => new Gauge({ name, help: 'Read workers running a job now.', registers })),
    waitSeconds: reuse('corvid_read_pool_wait_duration_seconds', (name) => new Histogram({ name, help: 'Time a long read waited in the queue for a worker.', buckets, registers })),
    runSeconds: reuse('corvid_read_pool_run_duration_seconds', (name) => new Histogram({ name, help: 'Time a read worker took to run one job (range, count, hash).', buckets, registers })),
  };
}
