/**
 * TLS on the client URLs, as etcd 3.4's `--cert-file --key-file --trusted-ca-file --client-cert-auth`:
 * connections to an https URL are TLS (plain text is refused by the handshake), then sniffed for
 * gRPC or HTTP/1 like plain ones (client-listener.ts). With --client-cert-auth a client must show
 * a certificate signed by the trusted CA; its Subject CN is then the caller's user when a request
 * carries no token (etcd's AuthInfoFromTLS). The files are looked at on every new connection and
 * re-read when they changed, so certificates rotate without a restart (etcd re-reads them per
 * handshake).
 */
import type tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { TlsConfig } from '../config/index.js';
import { createReloadingTlsServer, identityAllowed, verifiedCommonName } from '../util/tls-server.js';

/** Set on a client connection (and on any stream that wraps it) to the verified client certificate's CN. */
export const PEER_COMMON_NAME = Symbol.for('corvid.peerCommonName');

export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

/** etcd's check: an https client URL needs a certificate and key. */
export function checkClientTls(urls: readonly string[], config: TlsConfig): void {
  for (const url of urls) {
    if (url.startsWith('https://') && (config.certFile === '' || config.keyFile === '')) {
      throw new TlsConfigError(`TLS key/cert (--cert-file, --key-file) must be provided for client url ${url} with HTTPS scheme`);
    }
  }
}

/** The client listener's TLS server; a verified client certificate's CN is kept on the socket. */
export function createClientTlsServer(config: TlsConfig, onSecureSocket: (socket: tls.TLSSocket) => void): tls.Server {
  return createReloadingTlsServer(config, (socket) => {
    // --client-cert-allowed-hostname: a verified certificate that does not cover it is let go.
    if (!identityAllowed(socket, { hostname: config.allowedHostname })) {
      socket.destroy();
      return;
    }
    const cn = verifiedCommonName(socket);
    if (cn !== undefined) (socket as unknown as Record<symbol, string>)[PEER_COMMON_NAME] = cn;
    onSecureSocket(socket);
  });
}

/** Carries a connection's verified CN over to a stream that wraps it. */
export function carryPeerIdentity<T extends Duplex>(from: Duplex, to: T): T {
  const cn = (from as unknown as Record<symbol, string | undefined>)[PEER_COMMON_NAME];
  if (cn !== undefined) (to as unknown as Record<symbol, string>)[PEER_COMMON_NAME] = cn;
  return to;
}
