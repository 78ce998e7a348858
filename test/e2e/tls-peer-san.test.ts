/**
 * Goal: etcd 3.4's peer client-certificate SAN check (pkg/transport/listener_tls.go): with --peer-client-cert-auth,
 * a peer connection whose client certificate does not name the address it comes from is closed after the handshake
 * and logged as "rejected connection" with etcd's error text; --experimental-peer-skip-client-san-verification turns
 * the check off; a DNS SAN that resolves to the address (localhost) passes.
 * Method: certificates made by openssl; SUBJECT members (etcd under CORVID_TEST_SUBJECT=etcd, which proves the test).
 * A raw TLS client shows whether a connection reaches the peer server (it answers a first request) or is closed. A member joining a one-member cluster (`member add`, then `--initial-cluster-state existing`) listens on
 * 127.0.0.2 and dials from 127.0.0.1: its certificate serves its own listener either way, so only the SAN check on
 * its client side can keep it out.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { CertDir } from '../harness/certs.js';
import { etcdctl } from '../harness/etcdctl.js';
import { freePort, ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const SKIP_FLAG = '--experimental-peer-skip-client-san-verification';
const certs = new CertDir();
const group = new ProcessGroup();
afterAll(async () => {
  await group.cleanup();
  certs.remove();
});

const path = (name: string): string => certs.path(name);

beforeAll(() => {
  certs.makeCa('ca');
  certs.makeCert('m0', 'member', 'ca', true);
  certs.makeCert('ten', 'member', 'ca', true, 'IP:10.1.2.3');
  // The joining member listens on 127.0.0.2 (its listener needs that SAN) and dials from 127.0.0.1.
  certs.makeCert('named', 'member', 'ca', true, 'IP:127.0.0.2,IP:127.0.0.1');
  certs.makeCert('elsewhere', 'member', 'ca', true, 'IP:127.0.0.2');
  certs.makeCert('dns-only', 'member', 'ca', true, 'DNS:localhost');
});

const tlsArgs = (cert: string): string[] => [
  '--peer-cert-file', path(`${cert}.crt`), '--peer-key-file', path(`${cert}.key`), '--peer-trusted-ca-file', path('ca.crt'), '--peer-client-cert-auth',
];

/** A one-member cluster with mutual peer TLS on 127.0.0.1, holding k=v. */
async function startFirst(extra: readonly string[]): Promise<Member> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const peerUrl = `https://127.0.0.1:${peerPort}`;
  const m0 = await group.start(SUBJECT, {
    name: 'm0', clientPort, peerPort, peerFlags: false, heartbeatIntervalMs: 50, electionTimeoutMs: 500,
    extraArgs: ['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `m0=${peerUrl}`, ...tlsArgs('m0'), ...extra],
  });
  await waitFor(async () => (await put(m0, 'k', 'v')) === 'OK\n', 20_000, 'a write through m0');
  return m0;
}

/** Adds m2 (peer URL on `host`) through m0 and starts it with `cert`. */
async function join(m0: Member, host: string, cert: string, extra: readonly string[]): Promise<Member> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const peerUrl = `https://${host}:${peerPort}`;
  const added = await waitFor(async () => {
    const res = await etcdctl(m0.endpoint, ['member', 'add', 'm2', `--peer-urls=${peerUrl}`]);
    return res.code === 0 ? res.stdout : undefined;
  }, 20_000, 'member add m2');
  const initialCluster = /^ETCD_INITIAL_CLUSTER="([^"]*)"$/m.exec(added)?.[1] ?? '';
  return group.start(SUBJECT, {
    name: 'm2', clientPort, peerPort, peerFlags: false, awaitReady: false, heartbeatIntervalMs: 50, electionTimeoutMs: 500,
    extraArgs: [
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', initialCluster, '--initial-cluster-state', 'existing',
      ...tlsArgs(cert), ...extra,
    ],
  });
}

const put = async (m: Member, key: string, value: string): Promise<string> => (await etcdctl(m.endpoint, ['put', key, value])).stdout;
const localGet = async (m: Member, key: string): Promise<string> => (await etcdctl(m.endpoint, ['get', key, '--consistency=s', '--print-value-only'])).stdout;

