/**
 * Goal: the mvcc and backend metrics exist under etcd's names on an injected registry, count as
 * etcd's metricsTxnWrite does, survive a reopen on the same registry and never fail a scrape.
 * Method: real store, prom-client Registry, read values through registry.getMetricsAsJSON().
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { etcdserverpb } from '@corvid/proto';
import { Applier } from '../../src/apply/index.js';
import { KvStore } from '../../src/mvcc/index.js';
import { Backend } from '../../src/storage/index.js';
import { delOp, encodeEntry, putOp, rPut, rRange, txnOp } from './harness.js';

async function value(registry: Registry, name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const named = (v: object): string | undefined => (v as { metricName?: string }).metricName;
  const sample = metric.values.find((v) => [undefined, name, `${name}_count`].includes(named(v)));
  return sample?.value ?? Number.NaN;
}

describe('metrics', () => {
  it('counts puts, deletes, ranges and txns and reports sizes and keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corvid-metrics-'));
    const registry = new Registry();
    let backend = Backend.open({ dataDir: dir, registry });
    let kv = new KvStore(backend, { registry });
    const applier = new Applier(backend, kv);
    applier.applyBatch([
      encodeEntry(1, putOp('a', '1')),
      encodeEntry(2, putOp('b', '1')),
      encodeEntry(3, delOp('a')),
      encodeEntry(4, txnOp({ success: [rPut('c', '1'), rRange('b')] })),
    ]);
    kv.range(etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from('b') }));
    expect(await value(registry, 'etcd_mvcc_put_total')).toBe(3);
    expect(await value(registry, 'etcd_mvcc_delete_total')).toBe(1);
    expect(await value(registry, 'etcd_mvcc_range_total')).toBe(2);
    expect(await value(registry, 'etcd_mvcc_txn_total')).toBe(1);
    expect(await value(registry, 'etcd_debugging_mvcc_keys_total')).toBe(2);
    expect(await value(registry, 'etcd_mvcc_db_total_size_in_bytes')).toBeGreaterThan(0);
    expect(await value(registry, 'etcd_mvcc_db_total_size_in_use_in_bytes')).toBeGreaterThan(0);
    expect(await value(registry, 'etcd_disk_backend_commit_duration_seconds')).toBe(1);
    await kv.close();
    expect(await value(registry, 'etcd_debugging_mvcc_keys_total')).toBe(0); // scrape after close
    await backend.close();
    backend = Backend.open({ dataDir: dir, registry });
    kv = new KvStore(backend, { registry });
    expect(await value(registry, 'etcd_mvcc_put_total')).toBe(3);
    expect(await value(registry, 'etcd_debugging_mvcc_keys_total')).toBe(2);
    expect(await registry.getSingleMetric('etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds')).toBeDefined();
    await kv.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
