/**
 * Peer TLS, as etcd 3.4's `--peer-cert-file --peer-key-file --peer-trusted-ca-file --peer-client-cert-auth
 * --peer-cert-allowed-cn`: the peer listeners serve TLS (and, with client-cert-auth, require a certificate signed by
 * the trusted CA), and every member-to-member client (Raft streams, snapshots, membership and lease calls) dials
 * https peer URLs with the same certificate as its client certificate. The dialling side watches the files
 * (grpc-js's FileWatcherCertificateProvider); the listener reads them at start. With an allowed CN, a
 * peer whose verified certificate has another CN is refused (etcd refuses it at the handshake; here its calls are
 * refused with PERMISSION_DENIED before they reach the service).
 */
import { readFileSync } from 'node:fs';
import {
  credentials, experimental, ServerCredentials, status,
  type ChannelCredentials, type ServiceDefinition, type UntypedServiceImplementation,
} from '@grpc/grpc-js';

export interface PeerTlsOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly clientCertAuth: boolean;
  readonly allowedCn: string;
}

/** How often the certificate files are looked at for changes. */
const CERT_REFRESH_MS = 5_000;

export class PeerTls {
  readonly enabled: boolean;
  private readonly channel: ChannelCredentials;
  private readonly server: ServerCredentials;

  constructor(private readonly options: PeerTlsOptions) {
    this.enabled = options.certFile !== '' && options.keyFile !== '';
    if (!this.enabled) {
      this.channel = credentials.createInsecure();
      this.server = ServerCredentials.createInsecure();
      return;
    }
    // The listener's certificate is read at start: grpc-js's certificate-provider server credentials
    // (which would re-read it) fail every handshake in 1.14, so a rotated peer server certificate
    // takes a restart. The dialling side watches its files.
    const cert = readFileSync(options.certFile);
    const key = readFileSync(options.keyFile);
    const ca = options.trustedCaFile === '' ? null : readFileSync(options.trustedCaFile);
    this.server = ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], options.clientCertAuth);
    if (options.trustedCaFile !== '') {
      const identity = new experimental.FileWatcherCertificateProvider({ certificateFile: options.certFile, privateKeyFile: options.keyFile, refreshIntervalMs: CERT_REFRESH_MS });
      const caProvider = new experimental.FileWatcherCertificateProvider({ caCertificateFile: options.trustedCaFile, refreshIntervalMs: CERT_REFRESH_MS });
      this.channel = experimental.createCertificateProviderChannelCredentials(caProvider, identity);
    } else {
      // No CA of our own: peers are verified against the system's roots.
      this.channel = credentials.createSsl(null, key, cert);
    }
  }

  /** What peer clients dial with. */
  channelCredentials(): ChannelCredentials {
    return this.channel;
  }

  /** What the peer listener serves with; an https peer URL without a certificate is refused as etcd refuses it. */
  serverCredentials(url: string): ServerCredentials {
    const https = url.startsWith('https://');
    if (https && !this.enabled) throw new Error(`TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url ${url} with HTTPS scheme`);
    return https ? this.server : ServerCredentials.createInsecure();
  }

  /** Whether a peer URL can be dialled: http://, or https:// once peer TLS is configured. */
  dials(url: string): boolean {
    if (!URL.canParse(url)) return false;
    const parsed = new URL(url);
    return parsed.host !== '' && (parsed.protocol === 'http:' || (parsed.protocol === 'https:' && this.enabled));
  }

  /** The service with every handler refusing a peer whose certificate's CN is not --peer-cert-allowed-cn. */
  guard(definition: ServiceDefinition, implementation: UntypedServiceImplementation): UntypedServiceImplementation {
    const allowed = this.options.allowedCn;
    if (!this.enabled || allowed === '') return implementation;
    const guarded: UntypedServiceImplementation = {};
    for (const name of Object.keys(definition)) {
      const handler = implementation[name] as ((call: GuardedCall, callback?: (err: unknown) => void) => void) | undefined;
      if (handler === undefined) continue;
      guarded[name] = ((call: GuardedCall, callback?: (err: unknown) => void) => {
        const cn = call.getAuthContext?.().sslPeerCertificate?.subject?.CN;
        if (cn === allowed) {
          handler(call, callback);
          return;
        }
        const refusal = { code: status.PERMISSION_DENIED, details: `peer certificate CN ${JSON.stringify(cn ?? '')} is not allowed (--peer-cert-allowed-cn ${allowed})` };
        if (callback !== undefined) callback(refusal);
        else call.emit('error', refusal);
      }) as unknown as UntypedServiceImplementation[string];
    }
    return guarded;
  }
}

interface GuardedCall {
  getAuthContext?: () => { sslPeerCertificate?: { subject?: { CN?: string } } };
  emit(event: 'error', err: unknown): boolean;
}
