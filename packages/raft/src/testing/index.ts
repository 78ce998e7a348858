/** @corvid/raft/testing — the in-memory TestCluster, the deterministic Simulator and its parts. */
export { Prng } from './prng.js';
export { BOOTSTRAP_INDEX, bootstrapStorage } from './bootstrap.js';
export type { ClusterNode, ClusterOptions } from './cluster.js';
export { TestCluster } from './cluster.js';
