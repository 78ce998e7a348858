/**
 * Goal: two operator replicas are safe — only the holder of the Lease reconciles, a released Lease passes to
 * the other replica, and an expired one is taken over (with leaseTransitions counted).
 * Method: LeaderElector and Operator instances against the API test server's coordination.k8s.io Leases.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { LeaderElector, Operator } from '../../packages/operator/src/index.js';
import { KubeApiServer } from '../harness/kube-api-server.js';
import { customTypes } from '../harness/kube/operator-env.js';
import { waitFor } from '../harness/wait.js';

let server: KubeApiServer;
let kc: KubeConfig;

beforeAll(async () => {
  server = new KubeApiServer(await customTypes());
  await server.start();
  kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
});
afterAll(async () => {
  await server?.stop();
});

test('one holder at a time; an expired Lease is taken over', async () => {
  const opts = { namespace: 'default', name: 'el', leaseDurationSeconds: 1 };
  const a = new LeaderElector(kc, { ...opts, identity: 'a' });
  const b = new LeaderElector(kc, { ...opts, identity: 'b' });
  expect(await a.tryAcquireOrRenew()).toBe(true);
  expect(await b.tryAcquireOrRenew()).toBe(false);
  expect(await a.tryAcquireOrRenew()).toBe(true); // renew
  // a stops renewing: once the lease duration has passed, b takes it.
  await waitFor(() => b.tryAcquireOrRenew(), 5_000, 'b to take the expired lease');
  const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: 'default', name: 'el' });
  expect(lease.spec?.holderIdentity).toBe('b');
  expect(lease.spec?.leaseTransitions).toBe(1);
  expect(await a.tryAcquireOrRenew()).toBe(false);
});

test('two operators: only the elected one leads; stopping it hands over', async () => {
  const election = { namespace: 'default', name: 'corvid-operator', leaseDurationSeconds: 2, renewMs: 100 };
  const quiet = (): void => undefined;
  const scratchDir = join(tmpdir(), `corvid-operator-election-${process.pid}`); // never written: no backups here
  const first = new Operator({ kubeConfig: kc, leaderElection: { ...election, identity: 'first' }, log: quiet, scratchDir });
  const second = new Operator({ kubeConfig: kc, leaderElection: { ...election, identity: 'second' }, log: quiet, scratchDir });
  await first.start();
  await second.start();
  expect(first.isLeader).toBe(true);
  expect(second.isLeader).toBe(false);
  await first.stop(); // releases the Lease
  await waitFor(() => second.isLeader, 5_000, 'second to lead');
  expect(first.isLeader).toBe(false);
  await second.stop();
});
