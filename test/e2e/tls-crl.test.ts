/**
 * Goal: --client-crl-file keeps out a client whose certificate the list revokes, as etcd 3.4 does, while other
 * certificates of the same CA still work; a member started without the list lets the same certificate in.
 * Method: test/harness/certs.ts makes a CA, a server certificate and two client certificates, and a CRL (openssl ca)
 * revoking one of them; on etcd 3.4 and Corvid, a member with --client-cert-auth --trusted-ca-file and
 * --client-crl-file is asked with etcdctl over TLS with each certificate.
 */
import { CertDir } from '../harness/certs.js';
import { etcdctl } from '../harness/etcdctl.js';
import { MEMBER_KINDS, ProcessGroup, type MemberKind } from '../harness/processes.js';
import { startClientCertMember } from '../harness/tls-member.js';
import { waitFor } from '../harness/wait.js';

const certs = new CertDir();
const group = new ProcessGroup();
let crl = '';
beforeAll(() => {
  certs.makeCa('ca');
  certs.makeCert('server', 'server', 'ca', true);
  certs.makeCert('alice', 'alice', 'ca', false);
  certs.makeCert('bob', 'bob', 'ca', false);
  crl = certs.revoke('ca', ['bob']);
});
afterAll(async () => {
  await group.cleanup();
  certs.remove();
});

const clientArgs = (name: string): string[] => ['--cacert', certs.path('ca.crt'), '--cert', certs.path(`${name}.crt`), '--key', certs.path(`${name}.key`)];

describe.each(MEMBER_KINDS.map((kind) => [kind]))('--client-crl-file on %s', (kind: MemberKind) => {
  test.each([
    ['with the list, the revoked certificate is refused', true],
    ['without it, the same certificate is served', false],
  ])('%s', async (_name, withCrl) => {
    const { member, url } = await startClientCertMember(group, kind, certs, withCrl ? ['--client-crl-file', crl] : []);
    try {
      await waitFor(async () => (await etcdctl(url, [...clientArgs('alice'), 'endpoint', 'health'])).code === 0 || member.hasExited(), 20_000, 'the member to answer alice over TLS');
      expect(member.hasExited()).toBe(false);
      expect((await etcdctl(url, [...clientArgs('alice'), 'put', 'k', 'v'])).stdout).toBe('OK\n');
      const bob = await etcdctl(url, [...clientArgs('bob'), '--command-timeout', '3s', 'get', 'k']);
      if (withCrl) expect(bob.code).not.toBe(0);
      else expect(bob.stdout).toBe('k\nv\n');
    } finally {
      await member.stop();
    }
  }, 60_000);
});
