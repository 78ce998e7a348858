/**
 * raft-driver: runs the Raft core for one member — the durable log (`Wal`), the Ready loop
 * (`RaftDriver`), the ticker's `Clock`, the peer `Transport` seam and log compaction. See
 * docs/raft-driver.md.
 */
export { RaftDriver, type ApplyEntry, type ApplyTarget, type ProposalMetrics, type ProposalTrace, type RaftDriverOptions, type RaftStatus } from './ready-loop.js';
export { Wal, type WalIdentity, type WalOptions } from './wal.js';
export { REAL_CLOCK, type Clock } from './clock.js';
export { NO_PEERS, type Transport } from './transport.js';
export { createRaftDriverMetrics, type RaftDriverMetrics } from './metrics.js';
export { SNAPSHOT_CATCH_UP_ENTRIES, type DurableStore } from './log-compactor.js';
export { BOOTSTRAP_INDEX, BOOTSTRAP_TERM, bootstrapWal } from './bootstrap.js';
