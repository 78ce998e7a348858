/**
 * --listen-metrics-urls: plain HTTP listeners that serve only /metrics and /health, as etcd's
 * metrics mux does, so Prometheus can scrape a member without reaching its client port.
 */
import { listenOn, type ClientListener } from '../client-listener.js';
import { createHttpServer, type HttpDeps } from './handler.js';

export async function listenForMetrics(url: string, deps: HttpDeps): Promise<ClientListener> {
  const server = createHttpServer(deps, 'metrics');
  const address = await listenOn(server, url);
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
