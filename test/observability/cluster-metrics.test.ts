/**
 * Goal: what users watch Corvid with works against a real Prometheus — etcd 3.4's metric families with etcd's
 * types, labels and buckets; every family documented in docs/metrics.md; every panel of dashboards/ and of etcd's
 * own published dashboard returning data; every alert rule evaluating cleanly and quiet on a healthy cluster.
 * Method: start a 3-member Corvid cluster and a 3-member etcd 3.4 cluster (both `--metrics extensive`), a real
 * Prometheus scraping both every second with deploy/prometheus's rule files, and a small load on each (puts,
 * linearizable and serializable reads, a txn, a delete, a compaction, a lease with keepalives, an open watch).
 * Then: diff the families scraped from one member of each; run every panel query and every rule through
 * Prometheus's HTTP API with the dashboard variables substituted.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { Cluster } from '../harness/cluster.js';
import { etcdctl } from '../harness/etcdctl.js';
import { bytes, kvClient, type KvApi } from '../harness/grpc.js';
import { ProcessGroup, REPO_ROOT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { leaseClient } from '../differential/lease-client.js';
import { WatchStreamClient } from '../differential/watch-client.js';
import { parseFamilies, type Family } from './metrics-text.js';
import { Prometheus } from './prometheus.js';

const CORVID_JOB = 'corvid-etcd';
const ETCD_JOB = 'etcd-3.4';
const RULE_FILES = ['etcd.rules.yml', 'corvid.rules.yml'].map((f) => join(REPO_ROOT, 'deploy/prometheus/rules', f));
const ETCD_DOCS = '/usr/share/doc/etcd-server';

/**
 * etcd 3.4 families whose Go vectors print nothing until a labelled child exists, and which this small load does
 * not create on etcd; their type is still checked against etcd's source names in docs/metrics.md.
 */
const NOT_OBSERVED_ON_ETCD: ReadonlyMap<string, string> = new Map([
  ['etcd_network_snapshot_send_success', 'needs a snapshot sent to a follower'],
  ['etcd_network_snapshot_send_failures', 'needs a failed snapshot send'],
  ['etcd_network_snapshot_send_total_duration_seconds', 'needs a snapshot sent to a follower'],
  ['etcd_network_snapshot_receive_success', 'needs a snapshot received'],
  ['etcd_network_snapshot_receive_failures', 'needs a failed snapshot receive'],
  ['etcd_network_snapshot_receive_total_duration_seconds', 'needs a snapshot received'],
  ['etcd_network_peer_received_failures_total', 'needs a failed receive from a peer'],
  ['etcd_network_peer_sent_failures_total', 'needs a failed send to a peer'],
  ['etcd_network_disconnected_peers_total', 'needs a peer disconnect'],
]);

interface DocRow {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
  readonly source: string;
}

/** The metric tables of docs/metrics.md: | `name` | type | labels | source | what it measures | */
function documentedMetrics(): DocRow[] {
  const text = readFileSync(join(REPO_ROOT, 'docs/metrics.md'), 'utf8');
  return [...text.matchAll(/^\| `([a-zA-Z_:][a-zA-Z0-9_:]*)` \|([^|\n]*)\|([^|\n]*)\|([^|\n]*)\|/gm)].map((m) => ({
    name: m[1] as string,
    type: (m[2] as string).trim(),
    labels: [...(m[3] as string).matchAll(/`(\w+)`/g)].map((l) => l[1] as string).sort(),
    source: (m[4] as string).trim(),
  }));
}

/** Every PromQL expression of a Grafana dashboard (any schema: rows or panels, nested). */
function dashboardExprs(dashboard: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      const { expr } = node as { expr?: unknown };
      if (typeof expr === 'string' && expr.length > 0) out.push(expr);
      Object.values(node).forEach(walk);
    }
  };
  walk(dashboard);
  return out;
}

/** Grafana's variables as a dashboard would resolve them for one cluster, all members, a 30 s rate window. */
const resolve = (expr: string, job: string): string =>
  expr.replaceAll('$cluster', job).replaceAll('$instance', '.*').replaceAll('$__rate_interval', '30s').replaceAll('$__interval', '15s');

