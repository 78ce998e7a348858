/**
 * Goal: --cipher-suites (Go's names) restricts the TLS 1.2 suites a member's client listener accepts, as etcd 3.4
 * does, and leaves TLS 1.3 alone (Go's TLS 1.3 suites are not configurable).
 * Method: on etcd 3.4 and Corvid, a member with TLS client-certificate auth and --cipher-suites
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256; raw TLS 1.2 handshakes offering only that suite, and only another one, and
 * a TLS 1.3 handshake.
 */
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { CertDir } from '../harness/certs.js';
import { MEMBER_KINDS, ProcessGroup, type MemberKind } from '../harness/processes.js';
import { portOpen, startClientCertMember } from '../harness/tls-member.js';
import { waitFor } from '../harness/wait.js';

const certs = new CertDir();
const group = new ProcessGroup();
beforeAll(() => {
  certs.makeCa('ca');
  certs.makeCert('server', 'server', 'ca', true);
  certs.makeCert('alice', 'alice', 'ca', false);
});
afterAll(async () => {
  await group.cleanup();
  certs.remove();
});

/** The negotiated suite, or 'refused' when the handshake fails. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1', port, ca: readFileSync(certs.path('ca.crt')), cert: readFileSync(certs.path('alice.crt')), key: readFileSync(certs.path('alice.key')),
      servername: 'localhost', ALPNProtocols: ['h2'], ...options,
    }, () => {
      const suite = socket.getCipher().name;
      socket.destroy();
      resolve(suite);
    });
    socket.once('error', () => resolve('refused'));
  });
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('--cipher-suites on %s', (kind: MemberKind) => {
  test('TLS 1.2 only with the listed suite; TLS 1.3 as before', async () => {
    const { member, port } = await startClientCertMember(group, kind, certs, ['--cipher-suites', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']);
    try {
      await waitFor(async () => member.hasExited() || (await portOpen(port)), 20_000, 'the client port to open');
      expect(member.hasExited()).toBe(false);
      const tls12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
      expect(await handshake(port, { ...tls12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toBe('ECDHE-RSA-AES128-GCM-SHA256');
      expect(await handshake(port, { ...tls12, ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' })).toBe('refused');
      expect(await handshake(port, { minVersion: 'TLSv1.3' })).toMatch(/^TLS_/);
    } finally {
      await member.stop();
    }
  }, 60_000);
});