async function expectJoined(m2: Member): Promise<void> {
  await waitFor(async () => (await localGet(m2, 'k')) === 'v\n', 30_000, `m2 to join and hold k (m2 output:\n${m2.outputTail(10)})`);
}

/** m0's "rejected connection" log lines: etcd's zap JSON. */
function rejections(m0: Member): Array<Record<string, unknown>> {
  return m0.outputTail(400).split('\n').filter((l) => l.includes('"rejected connection"')).map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>);
}

/**
 * Whether a TLS connection presenting `cert` reaches m0's peer server ('served': it answers a first request) or is
 * closed unanswered. etcd's peer server answers HTTP/1.1 (its h2 path expects gRPC over a second TLS layer); Corvid's
 * is gRPC, answering an HTTP/2 preface with SETTINGS.
 */
function rawConnect(port: number, cert: string): Promise<'served' | 'closed'> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1', port, ca: readFileSync(path('ca.crt')), cert: readFileSync(path(`${cert}.crt`)), key: readFileSync(path(`${cert}.key`)),
      ALPNProtocols: [SUBJECT === 'etcd' ? 'http/1.1' : 'h2'],
    }, () => {
      socket.write(SUBJECT === 'etcd'
        ? 'GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
        : Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    });
    const done = (outcome: 'served' | 'closed'): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    // Far longer than a local handshake and answer take; a refused connection is closed well before.
    const timer = setTimeout(() => done('closed'), 10_000);
    socket.once('data', () => done('served'));
    socket.once('close', () => done('closed'));
    socket.once('error', () => done('closed'));
  });
}

describe(`peer client-certificate SAN check (${SUBJECT})`, () => {
  afterEach(async () => group.cleanup());

  test('a connection whose certificate names only 10.1.2.3 is closed and logged; one naming 127.0.0.1 is served', async () => {
    const m0 = await startFirst([]);
    expect(await rawConnect(m0.peerPort, 'm0')).toBe('served');
    expect(await rawConnect(m0.peerPort, 'ten')).toBe('closed');
    const logged = await waitFor(() => rejections(m0)[0], 10_000, 'the rejected connection on m0');
    expect(logged).toMatchObject({
      level: 'warn', 'server-name': '', 'ip-addresses': ['10.1.2.3'], 'dns-names': [], error: 'x509: certificate is valid for 10.1.2.3, not 127.0.0.1',
    });
    expect(logged['remote-addr']).toMatch(/^127\.0\.0\.1:\d+$/);
  }, 60_000);

  test('with --experimental-peer-skip-client-san-verification that connection is served', async () => {
    const m0 = await startFirst([SKIP_FLAG]);
    expect(await rawConnect(m0.peerPort, 'ten')).toBe('served');
    expect(rejections(m0)).toEqual([]);
  }, 60_000);

  test('a member whose certificate names 127.0.0.1 joins', async () => {
    const m0 = await startFirst([]);
    await expectJoined(await join(m0, '127.0.0.2', 'named', []));
    expect(rejections(m0)).toEqual([]);
  }, 90_000);

  test('a member whose certificate names only 127.0.0.2 never joins', async () => {
    const m0 = await startFirst([]);
    const m2 = await join(m0, '127.0.0.2', 'elsewhere', []);
    const logged = await waitFor(() => rejections(m0)[0], 30_000, 'the rejected connection on m0');
    expect(logged).toMatchObject({ 'ip-addresses': ['127.0.0.2'], error: 'x509: certificate is valid for 127.0.0.2, not 127.0.0.1' });
    // Long enough for a member that could reach m0 to catch up many times over.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await localGet(m2, 'k').catch(() => '')).toBe('');
  }, 90_000);

  test('with --experimental-peer-skip-client-san-verification that member joins', async () => {
    const m0 = await startFirst([SKIP_FLAG]);
    await expectJoined(await join(m0, '127.0.0.2', 'elsewhere', [SKIP_FLAG]));
  }, 90_000);

  test('a member whose certificate has only DNS SAN localhost joins (it resolves to 127.0.0.1)', async () => {
    const m0 = await startFirst([]);
    await expectJoined(await join(m0, 'localhost', 'dns-only', []));
    expect(rejections(m0)).toEqual([]);
  }, 90_000);
});
