// Goal: the member's folders depend on each other one way, as STYLE.md's module boundaries say:
// api → server → {raft-driver, apply} → {mvcc, alarm, cluster} → storage, with errors, util,
// metrics, tracing, config and version shared by all; siblings (mvcc and alarm, apply and raft-driver) never
// import each other; only the composition root (server/member.ts, server/index.ts) and the command
// (cli/) wire everything together.
// Method: read every import of packages/node/src (type-only imports included: they couple the
// code as much) and check each edge between folders against the ranks below.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SRC = join(import.meta.dirname, '..', 'src');

/** Higher ranks may import lower ones; equal ranks are siblings and may not. Rank 0 is shared. */
const RANK: Readonly<Record<string, number>> = {
  api: 5,
  server: 4,
  'raft-driver': 3,
  apply: 3,
  peer: 3,
  mvcc: 2,
  alarm: 2,
  auth: 2,
  lease: 2,
  cluster: 2,
  storage: 1,
  errors: 0,
  util: 0,
  metrics: 0,
  tracing: 0,
  config: 0,
  'version.ts': 0,
};
/** Files that wire everything: they may import any folder. */
const WIRING = new Set(['server/member.ts', 'server/index.ts', 'index.ts']);
const WIRING_FOLDERS = new Set(['cli']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The top-level folder (or file) of src that `path` lies in. */
function topOf(path: string): string {
  return (relative(SRC, path).split(sep)[0] as string).replace(/\.js$/, '.ts');
}

interface Edge {
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const path of sourceFiles(SRC)) {
    const file = relative(SRC, path).split(sep).join('/');
    const text = readFileSync(path, 'utf8');
    for (const match of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(path), match[1] as string);
      const from = topOf(path);
      const to = topOf(target);
      if (from !== to) out.push({ file, from, to });
    }
  }
  return out;
}

function violates(edge: Edge): boolean {
  if (WIRING.has(edge.file) || WIRING_FOLDERS.has(edge.from)) return false;
  const from = RANK[edge.from];
  const to = RANK[edge.to];
  if (from === undefined || to === undefined) return true; // a new folder must be given a rank here
  return to !== 0 && to >= from;
}

describe('folder dependencies of packages/node/src', () => {
  const all = edges();

  it('finds the imports it checks', () => {
    expect(all.some((e) => e.from === 'api' && e.to === 'mvcc')).toBe(true);
    expect(all.some((e) => e.from === 'apply' && e.to === 'alarm')).toBe(true);
  });

  it('point one way, from the API down to storage', () => {
    expect(all.filter(violates).map((e) => `${e.file} imports ${e.to}/`)).toEqual([]);
  });

  it('flags an import against the order', () => {
    expect(violates({ file: 'mvcc/x.ts', from: 'mvcc', to: 'apply' })).toBe(true);
    expect(violates({ file: 'mvcc/x.ts', from: 'mvcc', to: 'alarm' })).toBe(true);
    expect(violates({ file: 'apply/x.ts', from: 'apply', to: 'raft-driver' })).toBe(true);
    expect(violates({ file: 'unranked/x.ts', from: 'unranked', to: 'storage' })).toBe(true); // a folder without a rank
  });
});
