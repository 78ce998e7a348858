/**
 * Goal: the operator's Grafana dashboard (dashboards/corvid-operator.json) works against a real Prometheus —
 * every panel query parses and returns series, and the template variables list the operator's job and replica.
 * Method: the operator under the Kubernetes API test server with its metrics on a prom-client Registry served
 * over HTTP exactly as `corvid-operator` serves them (OperatorMetrics + the default process metrics); a real
 * Prometheus scrapes it every second. A one-member etcd 3.4 cluster is reconciled and backed up once, so the
 * reconcile, backup and last-backup-age series all exist; then each panel's query runs through Prometheus's
 * query API with the dashboard's variables resolved as Grafana would.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { OperatorMetrics, metricsHandler, type EtcdCluster } from '../../packages/operator/src/index.js';
import { startOperatorEnv, NAMESPACE, type OperatorEnv } from '../harness/kube/operator-env.js';
import { ProcessGroup, REPO_ROOT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { Prometheus } from './prometheus.js';

jest.setTimeout(120_000);

const JOB = 'corvid-operator';
const group = new ProcessGroup();
let env: OperatorEnv;
let server: Server;
let prometheus: Prometheus;

/** Every PromQL expression and template-variable query of a generated dashboard. */
function dashboardQueries(dashboard: { panels: Array<{ targets?: Array<{ expr: string }> }>; templating: { list: Array<{ definition?: string }> } }): { exprs: string[]; variables: string[] } {
  return {
    exprs: dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    variables: dashboard.templating.list.flatMap((v) => (v.definition === undefined ? [] : [v.definition])),
  };
}

const resolve = (expr: string): string =>
  expr.replaceAll('$cluster', JOB).replaceAll('$instance', '.*').replaceAll('$__rate_interval', '30s').replaceAll('$__interval', '15s');

beforeAll(async () => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  env = await startOperatorEnv({ operator: { metrics: new OperatorMetrics(registry) } });
  server = createServer(metricsHandler(registry));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  prometheus = await Prometheus.start(group, { [JOB]: [`127.0.0.1:${port}`] }, []);
  await env.core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: { metadata: { name: 'backups' }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } } });
});
afterAll(async () => {
  await prometheus?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await env?.cleanup();
  await group.cleanup();
});

test('every panel of the operator dashboard returns series for a reconciling, backing-up operator', async () => {
  await env.createCluster('dash', { replicas: 1, backup: { retention: 2, destination: { volume: { claimName: 'backups', path: env.backupDir } } } });
  await env.waitForCluster('dash', (c: EtcdCluster) => (c.status?.members ?? []).some((m) => m.healthy) && c, 30_000, 'dash: one healthy member');
  await env.custom.createNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'etcdbackups', body: { apiVersion: 'etcd.corvid.dev/v1alpha1', kind: 'EtcdBackup', metadata: { name: 'dash-b' }, spec: { clusterName: 'dash' } } });
  await waitFor(async () => (await env.getBackup('dash-b')).status?.phase === 'Succeeded', 30_000, 'the backup');
  // Rates need two scrapes after the backup; the backup counter must be seen at 1.
  await waitFor(async () => Number((await prometheus.query(`corvid_operator_backups_total{job="${JOB}"}`)).data?.result[0]?.value?.[1] ?? 0) === 1, 20_000, 'the backup counter scraped');
  const { exprs, variables } = dashboardQueries(JSON.parse(readFileSync(join(REPO_ROOT, 'dashboards/corvid-operator.json'), 'utf8')));
  expect(exprs.length).toBeGreaterThanOrEqual(10);
  const empty: string[] = [];
  await waitFor(async () => {
    empty.length = 0;
    for (const expr of exprs) {
      const result = await prometheus.query(resolve(expr));
      if (result.status !== 'success') empty.push(`${expr}: ${result.error ?? 'error'}`);
      else if ((result.data?.result.length ?? 0) === 0) empty.push(`${expr}: no series`);
    }
    return empty.length === 0;
  }, 20_000, 'every panel to return series').catch(() => undefined);
  expect(empty).toEqual([]);
  // The variables: label_values(<metric>, job) and label_values(<metric>{job=~"$cluster"}, instance).
  const metricOf = (definition: string): string => (definition.match(/^label_values\((.*), \w+\)$/u)?.[1] ?? '');
  expect(variables).toHaveLength(2);
  for (const v of variables) {
    const r = await prometheus.query(`group(${resolve(metricOf(v))})`);
    expect({ v, series: r.data?.result.length }).toEqual({ v, series: 1 });
  }
  const age = await prometheus.query(`corvid_operator_last_backup_age_seconds{job="${JOB}"}`);
  expect(age.data?.result.map((r) => `${r.metric['namespace']}/${r.metric['cluster']}`)).toEqual([`${NAMESPACE}/dash`]);
});
