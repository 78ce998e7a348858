/**
 * Goal: `spec.tls` — client and peer TLS from Secrets. The operator mounts both Secrets into every member pod,
 * passes etcd's TLS flags with https client and peer URLs, and reaches the members itself with the client
 * Secret's certificate (members run with --client-cert-auth, so a plain-text or certificate-less client gets
 * nothing). With etcd 3.4 members and with Corvid members.
 * Method: two CAs made by openssl (one per side) and one certificate each whose SANs are the pods' loopback
 * addresses (allocated before the cluster exists), 127.0.0.1 and the peer Service's DNS names; the Secrets hold ca.crt,
 * tls.crt and tls.key; the test kubelet materialises the Secret volumes as files. A 3-member cluster is created
 * through learners and promotions (so every step, and the status, went through the operator's TLS channel),
 * then checked from outside: MemberList shows https peer URLs, a TLS client with the certificate writes and
 * reads, a plain-text client and a TLS client without a certificate are refused; a backup is taken (the
 * snapshot streamed over the operator's TLS channel). A cluster naming a client Secret that does not exist
 * waits (Progressing reason ClientTLSSecretNotReady) and starts nothing.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { startOperatorEnv, NAMESPACE, type OperatorEnv } from '../harness/kube/operator-env.js';
import { MemberCerts } from '../harness/kube/member-certs.js';
import { bytes, outcome } from '../harness/grpc.js';
import { waitFor } from '../harness/wait.js';
import type { EtcdCluster } from '../../packages/operator/src/index.js';

jest.setTimeout(120_000);

const NAME = 'sec';
const PODS = ['sec-0', 'sec-1', 'sec-2'];
const GRPC_UNAVAILABLE = 14;

const settled = (n: number) => (c: EtcdCluster): boolean => {
  const ms = c.status?.members ?? [];
  return ms.length === n && ms.every((m) => m.healthy && !m.learner) && c.status?.conditions?.find((x) => x.type === 'Available')?.status === 'True';
};

function call<R>(fn: (cb: (err: Error | null, res: R) => void) => void): Promise<R> {
  return new Promise((resolve, reject) => fn((err, res) => (err === null ? resolve(res) : reject(err))));
}

describe.each(['etcd', 'corvid'] as const)('spec.tls with %s members', (runtime) => {
  let env: OperatorEnv;
  const certs = new MemberCerts();

  beforeAll(async () => {
    env = await startOperatorEnv({ runtime });
    // The kubelet hands out pod addresses in order of first use: take them now so the certificates can name them.
    // 127.0.0.1 too: a pod's outgoing connections leave from it (loopback's source address), and etcd checks a
    // peer's client certificate against the address the connection comes from.
    const ips = [...PODS.map((p) => env.kubelet.ipFor(NAMESPACE, p)), '127.0.0.1'];
    const dns = PODS.map((p) => `${p}.${NAME}-peer.${NAMESPACE}.svc`);
    certs.dir.makeCa('client-ca');
    certs.dir.makeCa('peer-ca');
    certs.makeMemberCert('client', 'client-ca', ips, dns);
    certs.makeMemberCert('peer', 'peer-ca', ips, dns);
    await env.core.createNamespacedSecret({ namespace: NAMESPACE, body: certs.secret('sec-client-tls', 'client-ca', 'client') });
    await env.core.createNamespacedSecret({ namespace: NAMESPACE, body: certs.secret('sec-peer-tls', 'peer-ca', 'peer') });
    await env.core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: { metadata: { name: 'backups' }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } } });
  });
  afterAll(async () => {
    await env?.cleanup();
    certs.dir.remove();
  });

  const endpoint = (pod: string): string => `${env.kubelet.ipFor(NAMESPACE, pod)}:2379`;
  const withCert = (): ChannelCredentials => credentials.createSsl(certs.read('client-ca.crt'), certs.read('client.key'), certs.read('client.crt'));

  test('create 3 over TLS: https URLs, the Secrets mounted, etcd\'s TLS flags', async () => {
    await env.createCluster(NAME, { replicas: 3, tls: { client: { secretName: 'sec-client-tls' }, peer: { secretName: 'sec-peer-tls' } } });
    const c = await env.waitForCluster(NAME, (x) => settled(3)(x) && x, 90_000, '3 healthy voters over TLS');
    expect(c.status?.members?.map((m) => m.name).sort()).toEqual(PODS);
    expect((await env.events(NAME)).filter((e) => e.reason === 'LearnerPromoted')).toHaveLength(2);
    const pod = await env.core.readNamespacedPod({ namespace: NAMESPACE, name: 'sec-1' });
    const command = pod.spec?.containers[0]?.command ?? [];
    const ip = env.kubelet.ipFor(NAMESPACE, 'sec-1');
    expect(command).toEqual(expect.arrayContaining([
      '--listen-client-urls=https://0.0.0.0:2379',
      `--advertise-client-urls=https://${ip}:2379`,
      '--listen-peer-urls=https://0.0.0.0:2380',
      `--initial-advertise-peer-urls=https://${ip}:2380`,
      '--cert-file=/etc/etcd/tls/client/tls.crt',
      '--key-file=/etc/etcd/tls/client/tls.key',
      '--trusted-ca-file=/etc/etcd/tls/client/ca.crt',
      '--client-cert-auth',
      '--peer-cert-file=/etc/etcd/tls/peer/tls.crt',
      '--peer-key-file=/etc/etcd/tls/peer/tls.key',
      '--peer-trusted-ca-file=/etc/etcd/tls/peer/ca.crt',
      '--peer-client-cert-auth',
    ]));
    expect(pod.spec?.volumes?.filter((v) => v.secret !== undefined).map((v) => v.secret?.secretName).sort()).toEqual(['sec-client-tls', 'sec-peer-tls']);
  });

  test('members speak TLS to each other and to clients; plain text and certificate-less clients are refused', async () => {
    const cluster = new etcdserverpb.ClusterClient(endpoint('sec-0'), withCert());
    const list = await call<etcdserverpb.MemberListResponse>((cb) => cluster.memberList(etcdserverpb.MemberListRequest.fromPartial({}), cb));
    cluster.close();
    expect(list.members).toHaveLength(3);
    for (const m of list.members) {
      expect(m.peerURLs.every((u) => u.startsWith('https://'))).toBe(true);
      expect(m.clientURLs.every((u) => u.startsWith('https://'))).toBe(true);
    }
    const kv = new etcdserverpb.KVClient(endpoint('sec-2'), withCert());
    await call((cb) => kv.put(etcdserverpb.PutRequest.fromPartial({ key: bytes('tls/k'), value: bytes('v') }), cb));
    // Written through one member, read linearizably through another: replicated over the TLS peer links.
    const other = new etcdserverpb.KVClient(endpoint('sec-0'), withCert());
    const got = await call<etcdserverpb.RangeResponse>((cb) => other.range(etcdserverpb.RangeRequest.fromPartial({ key: bytes('tls/k') }), cb));
    expect(Buffer.from(got.kvs[0]?.value ?? []).toString()).toBe('v');
    kv.close();
    other.close();
    const deadline = { deadline: new Date(Date.now() + 3_000) };
    for (const creds of [credentials.createInsecure(), credentials.createSsl(certs.read('client-ca.crt'))]) {
      const refused = new etcdserverpb.KVClient(endpoint('sec-0'), creds);
      const r = await outcome(new Promise((resolve, reject) => refused.range(etcdserverpb.RangeRequest.fromPartial({ key: bytes('tls/k') }), new Metadata(), deadline, (err, res) => (err === null ? resolve(res) : reject(err)))));
      refused.close();
      expect(r.ok ? 'served' : r.code).toBe(GRPC_UNAVAILABLE);
    }
  });

  test('a client TLS Secret that does not exist: the operator waits, reports why, and starts nothing', async () => {
    await env.createCluster('nosecret', { replicas: 1, tls: { client: { secretName: 'absent' } } });
    const c = await env.waitForCluster('nosecret', (x) => x.status?.conditions?.find((k) => k.type === 'Progressing' && k.reason === 'ClientTLSSecretNotReady') && x, 20_000, 'the wait to be reported');
    expect(c.status?.conditions?.find((k) => k.type === 'Progressing')?.message).toBe('client TLS Secret absent not found');
    const pods = await env.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'etcd.corvid.dev/cluster=nosecret' });
    expect(pods.items).toHaveLength(0);
  });

  test('a backup streams the snapshot over the operator\'s TLS channel', async () => {
    await env.custom.createNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'etcdbackups', body: { apiVersion: 'etcd.corvid.dev/v1alpha1', kind: 'EtcdBackup', metadata: { name: 'sec-b' }, spec: { clusterName: NAME, destination: { volume: { claimName: 'backups', path: env.backupDir } } } } });
    const b = await waitFor(async () => {
      const x = await env.getBackup('sec-b');
      return x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed' ? x : undefined;
    }, 30_000, 'the backup over TLS');
    expect(b.status?.message).toBeUndefined();
    expect(b.status?.phase).toBe('Succeeded');
    expect(b.status?.sizeBytes).toBeGreaterThan(0);
  });
});
