/**
 * The peer server: one gRPC server per --listen-peer-urls URL, serving the transport's Peer
 * service (and whatever else the member serves to its peers): http://, or https:// with peer TLS
 * (peer-tls.ts): then Node's TLS server (certificates re-read when they change; --peer-cert-allowed-cn,
 * --peer-cert-allowed-hostname and the client certificate's SAN against the remote address (client-san.ts)
 * checked once the handshake is done) hands each connection to the gRPC server.
 */
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { guardDestroyedStreams } from '../util/grpc-stream-guard.js';
import { MAX_FRAME_BYTES } from './limits.js';
import { PeerTls } from './peer-tls.js';
import type { PeerTransport } from './transport.js';

/** Listens on one --listen-peer-urls URL (http://host:port; port 0 allowed); returns the bound address and close(). */
export async function listenForPeers(
  url: string,
  transport: PeerTransport,
  /** Other member-to-member services on the same port (membership calls). */
  extraServices: ReadonlyArray<{ definition: ServiceDefinition; implementation: UntypedServiceImplementation }> = [],
  tls: PeerTls = new PeerTls({ certFile: '', keyFile: '', trustedCaFile: '', clientCertAuth: false, allowedCn: '' }),
): Promise<{ address: string; close(): Promise<void> }> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`--listen-peer-urls ${url}: only http:// and https:// are supported`);
  const server = new Server({ 'grpc.max_receive_message_length': MAX_FRAME_BYTES, 'grpc.max_send_message_length': MAX_FRAME_BYTES });
  const { definition, implementation } = transport.service();
  server.addService(definition, implementation);
  for (const extra of extraServices) server.addService(extra.definition, extra.implementation);
  if (parsed.protocol === 'https:') return tls.listen(url, server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${parsed.hostname}:${parsed.port === '' ? '80' : parsed.port}`, ServerCredentials.createInsecure(), (err, bound) => {
      if (err === null) resolve(bound);
      else reject(err);
    });
  });
  guardDestroyedStreams(server);
  return {
    address: `http://${parsed.hostname}:${port}`,
    // Peer streams never end on their own, so a graceful shutdown would wait forever: cut them (senders redial).
    close: () => {
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}
