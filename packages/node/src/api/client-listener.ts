/**
 * One TCP port for gRPC and HTTP/1.1, as etcd serves both on its client URLs: the first bytes of
 * a connection decide. An HTTP/2 connection starts with the preface "PRI * HTTP/2.0", which no
 * HTTP/1 request can start with; it is handed to grpc-js (which then reads the socket natively),
 * anything else goes to the HTTP/1 server (/health, /version, /metrics). Before an HTTP/2
 * connection is handed over, its first request's :authority is checked: etcdctl 3.4 sends one
 * Node's HTTP/2 layer refuses, and such a connection goes to grpc-js through a stream that
 * rewrites it (h2/authority-fix.ts).
 */
import net from 'node:net';
import type http from 'node:http';
import type { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';
import type { TlsConfig } from '../config/index.js';
import { guardDestroyedStreams } from '../util/grpc-stream-guard.js';
import { carryPeerIdentity, createClientTlsServer } from './client-tls.js';
import { AuthorityFixingConnection, sniffAuthority, type AuthoritySniff } from './h2/authority-fix.js';
import { settingsFrame } from './h2/frames.js';

const H2_PREFACE_START = Buffer.from('PRI');

/** An HTTP/2 client that has sent this much without a complete first request is handed over unread. */
const MAX_SNIFF_BYTES = 64 * 1024;

/**
 * A client that sends no request this long after connecting (a channel kept warm, a keepalive
 * ping pending) is handed over unread, so it gets the server's answers.
 */
const SNIFF_DEADLINE_MS = 1000;

type Injector = ReturnType<GrpcServer['createConnectionInjector']>;

export interface ClientListener {
  /** host:port actually bound (port 0 in the URL picks a free port). */
  readonly address: string;
  close(): Promise<void>;
}

export async function listenForClients(
  url: string,
  grpcServer: GrpcServer,
  credentials: ServerCredentials,
  httpServer: http.Server,
  /** For an https URL: TLS first (client-tls.ts), then the same sniffing on the decrypted stream. */
  tlsConfig?: TlsConfig,
  /**
   * --max-concurrent-streams, when set: the SETTINGS sent ahead of grpc-js's to an idle client
   * announce it too, or such a client would open streams grpc-js then refuses.
   */
  maxConcurrentStreams?: number,
): Promise<ClientListener> {
  const earlySettings = settingsFrame(maxConcurrentStreams);
  const injector = grpcServer.createConnectionInjector(credentials);
  guardDestroyedStreams(grpcServer);
  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    routeBySniffing(socket, injector, httpServer, earlySettings);
  };
  const server = url.startsWith('https://') && tlsConfig !== undefined ? createClientTlsServer(tlsConfig, onSocket) : net.createServer(onSocket);
  const address = await listenOn(server, url);
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        injector.destroy();
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Listens on the host and port of `url` (port 0 picks a free one); resolves with the bound host:port. */
export async function listenOn(server: net.Server, url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port || 2379), listenHost(hostname), () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return `${host}:${bound.port}`;
}

/** Go's net.Listen binds "localhost" to 127.0.0.1; Node might pick ::1, which etcdctl would miss. */
function listenHost(hostname: string): string {
  if (hostname === 'localhost') return '127.0.0.1';
  return hostname.replace(/^\[|\]$/g, '');
}

function routeBySniffing(socket: net.Socket, injector: Injector, httpServer: http.Server, earlySettings: Buffer): void {
  let head: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    if (head.length < H2_PREFACE_START.length) return;
    socket.off('data', onData);
    socket.pause();
    if (head.subarray(0, H2_PREFACE_START.length).equals(H2_PREFACE_START)) {
      routeHttp2(socket, head, injector, earlySettings);
    } else {
      socket.unshift(head);
      httpServer.emit('connection', socket);
      socket.resume();
    }
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

/** Buffers an HTTP/2 connection until `sniffAuthority` decides, then injects it (see h2/authority-fix.ts). */
function routeHttp2(socket: net.Socket, first: Buffer, injector: Injector, earlySettings: Buffer): void {
  let head = first;
  let settingsSent = false;
  const finish = (sniff: AuthoritySniff): void => {
    socket.off('data', onData);
    clearTimeout(deadline);
    socket.pause();
    const ack = sniff.settingsAck;
    const buffered = ack ? Buffer.concat([head.subarray(0, ack.start), head.subarray(ack.end)]) : head;
    const ackPending = settingsSent && !ack;
    if (sniff.state === 'invalid' || ackPending) {
      injector.injectConnection(carryPeerIdentity(socket, new AuthorityFixingConnection(socket, buffered, ackPending ? 1 : 0)));
      return;
    }
    socket.unshift(buffered);
    // http2 picks up the unshifted bytes itself; resuming here would lose them.
    injector.injectConnection(socket);
  };
  const step = (): void => {
    const sniff = sniffAuthority(head, settingsSent);
    if (sniff.state !== 'more' || head.length > MAX_SNIFF_BYTES) {
      finish(sniff);
      return;
    }
    if (sniff.idle && !settingsSent) {
      // grpc-go waits for the server's SETTINGS before its first request.
      settingsSent = true;
      socket.write(earlySettings);
    }
    socket.resume();
  };
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    socket.pause();
    step();
  };
  const deadline = setTimeout(() => finish(sniffAuthority(head, settingsSent)), SNIFF_DEADLINE_MS);
  socket.once('close', () => clearTimeout(deadline));
  socket.on('data', onData);
  step();
}
