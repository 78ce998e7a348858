/**
 * mvcc/watch: etcd's watchable store. `WatchableStore` keeps synced and unsynced watchers over a
 * KvStore and delivers committed changes to each watcher's `WatchSink` (the API stream).
 */
export { WatchableStore, type WatchableStoreOptions, type WatchParams } from './watchable-store.js';
export { Watcher, type WatchDelivery, type WatchSink, type WatcherFilters } from './watcher.js';
export { WatcherIndex, prefixRangeEnd } from './watcher-index.js';
export { WatchMetrics } from './metrics.js';
