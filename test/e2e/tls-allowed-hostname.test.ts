/**
 * Goal: --client-cert-allowed-hostname lets in only client certificates whose SANs cover the hostname, as etcd 3.4
 * does (Go's VerifyHostname: a certificate without SANs covers none), among certificates the trusted CA signed.
 * Method: test/harness/certs.ts makes a CA, a server certificate and two client certificates — one with the SANs
 * 127.0.0.1 and localhost, one with none; on etcd 3.4 and Corvid, a member with --client-cert-auth and
 * --client-cert-allowed-hostname localhost (then another hostname) is asked with etcdctl over TLS with each.
 */
import { CertDir } from '../harness/certs.js';
import { etcdctl } from '../harness/etcdctl.js';
import { MEMBER_KINDS, ProcessGroup, type MemberKind } from '../harness/processes.js';
import { portOpen, startClientCertMember } from '../harness/tls-member.js';
import { waitFor } from '../harness/wait.js';

const certs = new CertDir();
const group = new ProcessGroup();
beforeAll(() => {
  certs.makeCa('ca');
  certs.makeCert('server', 'server', 'ca', true);
  // makeCert's server certificates carry SANs (and client use); plain client certificates carry none.
  certs.makeCert('local', 'local-client', 'ca', true);
  certs.makeCert('plain', 'plain-client', 'ca', false);
});
afterAll(async () => {
  await group.cleanup();
  certs.remove();
});

const clientArgs = (name: string): string[] => ['--cacert', certs.path('ca.crt'), '--cert', certs.path(`${name}.crt`), '--key', certs.path(`${name}.key`), '--command-timeout', '3s'];

describe.each(MEMBER_KINDS.map((kind) => [kind]))('--client-cert-allowed-hostname on %s', (kind: MemberKind) => {
  test.each([
    ['localhost: the certificate with that SAN is in, the one without SANs is out', 'localhost', { local: true, plain: false }],
    ['another hostname: both are out', 'example.com', { local: false, plain: false }],
  ])('%s', async (_name, hostname, expected) => {
    const { member, url, port } = await startClientCertMember(group, kind, certs, ['--client-cert-allowed-hostname', hostname]);
    try {
      // Ready once its client port takes connections (no certificate may be let in, so etcdctl cannot tell).
      await waitFor(async () => member.hasExited() || (await portOpen(port)), 20_000, 'the client port to open');
      expect(member.hasExited()).toBe(false);
      const served = async (name: string): Promise<boolean> => (await etcdctl(url, [...clientArgs(name), 'put', 'k', name])).code === 0;
      expect({ local: await served('local'), plain: await served('plain') }).toEqual(expected);
    } finally {
      await member.stop();
    }
  }, 60_000);
});
