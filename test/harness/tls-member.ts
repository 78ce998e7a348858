/**
 * A member (etcd or Corvid) serving its client URL over TLS with client-certificate authentication: the server
 * certificate `server` and the CA `ca` of a CertDir, plus the flags under test. Not awaited ready (the caller
 * decides what "ready" means when some certificates are refused).
 */
import net from 'node:net';
import type { CertDir } from './certs.js';
import { freePort, type Member, type MemberKind, type ProcessGroup } from './processes.js';

export async function startClientCertMember(group: ProcessGroup, kind: MemberKind, certs: CertDir, extraArgs: readonly string[]): Promise<{ member: Member; url: string; port: number }> {
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const member = await group.start(kind, {
    clientPort: port,
    awaitReady: false,
    extraArgs: [
      '--listen-client-urls', url, '--advertise-client-urls', url, '--cert-file', certs.path('server.crt'), '--key-file', certs.path('server.key'),
      '--client-cert-auth', '--trusted-ca-file', certs.path('ca.crt'), ...extraArgs,
    ],
  });
  return { member, url, port };
}

/** Whether 127.0.0.1:`port` takes TCP connections: "started" for a member that lets no test certificate in. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
