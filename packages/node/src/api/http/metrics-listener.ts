/**
 * --listen-metrics-urls: plain HTTP listeners that serve only /metrics and /health, as etcd's
 * metrics mux does, so Prometheus can scrape a member without reaching its client port.
 */
import type { AddressInfo } from 'node:net';
import type { ClientListener } from '../client-listener.js';
import { listenHost } from '../client-listener.js';
import { createHttpServer, type HttpDeps } from './handler.js';

export async function listenForMetrics(url: string, deps: HttpDeps): Promise<ClientListener> {
  const { hostname, port } = new URL(url);
  const server = createHttpServer(deps, 'metrics');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), listenHost(hostname), () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    address: `${host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
