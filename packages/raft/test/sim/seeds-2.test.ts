// Goal: Raft safety and liveness across many seeded fault schedules (shard 2 of 4, so jest's two workers share
// the sweep). Method: each seed runs the deterministic Simulator (safety phase under faults, then a liveness
// phase after healing); a failure prints the seed, the commands that reproduce it and the end of its trace.
// RAFT_SEED=n runs only seed n; RAFT_SEEDS=N runs N seeds (soak); the default is 4,000 seeds over the four shards.
import { expect, test } from '@jest/globals';
import { explainFailure, runSeed, seedsFor } from '@corvid/raft/testing';

const SHARD = 2;
const SHARDS = 4;
const seeds = seedsFor(SHARD, SHARDS, 4000, process.env);

test(`simulator seeds (shard ${SHARD + 1}/${SHARDS}: ${seeds.length} seeds)`, () => {
  const failures: string[] = [];
  for (const seed of seeds) {
    const r = runSeed(seed);
    if (!r.ok) failures.push(explainFailure(r));
    if (failures.length >= 3) break;
  }
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
  expect(failures).toEqual([]);
}, 30 * 60_000);
