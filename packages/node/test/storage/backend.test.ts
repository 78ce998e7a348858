/**
 * Goal: the Backend's contract: it creates `${dataDir}/member/db`, writeSync commits or aborts as
 * a whole and does not nest, flushed() resolves after commits, sizes are sane and grow, LMDB's
 * key limit is the one schema.ts assumes, and data survives close/reopen.
 * Method: real LMDB in a fresh temp dir.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Backend } from '../../src/storage/index.js';
import { MAX_LMDB_KEY_BYTES } from '../../src/storage/schema.js';

let dir: string;
let backend: Backend;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corvid-backend-'));
  backend = Backend.open({ dataDir: join(dir, 'missing', 'data') });
});
afterEach(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Backend', () => {
  it('creates the data dir and reports sizes', async () => {
    expect(existsSync(join(dir, 'missing', 'data', 'member', 'db', 'data.mdb'))).toBe(true);
    const used = backend.sizeInUseBytes();
    expect(used).toBeGreaterThan(0);
    backend.writeSync(() => {
      for (let i = 0; i < 2000; i++) backend.live.put(Buffer.from(`key-${i}`), Buffer.alloc(100, 1));
    });
    await backend.flushed();
    expect(backend.sizeInUseBytes()).toBeGreaterThan(used + 100 * 2000);
    expect(backend.sizeBytes()).toBeGreaterThanOrEqual(backend.sizeInUseBytes());
  });

  it('aborts a transaction whose callback throws, and does not nest', () => {
    expect(() =>
      backend.writeSync(() => {
        backend.live.put(Buffer.from('a'), Buffer.from('1'));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(backend.live.get(Buffer.from('a'))).toBeUndefined();
    expect(() => backend.writeSync(() => backend.writeSync(() => 1))).toThrow(/nest/);
    expect(backend.inWriteTxn()).toBe(false);
  });

  it('reads its own writes inside a transaction', () => {
    backend.writeSync(() => {
      backend.live.put(Buffer.from('a'), Buffer.from('1'));
      expect(backend.live.get(Buffer.from('a'))).toEqual(Buffer.from('1'));
      expect([...backend.live.getRange({ start: Buffer.from('a') })]).toHaveLength(1);
    });
  });

  it('has the key limit schema.ts assumes', () => {
    backend.writeSync(() => {
      backend.live.put(Buffer.alloc(MAX_LMDB_KEY_BYTES, 1), Buffer.from('v'));
    });
    expect(() =>
      backend.writeSync(() => {
        backend.live.put(Buffer.alloc(MAX_LMDB_KEY_BYTES + 1, 1), Buffer.from('v'));
      }),
    ).toThrow();
  });

  it.each(['commit', 'data', 'flush'] as const)('in %s mode, flushed() resolves and the data survives reopen', async (durability) => {
    await backend.close();
    backend = Backend.open({ dataDir: join(dir, durability), durability });
    for (let i = 0; i < 5; i++) {
      backend.writeSync(() => {
        backend.live.put(Buffer.from(`k${i}`), Buffer.from('v'));
      });
    }
    await Promise.all([backend.flushed(), backend.flushed()]);
    await backend.flushed();
    await backend.close();
    backend = Backend.open({ dataDir: join(dir, durability), durability });
    expect(backend.live.getCount()).toBe(5);
  });

  it('keeps data across close and reopen', async () => {
    backend.writeSync(() => {
      backend.meta.put(Buffer.from('x'), Buffer.from('y'));
    });
    await backend.flushed();
    await backend.close();
    backend = Backend.open({ dataDir: join(dir, 'missing', 'data') });
    expect(backend.meta.get(Buffer.from('x'))).toEqual(Buffer.from('y'));
  });
});