const group = new ProcessGroup();
let corvid: Cluster;
let etcd: Cluster;
let prometheus: Prometheus;
const corvidFamilies = new Map<string, Family>();
const etcdFamilies = new Map<string, Family>();
const closers: Array<() => void> = [];
let loading = true;
let load: Promise<void> = Promise.resolve();
/** Failures of the background load: it stops at the first, and the last test reports them. */
const loadErrors: string[] = [];

async function scrape(url: string): Promise<Map<string, Family>> {
  return parseFamilies(await (await fetch(`${url}/metrics`)).text());
}

/** One round of the same small load on a cluster: every family a dashboard reads gets samples. */
async function loadRound(kv: KvApi, round: number): Promise<void> {
  await kv.put({ key: bytes(`/obs/key-${round % 50}`), value: bytes(`value-${round}`) });
  await kv.range({ key: bytes('/obs/'), rangeEnd: bytes('/obs0') });
  await kv.range({ key: bytes('/obs/key-1'), serializable: true });
  await kv.txn({ compare: [], success: [{ request: { $case: 'requestPut', value: { key: bytes('/obs/txn'), value: bytes(String(round)) } } }] });
  if (round % 10 === 0) await kv.deleteRange({ key: bytes(`/obs/key-${round % 50}`) });
}

async function prepare(cluster: Cluster): Promise<KvApi> {
  const endpoint = cluster.slots[0]?.endpoint as string;
  const kv = kvClient(endpoint);
  const leases = leaseClient(endpoint);
  const watch = new WatchStreamClient(endpoint);
  closers.push(() => kv.close(), () => leases.close(), () => watch.close());
  watch.create({ key: bytes('/obs/'), rangeEnd: bytes('/obs0') });
  await watch.waitFor(1);
  const { ID } = await leases.grant({ TTL: 60 });
  await leases.keepAlive([ID]);
  await kv.put({ key: bytes('/obs/leased'), value: bytes('x'), lease: ID });
  const short = await leases.grant({ TTL: 60 });
  await leases.revoke({ ID: short.ID });
  for (let i = 0; i < 20; i++) await loadRound(kv, i);
  // 640 keys in 5 txns: a range over them is a long read, served by a read-pool worker.
  for (let t = 0; t < 5; t++) {
    const puts = Array.from({ length: 128 }, (_, i) => ({ request: { $case: 'requestPut' as const, value: { key: bytes(`/obs/bulk/${t}-${i}`), value: bytes('v') } } }));
    await kv.txn({ compare: [], success: puts });
  }
  const bulk = await kv.range({ key: bytes('/obs/bulk/'), rangeEnd: bytes('/obs/bulk0') });
  expect(bulk.count).toBe(640n);
  // etcdctl 3.4 sends client-api-version: 3.4 (etcd_server_client_requests_total's label).
  expect((await etcdctl(endpoint, ['put', '/obs/etcdctl', 'v'])).code).toBe(0);
  const { header } = await kv.range({ key: bytes('/obs/txn') });
  await kv.compact({ revision: (header?.revision ?? 2n) - 5n });
  return kv;
}

beforeAll(async () => {
  const extraArgs = ['--metrics', 'extensive'];
  [corvid, etcd] = await Promise.all([
    Cluster.start(group, { kind: 'corvid', size: 3, extraArgs }),
    Cluster.start(group, { kind: 'etcd', size: 3, extraArgs }),
  ]);
  const targets = (c: Cluster): string[] => c.slots.map((s) => s.endpoint);
  prometheus = await Prometheus.start(group, { [CORVID_JOB]: targets(corvid), [ETCD_JOB]: targets(etcd) }, RULE_FILES);
  const kvs = await Promise.all([prepare(corvid), prepare(etcd)]);
  // A light, steady load while Prometheus scrapes, so every rate() has a slope.
  load = (async () => {
    for (let round = 20; loading; round++) {
      try {
        await Promise.all(kvs.map(async (kv) => loadRound(kv, round)));
      } catch (err) {
        loadErrors.push(`round ${round}: ${(err as Error).message}`);
        return;
      }
      await delay(50);
    }
  })();
  // Six scrapes of every member: enough points for rate() over the 30 s windows.
  await waitFor(async () => {
    const r = await prometheus.query(`count_over_time(up{job=~"${CORVID_JOB}|${ETCD_JOB}"}[1m]) >= 6`);
    return r.data?.result.length === 6;
  }, 60_000, 'six scrapes of all six members');
  for (const [into, cluster] of [[corvidFamilies, corvid], [etcdFamilies, etcd]] as const) {
    for (const [name, family] of await scrape(cluster.slots[0]?.clientUrl as string)) into.set(name, family);
  }
}, 150_000);

