/**
 * Goal: --auto-tls serves an https client URL without --cert-file/--key-file, as etcd 3.4 does: a self-signed
 * certificate (O=etcd, the listen host as SAN, not a CA) written to <data-dir>/fixtures/client/cert.pem, which a
 * client can trust to talk gRPC, and the same certificate again after a restart.
 * Method: on etcd 3.4 and Corvid, start with --auto-tls on an https URL, read the certificate file, put through a
 * grpc-js client that trusts exactly that file, restart, and check the served certificate is the same one.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { freePort, MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

function putOverTls(port: number, ca: Buffer): Promise<string> {
  const client = new etcdserverpb.KVClient(`127.0.0.1:${port}`, credentials.createSsl(ca));
  return new Promise((resolve) => {
    client.put(etcdserverpb.PutRequest.fromPartial({ key: Buffer.from('k'), value: Buffer.from('v') }), new Metadata(), { deadline: new Date(Date.now() + 3_000) }, (err, res) => {
      client.close();
      resolve(err === null ? `revision ${String(res.header?.revision)}` : `error ${err.details}`);
    });
  });
}

async function startAutoTls(kind: MemberKind, port: number, dataDir?: string): Promise<Member> {
  const url = `https://127.0.0.1:${port}`;
  return group.start(kind, { clientPort: port, awaitReady: false, ...(dataDir === undefined ? {} : { dataDir }), extraArgs: ['--listen-client-urls', url, '--advertise-client-urls', url, '--auto-tls'] });
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('--auto-tls on %s', (kind: MemberKind) => {
  test('serves a self-signed certificate a client can trust, the same one after a restart', async () => {
    const port = await freePort();
    let member = await startAutoTls(kind, port);
    const certFile = (m: Member): string => join(m.dataDir, 'fixtures', 'client', 'cert.pem');
    try {
      const pem = await waitFor(async () => readFile(certFile(member)), 20_000, 'the certificate file');
      const cert = new X509Certificate(pem);
      expect({ subject: cert.subject, issuer: cert.issuer, ca: cert.ca, san: cert.subjectAltName }).toEqual({ subject: 'O=etcd', issuer: 'O=etcd', ca: false, san: 'IP Address:127.0.0.1' });
      await waitFor(async () => (await putOverTls(port, pem)).startsWith('revision') || member.hasExited(), 20_000, 'a put over TLS');
      expect(member.hasExited()).toBe(false);
      await member.stop();
      member = await startAutoTls(kind, port, member.dataDir);
      await waitFor(async () => (await putOverTls(port, pem)).startsWith('revision') || member.hasExited(), 20_000, 'a put over TLS after the restart');
      expect((await readFile(certFile(member))).equals(pem)).toBe(true);
    } finally {
      await member.stop();
    }
  }, 60_000);
});
