/**
 * Metrics live on a Registry that the composition root creates and injects; nothing registers on
 * prom-client's global default. Names, labels and buckets follow etcd 3.4 where etcd has a metric.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

export { CellCounter, CellHistogram, type CounterCell, type HistogramCell } from './cells.js';
export { GrpcMetrics } from './grpc.js';
export { createReadPoolMetrics, type ReadPoolMetrics } from './read-pool.js';

export function createRegistry(): Registry {
  const registry = new Registry();
  // process_* and nodejs_* (event-loop lag included), as etcd exports process_* from Go.
  collectDefaultMetrics({ register: registry });
  return registry;
}
