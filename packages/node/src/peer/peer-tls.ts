/**
 * Peer TLS, as etcd 3.4's `--peer-cert-file --peer-key-file --peer-trusted-ca-file --peer-client-cert-auth
 * --peer-cert-allowed-cn`: the peer listeners on https URLs are Node TLS servers (util/tls-server.ts: certificates
 * re-read when their files change; with client-cert-auth, a certificate signed by the trusted CA is required; with
 * an allowed CN, a connection whose verified certificate has another CN is dropped once the handshake is done) that
 * hand each connection to the gRPC server; every member-to-member client (Raft streams, snapshots, membership and
 * lease calls) dials https peer URLs with the same certificate as its client certificate, re-read when it changes.
 * With client-cert-auth, a connection whose client certificate does not name the address it comes from is closed
 * and logged as etcd's "rejected connection" (client-san.ts), unless --experimental-peer-skip-client-san-verification.
 */
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { credentials, experimental, ServerCredentials, type ChannelCredentials, type Server } from '@grpc/grpc-js';
import type tls from 'node:tls';
import { guardDestroyedStreams } from '../util/grpc-stream-guard.js';
import type { Logger } from '../util/logger.js';
import { createReloadingTlsServer, identityAllowed } from '../util/tls-server.js';
import { canonicalIp, checkClientSan, sansOf, type SanResolver, systemResolver } from './client-san.js';

export interface PeerTlsOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly clientCertAuth: boolean;
  readonly allowedCn: string;
  /** --peer-cert-allowed-hostname ('' or absent: any). */
  readonly allowedHostname?: string;
  /** --peer-crl-file ('' or absent: none), checked by the peer listener's TLS server. */
  readonly crlFile?: string;
  /** --cipher-suites as OpenSSL's list ('' or absent: the defaults), for the peer listener. */
  readonly ciphers?: string;
  /** --experimental-peer-skip-client-san-verification: accept a client certificate that does not name the peer's address. */
  readonly skipClientSanVerify?: boolean;
}

/** How often the dialling side looks at its certificate files for changes. */
const CERT_REFRESH_MS = 5_000;

export class PeerTls {
  readonly enabled: boolean;
  private readonly channel: ChannelCredentials;

  constructor(
    private readonly options: PeerTlsOptions,
    private readonly logger?: Logger,
    private readonly resolver: SanResolver = systemResolver,
  ) {
    this.enabled = options.certFile !== '' && options.keyFile !== '';
    if (!this.enabled) {
      this.channel = credentials.createInsecure();
    } else if (options.trustedCaFile !== '') {
      const identity = new experimental.FileWatcherCertificateProvider({ certificateFile: options.certFile, privateKeyFile: options.keyFile, refreshIntervalMs: CERT_REFRESH_MS });
      const ca = new experimental.FileWatcherCertificateProvider({ caCertificateFile: options.trustedCaFile, refreshIntervalMs: CERT_REFRESH_MS });
      this.channel = experimental.createCertificateProviderChannelCredentials(ca, identity);
    } else {
      // No CA of our own: peers are verified against the system's roots.
      this.channel = credentials.createSsl(null, readFileSync(options.keyFile), readFileSync(options.certFile));
    }
  }

  /** What peer clients dial with. */
  channelCredentials(): ChannelCredentials {
    return this.channel;
  }

  /** Whether a peer URL can be dialled: http://, or https:// once peer TLS is configured. */
  dials(url: string): boolean {
    if (!URL.canParse(url)) return false;
    const parsed = new URL(url);
    return parsed.host !== '' && (parsed.protocol === 'http:' || (parsed.protocol === 'https:' && this.enabled));
  }

  /** Serves `server` on an https peer URL; refused without a certificate, as etcd refuses to start. */
  async listen(url: string, server: Server): Promise<{ address: string; close(): Promise<void> }> {
    if (!this.enabled) throw new Error(`TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url ${url} with HTTPS scheme`);
    const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
    guardDestroyedStreams(server);
    const allowed = { cn: this.options.allowedCn, hostname: this.options.allowedHostname ?? '' };
    const sanChecked = this.options.clientCertAuth && this.options.skipClientSanVerify !== true;
    let closed = false;
    const tlsServer = createReloadingTlsServer(this.options, (socket) => {
      if (!identityAllowed(socket, allowed)) {
        socket.destroy();
        return;
      }
      if (!sanChecked) {
        injector.injectConnection(socket);
        return;
      }
      // The connection waits (its bytes buffered) until the lookups behind the SAN check answer.
      this.sanRefusal(socket).then((refusal) => {
        if (refusal === undefined && !closed && !socket.destroyed) injector.injectConnection(socket);
        else socket.destroy();
      }, () => socket.destroy());
    });
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    await new Promise<void>((resolve, reject) => {
      tlsServer.once('error', reject);
      tlsServer.listen(Number(parsed.port === '' ? '443' : parsed.port), host === 'localhost' ? '127.0.0.1' : host, () => {
        tlsServer.off('error', reject);
        resolve();
      });
    });
    const bound = tlsServer.address() as net.AddressInfo;
    return {
      address: `https://${parsed.hostname}:${bound.port}`,
      // Peer streams never end on their own: cut them (senders redial).
      close: () => {
        closed = true;
        tlsServer.close();
        injector.destroy();
        server.forceShutdown();
        return Promise.resolve();
      },
    };
  }

  /** etcd's SAN check on a verified peer connection: undefined to admit it, else the refusal (logged as etcd's). */
  private async sanRefusal(socket: tls.TLSSocket): Promise<string | undefined> {
    const raw = socket.getPeerCertificate().raw as Buffer | undefined;
    const remote = socket.remoteAddress;
    // No certificate (Go: no PeerCertificates) or an already-closed socket: nothing to check.
    if (raw === undefined || remote === undefined) return undefined;
    const sans = sansOf(raw);
    const refusal = await checkClientSan(sans, remote, this.resolver);
    if (refusal !== undefined) {
      const host = canonicalIp(remote);
      this.logger?.warn('rejected connection', {
        'remote-addr': `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? 0}`,
        'server-name': typeof socket.servername === 'string' ? socket.servername : '',
        'ip-addresses': sans.ips,
        'dns-names': sans.dnsNames,
        error: refusal,
      });
    }
    return refusal;
  }
}
