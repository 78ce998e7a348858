/** How a seed chooses the cluster, the Raft options and the fault rates of one simulation. */
import type { NetworkFaults } from './sim-network.js';
import type { SimNodeConfig } from './sim-node.js';
import type { Prng } from './prng.js';

export interface SimParams {
  readonly nodeCount: number;
  readonly maxNodes: number;
  readonly raft: SimNodeConfig & { readonly electionTicks: number };
  readonly network: NetworkFaults;
  readonly stepsPerTick: number;
  readonly maxSyncDelaySteps: number;
  readonly safetyTicks: number;
  readonly livenessBudgetTicks: number;
  readonly partitionWindowTicks: number;
  readonly crashRatePerTick: number;
  readonly maxDownTicks: number;
  readonly snapshotEveryEntries: number;
  readonly compactKeepEntries: number;
  readonly transferRatePerTick: number;
  readonly confChangeRatePerTick: number;
  readonly proposeRatePerTick: number;
  readonly readRatePerTick: number;
}

export function pickParams(p: Prng): SimParams {
  const electionTicks = 10;
  const params = {
    nodeCount: p.between(3, 7),
    maxNodes: 7,
    raft: {
      electionTicks,
      heartbeatTicks: p.between(1, 3),
      preVote: p.chance(0.5),
      checkQuorum: p.chance(0.5),
      maxSizePerMsgBytes: p.pick([64, 256, 4096, 1024 * 1024]),
      maxInflightMsgs: p.between(1, 16),
      maxUncommittedEntriesSizeBytes: p.pick([0, 512, 8192]),
    },
    network: {
      reorder: true,
      lossRate: p.pick([0, 0.01, 0.05, 0.15]),
      duplicateRate: p.pick([0, 0.02, 0.1]),
      maxDelaySteps: p.between(1, 12),
      pathCapacityMsgs: p.between(8, 64),
    },
    stepsPerTick: 4,
    maxSyncDelaySteps: p.between(0, 3),
    safetyTicks: p.between(200, 400),
    livenessBudgetTicks: 40 * electionTicks,
    partitionWindowTicks: p.pick([5, 10, 20, 40, 80, 120]),
    crashRatePerTick: p.pick([0, 0.005, 0.02, 0.05]),
    maxDownTicks: p.between(5, 80),
    snapshotEveryEntries: p.pick([5, 20, 60]),
    compactKeepEntries: p.between(0, 10),
    transferRatePerTick: p.pick([0, 0.005, 0.02]),
    confChangeRatePerTick: p.pick([0, 0.01, 0.03]),
    proposeRatePerTick: p.pick([0.2, 0.5, 1]),
    readRatePerTick: p.pick([0, 0.05, 0.2]),
  };
  // Drawn last so that adding it did not change the earlier draws of existing seeds.
  const reorder = p.chance(0.7);
  // One seed in ten runs a long safety phase: more leader changes, compactions and membership churn.
  const safetyTicks = p.chance(0.1) ? p.between(1500, 3000) : params.safetyTicks;
  return { ...params, safetyTicks, network: { ...params.network, reorder } };
}
