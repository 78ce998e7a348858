/// <reference types="node" />
/**
 * `npm run sim -- --seed N` reproduces one simulator seed and prints its trace on failure (or with --trace).
 * `npm run sim -- --seeds N [--from S]` sweeps N seeds in this process.
 */
import { explainFailure, runSeed } from './run-seeds.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function main(): number {
  const seed = arg('seed');
  if (seed !== undefined) {
    const traced = process.argv.includes('--trace');
    const r = runSeed(Number(seed), traced);
    if (traced) for (const l of r.trace) console.log(l);
    if (!r.ok) {
      console.log(explainFailure(r));
      return 1;
    }
    console.log(`seed ${seed} ok: ${r.ticks} ticks, stats ${JSON.stringify(r.stats)}`);
    return 0;
  }
  const count = Number(arg('seeds') ?? 100);
  const from = Number(arg('from') ?? 1);
  const started = process.hrtime.bigint();
  let failed = 0;
  for (let s = from; s < from + count; s++) {
    const r = runSeed(s);
    if (!r.ok) {
      failed++;
      console.log(explainFailure(r, 40));
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${count} seeds from ${from}: ${count - failed} ok, ${failed} failed in ${seconds.toFixed(1)} s`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
