/**
 * corvid_read_pool_* — the worker-thread read pool (mvcc/read-pool, issue 6), registered here so the
 * dashboards and docs can name them now. The pool sets them: `queued` and `busyWorkers` on every
 * change, `waitSeconds` when a job leaves the queue, `runSeconds` when a worker answers. Until the
 * pool is wired to them they read 0.
 */
import { exponentialBuckets, Gauge, Histogram, type Registry } from 'prom-client';

export interface ReadPoolMetrics {
  readonly queued: Gauge;
  readonly busyWorkers: Gauge;
  readonly waitSeconds: Histogram;
  readonly runSeconds: Histogram;
}

export function createReadPoolMetrics(registry: Registry): ReadPoolMetrics {
  const registers = [registry];
  const buckets = exponentialBuckets(0.0001, 2, 16);
  return {
    queued: new Gauge({ name: 'corvid_read_pool_queue_depth', help: 'Long reads waiting for a read worker.', registers }),
    busyWorkers: new Gauge({ name: 'corvid_read_pool_busy_workers', help: 'Read workers running a job now.', registers }),
    waitSeconds: new Histogram({ name: 'corvid_read_pool_wait_duration_seconds', help: 'Time a long read waited in the queue for a worker.', buckets, registers }),
    runSeconds: new Histogram({ name: 'corvid_read_pool_run_duration_seconds', help: 'Time a read worker took to run one job (range, count, hash).', buckets, registers }),
  };
}
