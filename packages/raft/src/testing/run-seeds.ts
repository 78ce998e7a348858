/** Runs simulator seeds and explains a failing one: its parameters, the commands that reproduce it, a trace. */
import type { SimResult } from './simulator.js';
import { Simulator } from './simulator.js';

export function runSeed(seed: number, trace = false): SimResult {
  return new Simulator({ seed, trace }).run();
}

export function reproduceCommands(seed: number): string {
  return `RAFT_SEED=${seed} node scripts/run-tests.mjs packages/raft/test/sim\n  npm run sim -- --seed ${seed}`;
}

/** Re-runs the seed with tracing (the run is deterministic) and formats the end of the trace. */
export function explainFailure(result: SimResult, traceLines = 80): string {
  const traced = runSeed(result.seed, true);
  const tail = traced.trace.slice(-traceLines);
  return [
    `seed ${result.seed} failed after ${result.ticks} ticks: ${result.error}`,
    `reproduce with:\n  ${reproduceCommands(result.seed)}`,
    `params: ${JSON.stringify(result.params)}`,
    `last ${tail.length} trace lines:`,
    ...tail,
  ].join('\n');
}

/** Seeds a test file should run: RAFT_SEED=n runs one, RAFT_SEEDS=N a soak of N split over `shards`. */
export function seedsFor(shard: number, shards: number, defaultCount: number, env: Record<string, string | undefined>): number[] {
  const one = env['RAFT_SEED'];
  if (one !== undefined && one !== '') return shard === 0 ? [Number(one)] : [];
  const count = Number(env['RAFT_SEEDS'] ?? defaultCount);
  const first = Number(env['RAFT_SEED_FROM'] ?? 1);
  const seeds: number[] = [];
  for (let s = first + shard; s < first + count; s += shards) seeds.push(s);
  return seeds;
}
