/**
 * Goal: --experimental-warning-apply-duration sets the threshold of etcd's "apply request took too long" warning
 * and of etcd_server_slow_apply_total.
 * Method: the apply observer with a 200 ms threshold and a captured logger sees one apply under and one over it.
 */
import { expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createApplyObserver } from '../../src/server/metrics.js';
import { createLogger } from '../../src/util/logger.js';

it('warns and counts only applies slower than the threshold', async () => {
  const registry = new Registry();
  const lines: string[] = [];
  const observer = createApplyObserver(registry, { warnApplySeconds: 0.2, logger: createLogger('info', (l) => lines.push(l)) });
  observer.entryApplied('put', 0.15);
  observer.entryApplied('txn', 0.3);
  expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
    expect.objectContaining({ level: 'warn', msg: 'apply request took too long', 'expected-duration': '200ms', op: 'txn' }),
  ]);
  expect((await registry.getSingleMetric('etcd_server_slow_apply_total')?.get())?.values[0]?.value).toBe(1);
});
