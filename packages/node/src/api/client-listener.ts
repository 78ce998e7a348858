/**
 * One TCP port for gRPC and HTTP/1.1, as etcd serves both on its client URLs: the first bytes of
 * a connection decide. An HTTP/2 connection starts with the preface "PRI * HTTP/2.0", which no
 * HTTP/1 request can start with; it is handed to grpc-js (which then reads the socket natively),
 * anything else goes to the HTTP/1 server (/health, /version, /metrics).
 */
import net from 'node:net';
import type http from 'node:http';
import type { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';

const H2_PREFACE_START = Buffer.from('PRI');

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
): Promise<ClientListener> {
  const injector = grpcServer.createConnectionInjector(credentials);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    routeBySniffing(socket, injector, httpServer);
  });
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

function routeBySniffing(socket: net.Socket, injector: ReturnType<GrpcServer['createConnectionInjector']>, httpServer: http.Server): void {
  let head: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    if (head.length < H2_PREFACE_START.length) return;
    socket.off('data', onData);
    socket.pause();
    socket.unshift(head);
    if (head.subarray(0, H2_PREFACE_START.length).equals(H2_PREFACE_START)) {
      // http2 picks up the unshifted bytes itself; resuming here would lose them.
      injector.injectConnection(socket);
    } else {
      httpServer.emit('connection', socket);
      socket.resume();
    }
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}