afterAll(async () => {
  loading = false;
  await load;
  for (const close of closers) close();
  await prometheus?.stop();
  corvid?.close();
  etcd?.close();
  await group.cleanup();
}, 60_000);

describe('metric families', () => {
  test('each family documented as etcd\'s is etcd 3.4\'s: type, label names, bucket boundaries', () => {
    const rows = documentedMetrics().filter((r) => r.source === 'etcd');
    expect(rows.length).toBeGreaterThan(60);
    const differences: string[] = [];
    for (const row of rows) {
      const ours = corvidFamilies.get(row.name);
      const theirs = etcdFamilies.get(row.name);
      if (ours === undefined) differences.push(`${row.name}: Corvid does not export it`);
      else if (theirs === undefined) {
        if (!NOT_OBSERVED_ON_ETCD.has(row.name)) differences.push(`${row.name}: etcd 3.4 does not export it`);
        if (ours.type !== row.type) differences.push(`${row.name}: Corvid's type ${ours.type}, documented ${row.type}`);
      } else {
        const shape = (f: Family): string => `${f.type} {${f.labels.join(',')}} [${f.buckets.join(' ')}]`;
        if (shape(ours) !== shape(theirs)) differences.push(`${row.name}: Corvid ${shape(ours)} ≠ etcd ${shape(theirs)}`);
      }
    }
    expect(differences).toEqual([]);
  });

  test('client calls are counted by type and the client\'s API version, as etcd counts them', async () => {
    for (const job of [CORVID_JOB, ETCD_JOB]) {
      const byEtcdctl = await prometheus.query(`sum(etcd_server_client_requests_total{job="${job}",type="unary",client_api_version="3.4"})`);
      expect({ job, counted: Number(byEtcdctl.data?.result[0]?.value?.[1]) >= 1 }).toEqual({ job, counted: true });
    }
    const streams = await prometheus.query(`sum(etcd_server_client_requests_total{job="${CORVID_JOB}",type="stream"})`);
    expect(Number(streams.data?.result[0]?.value?.[1])).toBeGreaterThanOrEqual(2);
  });

  test('a long read is counted by the read pool\'s metrics', async () => {
    const runs = await prometheus.query(`sum(corvid_read_pool_run_duration_seconds_count{job="${CORVID_JOB}"})`);
    expect(Number(runs.data?.result[0]?.value?.[1])).toBeGreaterThanOrEqual(1);
    const waits = await prometheus.query(`sum(corvid_read_pool_wait_duration_seconds_count{job="${CORVID_JOB}"})`);
    expect(Number(waits.data?.result[0]?.value?.[1])).toBeGreaterThanOrEqual(1);
  });

  test('every family Corvid exports is documented with its type and labels, and every documented one is exported', () => {
    const rows = new Map(documentedMetrics().map((r) => [r.name, r]));
    const problems: string[] = [];
    for (const family of corvidFamilies.values()) {
      const row = rows.get(family.name);
      if (row === undefined) problems.push(`${family.name} (${family.type}) is not in docs/metrics.md`);
      else if (row.type !== family.type) problems.push(`${family.name}: exported as ${family.type}, documented as ${row.type}`);
      else if (family.samples > 0 && row.labels.join(',') !== family.labels.join(',')) problems.push(`${family.name}: labels {${family.labels.join(',')}}, documented {${row.labels.join(',')}}`);
    }
    for (const name of rows.keys()) if (!corvidFamilies.has(name)) problems.push(`${name} is documented but not exported`);
    expect(problems).toEqual([]);
  });
});

