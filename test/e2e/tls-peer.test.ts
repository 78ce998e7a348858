/**
 * Goal: peer TLS as etcd 3.4's `--peer-cert-file --peer-key-file --peer-trusted-ca-file --peer-client-cert-auth
 * --peer-cert-allowed-cn`: members on https peer URLs with mutual TLS form a cluster and replicate; a member whose
 * peer certificate comes from another CA, or carries a CN other than the allowed one, is kept out — the other two
 * keep a quorum and serve, and it never receives their writes.
 * Method: certificates made by openssl in a temp dir; 3 SUBJECT members (etcd under CORVID_TEST_SUBJECT=etcd, which
 * proves the test) started with https peer URLs on fixed ports; etcdctl 3.4 on their (plain) client URLs.
 */
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
  }, 90_000);

  test('a member whose peer certificate comes from another CA is kept out', async () => {
    await expectKeptOut(await startCluster((name) => (name === 'm2' ? 'rogue' : name), []));
  }, 90_000);

  test('--peer-cert-allowed-cn keeps out a trusted certificate with another CN', async () => {
    await expectKeptOut(await startCluster((name) => (name === 'm2' ? 'intruder' : name), ['--peer-cert-allowed-cn', 'member']));
  }, 90_000);
});
