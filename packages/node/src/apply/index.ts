/**
 * apply: the only code that changes state from committed entries. `Applier.applyBatch` runs a
 * batch of log entries in one LMDB write transaction that also records the applied index.
 */
export { Applier, type ApplyObserver, type ApplyResponse, type ApplyResult, type LogEntry } from './applier.js';
