// Goal: a write transaction is on disk when Backend.writeSync returns — even when its body returns
// a promise-like (as lmdb-js's `put` does), which would make lmdb-js keep the transaction open and
// uncommitted past the call. Method: a child process (the built backend) commits through
// writeSync, then kills itself with SIGKILL right after; a fresh Backend on the same dir must
// read every value back.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backend } from '../../src/storage/index.js';

const BUILT_BACKEND = join(import.meta.dirname, '..', '..', 'dist', 'storage', 'index.js');
const COMMITS = 20;

const CHILD = `
import { Backend } from ${JSON.stringify(BUILT_BACKEND)};
const backend = Backend.open({ dataDir: process.argv[1], durability: process.argv[2] });
for (let i = 0; i < ${COMMITS}; i++) {
  const key = Buffer.from('crash-' + i);
  // Alternate a block body and a body that returns put's promise-like.
  if (i % 2 === 0) backend.writeSync(() => { backend.meta.put(key, Buffer.alloc(4096, i)); });
  else backend.writeSync(() => backend.meta.put(key, Buffer.alloc(4096, i)));
}
process.kill(process.pid, 'SIGKILL');
`;

describe('Backend.writeSync under a crash', () => {
  // 'data' (the member's mode) skips the meta-page sync: a process crash must still lose nothing.
  it.each(['commit', 'data'] as const)('in %s mode, leaves every committed transaction on disk for the next open', async (durability) => {
    expect(existsSync(BUILT_BACKEND)).toBe(true);
    const dataDir = mkdtempSync(join(tmpdir(), 'corvid-backend-crash-'));
    try {
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, dataDir, durability], { encoding: 'utf8', timeout: 20_000 });
      expect(child.signal).toBe('SIGKILL');
      const backend = Backend.open({ dataDir });
      try {
        for (let i = 0; i < COMMITS; i++) expect(backend.meta.get(Buffer.from(`crash-${i}`))?.[0]).toBe(i);
      } finally {
        await backend.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
