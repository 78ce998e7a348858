/**
 * Goal: the CRDs in deploy/crds are valid structural schemas that accept the examples and reject broken
 * objects; every manifest in deploy/ parses and the kustomization builds; the operator's TypeScript types
 * declare only fields the schema has.
 * Method: parse the YAML, walk the schema with the same defaulting/validation the API test server applies,
 * and run `kubectl kustomize deploy/` when kubectl is installed (it needs no cluster).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import yaml from 'js-yaml';
import { applyDefaults, prune, structuralViolations, validate, type JsonSchema } from '../harness/kube/openapi-schema.js';
import { loadCrd, type CrdDoc } from '../harness/kube/operator-env.js';
import { REPO_ROOT } from '../harness/processes.js';

const schemaOf = (crd: CrdDoc): JsonSchema => (crd.spec.versions[0] as CrdDoc['spec']['versions'][number]).schema.openAPIV3Schema;

function manifests(dir: string): { file: string; docs: Record<string, unknown>[] }[] {
  const out: { file: string; docs: Record<string, unknown>[] }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...manifests(path));
    else if (entry.name.endsWith('.yaml')) out.push({ file: path, docs: yaml.loadAll(readFileSync(path, 'utf8')).filter((d): d is Record<string, unknown> => d !== null) });
  }
  return out;
}

function admit(schema: JsonSchema, obj: Record<string, unknown>): string[] {
  const { metadata: _m, ...body } = structuredClone(obj);
  applyDefaults(schema, body);
  prune(schema, body);
  return validate(schema, body, '').map((e) => `${e.field}: ${e.message}`);
}

describe('CRDs', () => {
  test.each(['etcd.corvid.dev_etcdclusters.yaml', 'etcd.corvid.dev_etcdbackups.yaml'])('%s is structural, with a status subresource and printer columns', async (file) => {
    const crd = await loadCrd(file);
    const v = crd.spec.versions[0] as CrdDoc['spec']['versions'][number] & { served: boolean; storage: boolean; additionalPrinterColumns?: unknown[] };
    expect(crd.spec.group).toBe('etcd.corvid.dev');
    expect(v.name).toBe('v1alpha1');
    expect(v.served && v.storage).toBe(true);
    expect(v.subresources?.status).toEqual({});
    expect((v.additionalPrinterColumns ?? []).length).toBeGreaterThan(2);
    expect(structuralViolations(schemaOf(crd))).toEqual([]);
  });

  test('a schema node without a type is reported as non-structural', () => {
    expect(structuralViolations({ type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } })).toContain('openAPIV3Schema.properties.spec.type: Required value');
  });

  test('the examples are accepted; broken clusters and backups are rejected', async () => {
    const clusterSchema = schemaOf(await loadCrd('etcd.corvid.dev_etcdclusters.yaml'));
    const backupSchema = schemaOf(await loadCrd('etcd.corvid.dev_etcdbackups.yaml'));
    const examples = manifests(join(REPO_ROOT, 'deploy/examples')).flatMap((m) => m.docs);
    expect(examples.length).toBeGreaterThanOrEqual(4);
    for (const doc of examples) {
      const schema = doc['kind'] === 'EtcdCluster' ? clusterSchema : backupSchema;
      expect(admit(schema, doc)).toEqual([]);
    }
    const cluster = (spec: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: 'etcd.corvid.dev/v1alpha1', kind: 'EtcdCluster', metadata: { name: 'x' }, spec });
    expect(admit(clusterSchema, cluster({ replicas: 2 }))).toEqual([expect.stringContaining('spec.replicas: Unsupported value: 2')]);
    expect(admit(clusterSchema, cluster({ runtime: 'zookeeper' }))[0]).toContain('spec.runtime');
    expect(admit(clusterSchema, cluster({ compaction: { mode: 'sometimes' } }))[0]).toContain('spec.compaction.mode');
    expect(admit(clusterSchema, cluster({ backup: { retention: 0, destination: {} } }))[0]).toContain('spec.backup.retention');
    expect(admit(clusterSchema, cluster({ backup: { retention: 2 } }))[0]).toContain('spec.backup.destination: Required value');
    expect(admit(clusterSchema, cluster({ extraFlags: ['quota=1'] }))[0]).toContain('spec.extraFlags[0]');
    expect(admit(clusterSchema, { kind: 'EtcdCluster', metadata: {} })).toEqual(['spec: Required value']);
    expect(admit(backupSchema, { kind: 'EtcdBackup', metadata: {}, spec: {} })).toEqual(['spec.clusterName: Required value']);
  });

  test('defaults: an empty spec becomes a 3-member Corvid cluster', async () => {
    const schema = schemaOf(await loadCrd('etcd.corvid.dev_etcdclusters.yaml'));
    const body: Record<string, unknown> = { spec: {} };
    applyDefaults(schema, body);
    expect(body['spec']).toMatchObject({ replicas: 3, runtime: 'corvid', storage: { size: '1Gi' }, memberFailureTimeoutSeconds: 120 });
  });
});

describe('deploy/', () => {
  test('every manifest parses into objects with apiVersion, kind and a name', () => {
    const all = manifests(join(REPO_ROOT, 'deploy'));
    expect(all.length).toBeGreaterThanOrEqual(10);
    for (const { file, docs } of all) {
      for (const d of docs) {
        expect({ file, apiVersion: typeof d['apiVersion'], kind: typeof d['kind'] }).toEqual({ file, apiVersion: 'string', kind: 'string' });
        if (d['kind'] !== 'Kustomization') expect(typeof (d['metadata'] as { name?: unknown } | undefined)?.name).toBe('string');
      }
    }
  });

  test('the RBAC grants what the operator calls, and the cluster role has no wildcard', () => {
    const role = manifests(join(REPO_ROOT, 'deploy/rbac')).flatMap((m) => m.docs).find((d) => d['kind'] === 'ClusterRole') as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    const can = (group: string, resource: string, verb: string): boolean => role.rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    for (const [g, r, v] of [['etcd.corvid.dev', 'etcdclusters', 'watch'], ['etcd.corvid.dev', 'etcdclusters/status', 'update'], ['etcd.corvid.dev', 'etcdbackups', 'create'], ['', 'pods', 'delete'], ['', 'persistentvolumeclaims', 'create'], ['', 'events', 'create'], ['policy', 'poddisruptionbudgets', 'update']] as const) {
      expect(`${g}/${r} ${v}: ${can(g, r, v)}`).toBe(`${g}/${r} ${v}: true`);
    }
    expect(JSON.stringify(role.rules)).not.toContain('"*"');
  });

  const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));
  (kubectl === undefined ? test.skip : test)('kubectl kustomize deploy/ builds every resource', () => {
    const run = spawnSync(kubectl as string, ['kustomize', join(REPO_ROOT, 'deploy')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const kinds = yaml.loadAll(run.stdout).map((d) => (d as { kind: string }).kind).sort();
    expect(kinds).toEqual(['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'CustomResourceDefinition', 'Deployment', 'Namespace', 'PersistentVolumeClaim', 'Role', 'RoleBinding', 'ServiceAccount']);
  });
});