describe('dashboards against Prometheus', () => {
  // The operator's dashboard reads the operator's own job: operator-dashboard.test.ts runs it.
  const files = readdirSync(join(REPO_ROOT, 'dashboards')).filter((f) => f.endsWith('.json') && f !== 'corvid-operator.json');

  test.each(files)('%s: every panel query parses and returns series for the Corvid cluster', async (file) => {
    const exprs = dashboardExprs(JSON.parse(readFileSync(join(REPO_ROOT, 'dashboards', file), 'utf8')));
    expect(exprs.length).toBeGreaterThan(0);
    const empty: string[] = [];
    for (const expr of exprs) {
      const result = await prometheus.query(resolve(expr, CORVID_JOB));
      if (result.status !== 'success') empty.push(`${expr}: ${result.error ?? 'error'}`);
      else if ((result.data?.result.length ?? 0) === 0) empty.push(`${expr}: no series`);
    }
    expect(empty).toEqual([]);
  });

  test('the template variables list the Corvid cluster and its three members', async () => {
    // Over the last minute, as Grafana's label_values() looks over the dashboard's time range (an instant query
    // would miss a member whose latest scrape was slow on a loaded machine).
    const jobs = await prometheus.query('group by (job) (max_over_time(etcd_server_has_leader[1m]))');
    expect(jobs.data?.result.map((r) => r.metric['job'])).toContain(CORVID_JOB);
    const members = await prometheus.query(`group by (instance) (max_over_time(etcd_server_has_leader{job=~"${CORVID_JOB}"}[1m]))`);
    expect(members.data?.result).toHaveLength(3);
  });

  test('etcd\'s own published dashboards (Debian etcd-server: grafana.json and the etcd mixin) return data for Corvid wherever they do for etcd', async () => {
    const grafana = dashboardExprs(JSON.parse(gunzipSync(readFileSync(join(ETCD_DOCS, 'op-guide/grafana.json.gz'))).toString('utf8')));
    const mixin = gunzipSync(readFileSync(join(ETCD_DOCS, 'etcd-mixin/mixin.libsonnet.gz'))).toString('utf8');
    const mixinPanels = [...mixin.matchAll(/^\s*expr: '(.*)',$/gm)].map((m) => m[1] as string);
    const exprs = [...new Set([...grafana, ...mixinPanels])];
    expect(exprs.length).toBeGreaterThanOrEqual(18);
    const lost: string[] = [];
    for (const expr of exprs) {
      const [ours, theirs] = await Promise.all([prometheus.query(resolve(expr, CORVID_JOB)), prometheus.query(resolve(expr, ETCD_JOB))]);
      expect({ expr, status: ours.status }).toEqual({ expr, status: 'success' });
      const count = (r: typeof ours): number => r.data?.result.length ?? 0;
      if (count(ours) === 0 || count(ours) < Math.min(count(theirs), 1)) lost.push(`${expr}: Corvid ${count(ours)} series, etcd ${count(theirs)}`);
    }
    expect(lost).toEqual([]);
  });
});

describe('alert rules against Prometheus', () => {
  test('every rule of deploy/prometheus evaluates without error, and none fires on the healthy clusters', async () => {
    const rules = await waitFor(async () => {
      const all = await prometheus.rules();
      return all.length > 0 && all.every((r) => r.health !== 'unknown') ? all : undefined;
    }, 20_000, 'every rule evaluated once');
    expect(rules.filter((r) => r.type === 'alerting')).toHaveLength(21);
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([]);
    expect(rules.filter((r) => r.state === 'firing').map((r) => r.name)).toEqual([]);
    for (const rule of rules) {
      const result = await prometheus.query(rule.query);
      expect({ rule: rule.name, status: result.status }).toEqual({ rule: rule.name, status: 'success' });
    }
  });
});

test('the background load ran without a failed request on either cluster', () => {
  expect(loadErrors).toEqual([]);
});
