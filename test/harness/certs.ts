/**
 * Test certificates made with openssl in a temp dir: certificate authorities, and certificates they sign for
 * servers (SAN 127.0.0.1 and localhost, server and client use) or for clients (client use only). For the TLS
 * suites (e2e/tls-*.test.ts); nothing here is meant to be secure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class CertDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'corvid-certs-'));

  path(file: string): string {
    return join(this.dir, file);
  }

  /** `<name>.crt` and `<name>.key`: a self-signed CA. */
  makeCa(name: string): void {
    this.openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
  }

  /**
   * `<name>.crt` and `<name>.key` for `cn`, signed by `ca`; `server` adds server use and the SANs a client checks
   * (`sans` in openssl's form, e.g. 'IP:10.1.2.3'; default IP:127.0.0.1 and DNS:localhost).
   */
  makeCert(name: string, cn: string, ca: string, server: boolean, sans = 'IP:127.0.0.1,DNS:localhost'): void {
    this.openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(this.path(`${name}.ext`), server
      ? `subjectAltName=${sans}\nextendedKeyUsage=serverAuth,clientAuth\n`
      : 'extendedKeyUsage=clientAuth\n');
    this.openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  }

  /** `<ca>.crl.pem`: a revocation list signed by `ca` that revokes the certificates `names` (openssl ca's database in the dir). */
  revoke(ca: string, names: readonly string[]): string {
    writeFileSync(this.path(`${ca}.index.txt`), '');
    writeFileSync(this.path(`${ca}.crlnumber`), '01\n');
    writeFileSync(this.path(`${ca}.cnf`), `[ca]\ndefault_ca = d\n[d]\ndatabase = ${ca}.index.txt\ncrlnumber = ${ca}.crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\n`);
    const signing = ['-config', `${ca}.cnf`, '-keyfile', `${ca}.key`, '-cert', `${ca}.crt`];
    for (const name of names) this.openssl('ca', ...signing, '-revoke', `${name}.crt`);
    this.openssl('ca', ...signing, '-gencrl', '-out', `${ca}.crl.pem`);
    return this.path(`${ca}.crl.pem`);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private openssl(...args: string[]): void {
    execFileSync('openssl', args, { stdio: 'ignore', cwd: this.dir });
  }
}
