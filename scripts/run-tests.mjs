#!/usr/bin/env node
// Runs jest once (ESM mode) and ends with the line CI reads: "<passed> passed, <failed> failed",
// where failed counts failed tests plus suites that failed to run. Extra arguments go to jest.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const jestBin = join(dirname(require.resolve('jest/package.json')), 'bin', 'jest.js');
mkdirSync('.test-results', { recursive: true });
// One file per run: concurrent runs in one tree must not read each other's results.
const resultsFile = `.test-results/jest-${process.pid}.json`;
const run = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', jestBin, '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
try {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
} catch (err) {
  console.error('could not read jest results:', err);
  failed += 1;
}
rmSync(resultsFile, { force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(run.status ?? 1);
