/**
 * Goal: client TLS as etcd 3.4's `--cert-file --key-file --trusted-ca-file --client-cert-auth`: an https client URL
 * serves gRPC and HTTP over TLS; a plain-text client and a client that does not trust the server's CA get nothing;
 * with --client-cert-auth, a client without a certificate or with one from another CA is refused, and once auth is
 * on a certificate's CN is the user when no token is sent; replacing the certificate files takes effect for new
 * connections without a restart.
 * Method: certificates made by openssl in a temp dir (a trusted CA, a rogue CA, server and client certificates);
 * SUBJECT members (etcd under CORVID_TEST_SUBJECT=etcd, which proves the test) on https URLs; etcdctl 3.4, grpc-js
 * and node's tls/https as clients.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { credentials, Metadata } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { CertDir } from '../harness/certs.js';
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
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
const makeCert = (name: string, cn: string, ca: string, server: boolean): void => certs.makeCert(name, cn, ca, server);

beforeAll(() => {
  makeCa('ca');
  makeCa('rogue-ca');
  makeCert('server', 'server-1', 'ca', true);
  makeCert('server2', 'server-2', 'ca', true);
  makeCert('root', 'root', 'ca', false);
  makeCert('alice', 'alice', 'ca', false);
  makeCert('mallory', 'alice', 'rogue-ca', false);
  // The member reads these two names; rotation overwrites them.
  copyFileSync(path('server.crt'), path('live.crt'));
  copyFileSync(path('server.key'), path('live.key'));
});

/** A SUBJECT member whose client URL is https; ready once etcdctl over TLS answers. */
async function startTls(extra: readonly string[], client: readonly string[]): Promise<{ member: Member; url: string }> {
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const member = await group.start(SUBJECT, {
    clientPort: port,
    awaitReady: false,
    extraArgs: ['--listen-client-urls', url, '--advertise-client-urls', url, '--cert-file', path('live.crt'), '--key-file', path('live.key'), ...extra],
  });
  await waitFor(async () => (await ctl(url, client, ['endpoint', 'health'])).code === 0 || member.hasExited(), 20_000, 'the member to answer over TLS');
  if (member.hasExited()) throw new Error(`the member exited:\n${member.outputTail(30)}`);
  return { member, url };
}

const ctl = (url: string, tlsArgs: readonly string[], args: readonly string[]): Promise<EtcdctlResult> => etcdctl(url, [...tlsArgs, ...args]);
const CA = ['--cacert', path('ca.crt')];
const cert = (name: string): string[] => [...CA, '--cert', path(`${name}.crt`), '--key', path(`${name}.key`)];
const errorLine = (r: EtcdctlResult): string => r.stderr.split('\n').filter((l) => l.startsWith('Error:')).join('\n');

/** The CN of the certificate a new TLS connection is served. */
function servedCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: [], rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.end();
      resolve(typeof cn === 'string' ? cn : '');
    });
    socket.once('error', reject);
  });
}

function plainRange(port: number): Promise<string> {
  const client = new etcdserverpb.KVClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise((resolve) => {
    client.range(etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from('a') }), new Metadata(), { deadline: new Date(Date.now() + 2_000) }, (err) => {
      client.close();
      resolve(err === null ? 'served' : 'refused');
    });
  });
}

function httpsHealth(port: number, ca: Buffer | undefined): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/health', ...(ca === undefined ? {} : { ca }), timeout: 3_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(`${res.statusCode ?? 0} ${body.trim()}`));
    });
    req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
  });
}

describe(`client TLS (${SUBJECT})`, () => {
  test('serves gRPC and HTTP over TLS, refuses plain text and untrusting clients, and rotates certificates', async () => {
    const { member, url } = await startTls([], CA);
    expect((await ctl(url, CA, ['put', 'k', 'v'])).stdout).toBe('OK\n');
    expect((await ctl(url, CA, ['get', 'k'])).stdout).toBe('k\nv\n');
    expect(await httpsHealth(member.port, readFileSync(path('ca.crt')))).toBe('200 {"health":"true"}');
    expect(await httpsHealth(member.port, undefined)).toMatch(/^error /);
    expect(await plainRange(member.port)).toBe('refused');
    const untrusting = await ctl(url, [], ['get', 'k']);
    expect(untrusting.code).not.toBe(0);
    // Rotation: new files, same names; the next connection is served the new certificate.
    expect(await servedCn(member.port)).toBe('server-1');
    copyFileSync(path('server2.crt'), path('live.crt'));
    copyFileSync(path('server2.key'), path('live.key'));
    await waitFor(async () => (await servedCn(member.port)) === 'server-2', 10_000, 'the rotated certificate');
    expect((await ctl(url, CA, ['get', 'k'])).stdout).toBe('k\nv\n');
    copyFileSync(path('server.crt'), path('live.crt'));
    copyFileSync(path('server.key'), path('live.key'));
  }, 90_000);

  test('--client-cert-auth: only certificates of the trusted CA, and their CN is the user once auth is on', async () => {
    const { url } = await startTls(['--client-cert-auth', '--trusted-ca-file', path('ca.crt')], cert('root'));
    expect((await ctl(url, cert('alice'), ['put', 'k', 'v'])).stdout).toBe('OK\n');
    expect((await ctl(url, CA, ['get', 'k'])).code).not.toBe(0);
    expect((await ctl(url, cert('mallory'), ['get', 'k'])).code).not.toBe(0);

    // Auth on: the root certificate acts as root, alice's as alice (no --user, no token).
    const asRoot = cert('root');
    for (const args of [['user', 'add', 'root:rootpw'], ['auth', 'enable'], ['user', 'add', 'alice:apw'], ['role', 'add', 'app'],
      ['role', 'grant-permission', 'app', 'readwrite', '/app/', '--prefix'], ['user', 'grant-role', 'alice', 'app']]) {
      const r = await ctl(url, asRoot, args);
      expect(`${args.join(' ')}: ${r.code} ${errorLine(r)}`).toBe(`${args.join(' ')}: 0 `);
    }
    expect((await ctl(url, cert('alice'), ['put', '/app/a', '1'])).stdout).toBe('OK\n');
    expect(errorLine(await ctl(url, cert('alice'), ['put', '/other', '1']))).toBe('Error: etcdserver: permission denied');
    expect(errorLine(await ctl(url, cert('alice'), ['user', 'list']))).toBe('Error: etcdserver: permission denied');
    expect((await ctl(url, asRoot, ['user', 'list'])).stdout).toBe('alice\nroot\n');
    // A token still wins over the certificate.
    expect(errorLine(await ctl(url, [...asRoot, '--user', 'alice:apw'], ['user', 'list']))).toBe('Error: etcdserver: permission denied');
  }, 90_000);
});
