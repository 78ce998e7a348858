/** Options of a Raft node. Units are in the names; defaults follow etcd's server defaults. */
import { assert } from './assert.js';
import type { Logger } from './logger.js';
import { SILENT_LOGGER } from './logger.js';
import type { NodeId } from './messages.js';
import type { LogStorage } from './storage.js';

export interface RaftConfig {
  /** This node's id; never 0n. */
  readonly id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns; the timeout is randomized in [e, 2e). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats; must be less than electionTicks. */
  readonly heartbeatTicks: number;
  readonly storage: LogStorage;
  /** The last index the application applied before a restart; committed entries up to it are not returned again. */
  readonly applied?: number;
  /** Run a pre-vote round before incrementing the term (thesis §9.6). */
  readonly preVote?: boolean;
  /** A leader steps down when it has not heard from a quorum for an election timeout. */
  readonly checkQuorum?: boolean;
  /** Maximum size of the entries in one MsgApp. */
  readonly maxSizePerMsgBytes?: number;
  /** Maximum MsgApp in flight per follower in Replicate state. */
  readonly maxInflightMsgs?: number;
  /** Maximum total payload of entries appended on the leader but not yet committed; 0 means no limit. */
  readonly maxUncommittedEntriesSizeBytes?: number;
  /** Maximum size of the committed entries in one Ready. */
  readonly maxCommittedSizePerReadyBytes?: number;
  /** Maximum ReadIndex requests a leader holds unanswered; more are dropped ('read-index-limit'). */
  readonly maxPendingReadIndexRequests?: number;
  /** The only source of randomness: an integer uniformly in [0, below). */
  readonly random: (below: number) => number;
  readonly logger?: Logger;
}

/** Every queue is bounded: ReadIndex requests waiting for their heartbeat round on a leader. */
export const DEFAULT_MAX_PENDING_READ_INDEX_REQUESTS = 4096;

export interface ResolvedConfig {
  readonly id: NodeId;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly storage: LogStorage;
  readonly applied: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxSizePerMsgBytes: number;
  readonly maxInflightMsgs: number;
  readonly maxUncommittedEntriesSizeBytes: number;
  readonly maxCommittedSizePerReadyBytes: number;
  readonly maxPendingReadIndexRequests: number;
  readonly random: (below: number) => number;
  readonly logger: Logger;
}

export function resolveConfig(c: RaftConfig): ResolvedConfig {
  assert(c.id !== 0n, 'cannot use none as id');
  assert(c.heartbeatTicks > 0, 'heartbeat tick must be greater than 0');
  assert(c.electionTicks > c.heartbeatTicks, 'election tick must be greater than heartbeat tick');
  const maxUncommitted = c.maxUncommittedEntriesSizeBytes ?? 0;
  return {
    id: c.id,
    electionTicks: c.electionTicks,
    heartbeatTicks: c.heartbeatTicks,
    storage: c.storage,
    applied: c.applied ?? 0,
    preVote: c.preVote ?? false,
    checkQuorum: c.checkQuorum ?? false,
    maxSizePerMsgBytes: c.maxSizePerMsgBytes ?? 1024 * 1024,
    maxInflightMsgs: c.maxInflightMsgs ?? 256,
    maxUncommittedEntriesSizeBytes: maxUncommitted === 0 ? Number.MAX_SAFE_INTEGER : maxUncommitted,
    maxCommittedSizePerReadyBytes: c.maxCommittedSizePerReadyBytes ?? Number.MAX_SAFE_INTEGER,
    maxPendingReadIndexRequests: c.maxPendingReadIndexRequests ?? DEFAULT_MAX_PENDING_READ_INDEX_REQUESTS,
    random: c.random,
    logger: c.logger ?? SILENT_LOGGER,
  };
}
