/** What every part of the transport knows: who we are, where to count and where to log. */
import type { NodeId } from '@corvid/raft';
import type { Logger } from '../util/logger.js';
import type { PeerMetrics } from './metrics.js';

export interface PeerContext {
  readonly local: NodeId;
  readonly clusterId: bigint;
  readonly metrics: PeerMetrics;
  readonly logger: Logger;
  /** Monotonic milliseconds. */
  readonly nowMs: () => number;
}
