/**
 * Certificates for TLS member pods, as Kubernetes Secrets: a CA per side, and a certificate it signs whose
 * SANs are every name and address the member is reached by (its pod addresses and the peer Service's DNS
 * names), usable for server and client authentication — members present it to each other, and the operator
 * presents the client Secret's certificate to the members. Made with openssl in a CertDir (test/harness/certs.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { CertDir } from '../certs.js';

export class MemberCerts {
  readonly dir = new CertDir();

  /** `<name>.crt`/`.key` signed by `<ca>` (made with CertDir.makeCa), with these SANs. */
  makeMemberCert(name: string, ca: string, ips: readonly string[], dnsNames: readonly string[]): void {
    const run = (...args: string[]): void => {
      execFileSync('openssl', args, { stdio: 'ignore', cwd: this.dir.dir });
    };
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    const sans = [...ips.map((ip) => `IP:${ip}`), ...dnsNames.map((d) => `DNS:${d}`)].join(',');
    writeFileSync(this.dir.path(`${name}.ext`), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  }

  /** A Secret body in the operator's layout: ca.crt, tls.crt, tls.key (base64, as the API stores `data`). */
  secret(secretName: string, ca: string, cert: string): { metadata: { name: string }; type: string; data: Record<string, string> } {
    const b64 = (file: string): string => readFileSync(this.dir.path(file)).toString('base64');
    return { metadata: { name: secretName }, type: 'kubernetes.io/tls', data: { 'ca.crt': b64(`${ca}.crt`), 'tls.crt': b64(`${cert}.crt`), 'tls.key': b64(`${cert}.key`) } };
  }

  read(file: string): Buffer {
    return readFileSync(this.dir.path(file));
  }
}
