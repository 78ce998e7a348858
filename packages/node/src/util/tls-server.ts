/**
 * A tls.Server whose certificate, key and CA are re-read when their files change (etcd re-reads them on each
 * handshake): the files are looked at on every new connection, before its TLS socket is built. Used by the client
 * listeners (api/client-tls.ts) and the peer listeners (peer/peer-tls.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import tls from 'node:tls';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** '' = no CA of our own. */
  readonly trustedCaFile: string;
  /** Require a client certificate signed by the trusted CA. */
  readonly clientCertAuth: boolean;
  /** '' or absent = none: a PEM certificate revocation list; a client certificate it revokes fails the handshake. */
  readonly crlFile?: string;
  /** '' or absent = Node's defaults: the OpenSSL cipher list (--cipher-suites, config/cipher-suites.ts). */
  readonly ciphers?: string;
}

export function createReloadingTlsServer(files: TlsFiles, onSecureSocket: (socket: tls.TLSSocket) => void): tls.Server {
  const crlFile = files.crlFile ?? '';
  const paths = [files.certFile, files.keyFile, files.trustedCaFile, crlFile].filter((f) => f !== '');
  const fingerprint = (): string => paths.map((f) => {
    const st = statSync(f, { throwIfNoEntry: false });
    return st === undefined ? `${f}:-` : `${f}:${st.mtimeMs}:${st.size}`;
  }).join('|');
  const contextOptions = (): tls.SecureContextOptions => ({
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    ...(files.trustedCaFile === '' ? {} : { ca: readFileSync(files.trustedCaFile) }),
    // OpenSSL then checks every certificate of a client's chain against it (etcd: --client-crl-file, --peer-crl-file).
    ...(crlFile === '' ? {} : { crl: readFileSync(crlFile) }),
  });
  let seen = fingerprint();
  const server = tls.createServer({
    ...contextOptions(),
    requestCert: files.clientCertAuth,
    rejectUnauthorized: files.clientCertAuth,
    ALPNProtocols: ['h2', 'http/1.1'],
    ...(files.ciphers === undefined || files.ciphers === '' ? {} : { ciphers: files.ciphers }),
  }, onSecureSocket);
  // Before tls.Server's own listener builds the connection's TLS socket: a changed file applies to it already.
  server.prependListener('connection', () => {
    const now = fingerprint();
    if (now === seen) return;
    try {
      server.setSecureContext(contextOptions());
      seen = now;
    } catch {
      // A rotation caught half-written: keep the previous context and look again at the next connection.
    }
  });
  // A handshake that fails (plain text, an untrusted certificate) ends that connection only.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  return server;
}

/**
 * etcd's allowed-identity check on a verified client certificate (pkg/transport: AllowedCN,
 * AllowedHostname): with neither set anyone the CA signed is in; otherwise the CN must be the
 * allowed CN, or the certificate's SANs must cover the allowed hostname (as Go's VerifyHostname
 * since Go 1.15: a certificate without SANs covers no hostname).
 */
export function identityAllowed(socket: tls.TLSSocket, allowed: { readonly cn?: string; readonly hostname?: string }): boolean {
  const cn = allowed.cn ?? '';
  const hostname = allowed.hostname ?? '';
  if (cn === '' && hostname === '') return true;
  if (cn !== '' && verifiedCommonName(socket) === cn) return true;
  if (hostname === '' || !socket.authorized) return false;
  const cert = socket.getPeerCertificate();
  return typeof cert.subjectaltname === 'string' && cert.subjectaltname !== '' && tls.checkServerIdentity(hostname, cert) === undefined;
}

/** The Subject CN of a TLS socket's verified peer certificate; undefined if unverified or without one. */
export function verifiedCommonName(socket: tls.TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}
