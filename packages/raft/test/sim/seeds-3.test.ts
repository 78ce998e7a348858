// Goal: Raft safety and liveness across many seeded fault schedules, shard 3 of 4 (see sweep.ts). Method: each
// seed runs the deterministic Simulator (safety phase under faults, then a liveness phase after healing).
import { sweepShard } from './sweep.js';

sweepShard(3);
