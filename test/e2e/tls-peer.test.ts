/**
 * Goal: peer TLS as etcd 3.4's `--peer-cert-file --peer-key-file --peer-trusted-ca-file --peer-client-cert-auth
 * --peer-cert-allowed-cn`: members on https peer URLs with mutual TLS form a cluster and replicate; a member whose
 * peer certificate comes from another CA, or carries a CN other than the allowed one, is kept out — the other two
 * keep a quorum and serve, and it never receives their writes; a member's replaced certificate files are served to
 * its next peer connection without a restart.
 * Method: certificates made by openssl in a temp dir; 3 SUBJECT members (etcd under CORVID_TEST_SUBJECT=etcd, which
 * proves the test) started with https peer URLs on fixed ports; etcdctl 3.4 on their (plain) client URLs.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import tls from 'node:tls';
import { CertDir } from '../harness/certs.js';
import { etcdctl } from '../harness/etcdctl.js';
import { freePort, ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const certs = new CertDir();
const group = new ProcessGroup();
afterAll(async () => {
  await group.cleanup();
  certs.remove();
});

const path = (name: string): string => certs.path(name);
const makeCa = (name: string): void => certs.makeCa(name);
/** A peer certificate (server and client use, SAN 127.0.0.1) for `cn`, signed by `ca`. */
const makePeerCert = (name: string, cn: string, ca: string): void => certs.makeCert(name, cn, ca, true);

beforeAll(() => {
  makeCa('ca');
  makeCa('rogue-ca');
  for (const m of ['m0', 'm1', 'm2']) makePeerCert(m, 'member', 'ca');
  makePeerCert('m0-rotated', 'member-rotated', 'ca');
  makePeerCert('rogue', 'member', 'rogue-ca');
  makePeerCert('intruder', 'intruder', 'ca');
});

interface Slot { readonly name: string; readonly clientPort: number; readonly peerPort: number }

/** Starts 3 members with mutual peer TLS; `certOf` names each member's certificate files. */
async function startCluster(certOf: (name: string) => string, extra: readonly string[]): Promise<Member[]> {
  const slots: Slot[] = [];
  for (const name of ['m0', 'm1', 'm2']) slots.push({ name, clientPort: await freePort(), peerPort: await freePort() });
  const initialCluster = slots.map((s) => `${s.name}=https://127.0.0.1:${s.peerPort}`).join(',');
  const token = `peer-tls-${Date.now()}`;
  return Promise.all(slots.map(async (s) => {
    const peerUrl = `https://127.0.0.1:${s.peerPort}`;
    return group.start(SUBJECT, {
      name: s.name, clientPort: s.clientPort, peerPort: s.peerPort, peerFlags: false, awaitReady: false,
      heartbeatIntervalMs: 50, electionTimeoutMs: 500,
      extraArgs: [
        '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', initialCluster, '--initial-cluster-token', token,
        '--peer-cert-file', path(`${certOf(s.name)}.crt`), '--peer-key-file', path(`${certOf(s.name)}.key`),
        '--peer-trusted-ca-file', path('ca.crt'), '--peer-client-cert-auth', ...extra,
      ],
    });
  }));
}

/** The CN of the certificate a new peer connection is served (as m1, whose certificate the peers trust). */
function servedCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(path('ca.crt')), cert: readFileSync(path('m1.crt')), key: readFileSync(path('m1.key')), ALPNProtocols: ['h2'] }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.end();
      resolve(typeof cn === 'string' ? cn : '');
    });
    socket.once('error', reject);
  });
}

const put = async (m: Member, key: string, value: string): Promise<string> => (await etcdctl(m.endpoint, ['put', key, value])).stdout;
const localGet = async (m: Member, key: string): Promise<string> => (await etcdctl(m.endpoint, ['get', key, '--consistency=s', '--print-value-only'])).stdout;

async function expectKeptOut(members: Member[]): Promise<void> {
  const [m0, m1, m2] = members as [Member, Member, Member];
  await waitFor(async () => (await put(m0, 'k', 'v')) === 'OK\n', 30_000, 'the two trusted members to commit a write');
  await waitFor(async () => (await localGet(m1, 'k')) === 'v\n', 10_000, 'the write on m1');
  // Long enough for a member that could talk to its peers to catch up many times over.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(await localGet(m2, 'k')).toBe('');
}

describe(`peer TLS (${SUBJECT})`, () => {
  afterEach(async () => group.cleanup());

  test('members with mutual peer TLS form a cluster and replicate', async () => {
    const members = await startCluster((name) => name, []);
    const [m0, , m2] = members as [Member, Member, Member];
    await waitFor(async () => (await put(m0, 'k', 'v')) === 'OK\n', 30_000, 'a write through m0');
    await waitFor(async () => (await localGet(m2, 'k')) === 'v\n', 10_000, 'the write on m2');
    const list = await etcdctl(m0.endpoint, ['member', 'list']);
    expect(list.stdout.match(/https:\/\/127\.0\.0\.1:\d+/g)?.length).toBe(3);
    // Rotation: m0's certificate files replaced; its next peer connection is served the new certificate.
    expect(await servedCn(m0.peerPort)).toBe('member');
    copyFileSync(path('m0.crt'), path('m0-original.crt'));
    copyFileSync(path('m0.key'), path('m0-original.key'));
    copyFileSync(path('m0-rotated.crt'), path('m0.crt'));
    copyFileSync(path('m0-rotated.key'), path('m0.key'));
    await waitFor(async () => (await servedCn(m0.peerPort)) === 'member-rotated', 10_000, 'the rotated peer certificate');
    await waitFor(async () => (await put(m2, 'k2', 'v2')) === 'OK\n', 10_000, 'a write through m2');
    await waitFor(async () => (await localGet(m0, 'k2')) === 'v2\n', 10_000, 'the write on m0');
    copyFileSync(path('m0-original.crt'), path('m0.crt'));
    copyFileSync(path('m0-original.key'), path('m0.key'));
  }, 90_000);

  test('a member whose peer certificate comes from another CA is kept out', async () => {
    await expectKeptOut(await startCluster((name) => (name === 'm2' ? 'rogue' : name), []));
  }, 90_000);

  test('--peer-cert-allowed-cn keeps out a trusted certificate with another CN', async () => {
    await expectKeptOut(await startCluster((name) => (name === 'm2' ? 'intruder' : name), ['--peer-cert-allowed-cn', 'member']));
  }, 90_000);
});
