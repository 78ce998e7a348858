// The simulator sweep shared by the seeds-N test files: one shard of the seeds per file, so jest's two
// workers share the sweep. RAFT_SEED=n runs only seed n; RAFT_SEEDS=N runs N seeds (soak); the default is
// 4,000 seeds over the four shards. A failure prints the seed, the commands that reproduce it and the end of
// its trace.
import { expect, test } from '@jest/globals';
import { explainFailure, runSeed, seedsFor } from '@corvid/raft/testing';

export const SHARDS = 4;
const DEFAULT_SEEDS = 4000;
/** Stop a shard after this many failing seeds: each failure prints a long trace. */
const MAX_REPORTED_FAILURES = 3;

export function sweepShard(shard: number): void {
  const seeds = seedsFor(shard, SHARDS, DEFAULT_SEEDS, process.env);
  test(`simulator seeds (shard ${shard + 1}/${SHARDS}: ${seeds.length} seeds)`, () => {
    const failures: string[] = [];
    for (const seed of seeds) {
      const r = runSeed(seed);
      if (!r.ok) failures.push(explainFailure(r));
      if (failures.length >= MAX_REPORTED_FAILURES) break;
    }
    if (failures.length > 0) throw new Error(failures.join('\n\n'));
    expect(failures).toEqual([]);
  }, 30 * 60_000);
}
