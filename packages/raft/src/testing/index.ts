/** @corvid/raft/testing — the in-memory TestCluster, the deterministic Simulator and its parts. */
export { Prng } from './prng.js';
export { BOOTSTRAP_INDEX, bootstrapStorage } from './bootstrap.js';
export type { ClusterNode, ClusterOptions } from './cluster.js';
export { TestCluster } from './cluster.js';
export type { LogView } from './checkers.js';
export { SafetyChecker, SafetyViolation, mixEntry } from './checkers.js';
export type { NetworkFaults } from './sim-network.js';
export { SimNetwork } from './sim-network.js';
export { SimStorage } from './sim-storage.js';
export type { SimNodeConfig } from './sim-node.js';
export { SimNode, decodeAppState, encodeAppState } from './sim-node.js';
export type { SimParams } from './sim-params.js';
export { pickParams } from './sim-params.js';
export type { SimOptions, SimResult } from './simulator.js';
export { Simulator } from './simulator.js';
export { explainFailure, reproduceCommands, runSeed, seedsFor } from './run-seeds.js';
export type { ScriptBlock } from './script.js';
export { ScriptRunner, formatScript, parseScript } from './script.js';
