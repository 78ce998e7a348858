// Goal: enforce the purity rule of packages/raft/src (outside testing/): no clock, timers, global randomness,
// process, node:* imports, crypto, Promise or async. Method: scan every source file's code (comments removed)
// for the banned tokens; there is no ESLint in this repository, so this test is the lint rule.
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(process.cwd(), 'packages/raft/src');
const BANNED: readonly [string, RegExp][] = [
  ['Date', /\bDate\b/],
  ['performance', /\bperformance\b/],
  ['setTimeout/setInterval/setImmediate', /\bset(Timeout|Interval|Immediate)\b/],
  ['queueMicrotask', /\bqueueMicrotask\b/],
  ['Math.random', /Math\s*\.\s*random/],
  ['crypto', /\bcrypto\b/],
  ['process', /\bprocess\b/],
  ['node:* import', /['"]node:/],
  ['Promise', /\bPromise\b/],
  ['async', /\basync\b/],
  ['await', /\bawait\b/],
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'testing') out.push(...sourceFiles(p));
    } else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

describe('packages/raft/src is pure', () => {
  const files = sourceFiles(SRC);
  test('finds the sources', () => {
    expect(files.length).toBeGreaterThan(10);
  });
  test.each(files.map((f) => [relative(SRC, f), f]))('%s uses no banned token', (_name, file) => {
    const code = stripComments(readFileSync(file, 'utf8'));
    const found = BANNED.filter(([, re]) => re.test(code)).map(([name]) => name);
    expect(found).toEqual([]);
  });
});
