/**
 * The HTTP/1.1 endpoints etcd serves beside gRPC on its client URLs: /health, /version and
 * /metrics, with etcd's bodies, status codes and CORS headers, and the JSON gateway (gateway.ts).
 */
import http from 'node:http';
import type { Registry } from 'prom-client';
import { ETCD_API_VERSION, ETCD_CLUSTER_VERSION } from '../../version.js';
import { isGatewayPath, serveGateway, type GatewayDeps } from './gateway.js';
import { hostAllowed, hostRefusedText, type HostWhitelist } from './host-whitelist.js';
import { PEER_FAULTS_PATH, servePeerFaults, type PeerFaults } from './peer-faults.js';

export interface HttpDeps {
  readonly registry: Registry;
  /** A health check as etcd's: the member can serve a linearizable request right now. */
  readonly isHealthy: () => Promise<boolean>;
  /** The JSON gateway under /v3/ and /v3beta/. */
  readonly gateway: GatewayDeps;
  /** Test-only peer fault injection (peer-faults.ts); absent unless switched on. */
  readonly peerFaults?: PeerFaults;
  /** --host-whitelist (host-whitelist.ts); absent: every host. */
  readonly hostWhitelist?: HostWhitelist;
}

const CORS_HEADERS = {
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Origin': '*',
};

function send(res: http.ServerResponse, statusCode: number, contentType: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(statusCode, { ...CORS_HEADERS, 'Content-Type': contentType, ...extra });
  res.end(body);
}

/**
 * `client`: what etcd serves on its client URLs. `metrics`: what it serves on
 * --listen-metrics-urls, /metrics and /health only.
 */
export type HttpEndpoints = 'client' | 'metrics';

export function createHttpServer(deps: HttpDeps, endpoints: HttpEndpoints = 'client'): http.Server {
  // etcd's /health and /version allow GET only (HEAD included in the refusal); promhttp serves
  // /metrics to any method.
  const routes: Record<string, { readonly getOnly: boolean; readonly serve: (res: http.ServerResponse) => Promise<void> }> = {
    '/health': { getOnly: true, serve: async (res) => {
      const healthy = await deps.isHealthy();
      // etcd answers an unhealthy member with http.Error, which ends the body with a newline.
      send(res, healthy ? 200 : 503, 'text/plain; charset=utf-8', `${JSON.stringify({ health: String(healthy) })}${healthy ? '' : '\n'}`);
    } },
    '/version': { getOnly: true, serve: async (res) => {
      send(res, 200, 'application/json', JSON.stringify({ etcdserver: ETCD_API_VERSION, etcdcluster: ETCD_CLUSTER_VERSION }));
    } },
    '/metrics': { getOnly: false, serve: async (res) => {
      send(res, 200, deps.registry.contentType, await deps.registry.metrics());
    } },
  };
  return http.createServer((req, res) => {
    // etcd checks on its client URLs only, not on --listen-metrics-urls.
    if (endpoints === 'client' && deps.hostWhitelist !== undefined && !hostAllowed(deps.hostWhitelist, req)) {
      // etcd's http.Error(..., 421): text/plain, nosniff, and the body it builds plus a newline.
      send(res, 421, 'text/plain; charset=utf-8', `${hostRefusedText(req)}\n`, { 'X-Content-Type-Options': 'nosniff' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0] as string;
    if (endpoints === 'client' && isGatewayPath(path)) {
      serveGateway(deps.gateway, req, res, path).catch((err: unknown) => {
        send(res, 500, 'text/plain; charset=utf-8', `${String(err)}\n`);
      });
      return;
    }
    if (endpoints === 'client' && path === PEER_FAULTS_PATH && deps.peerFaults !== undefined) {
      servePeerFaults(deps.peerFaults, req, res).catch((err: unknown) => {
        send(res, 500, 'text/plain; charset=utf-8', `${String(err)}\n`);
      });
      return;
    }
    const route = endpoints === 'metrics' && path === '/version' ? undefined : routes[path];
    if (route === undefined) {
      send(res, 404, 'text/plain; charset=utf-8', '404 page not found\n', { 'X-Content-Type-Options': 'nosniff' });
      return;
    }
    if (route.getOnly && req.method !== 'GET') {
      send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', { Allow: 'GET', 'X-Content-Type-Options': 'nosniff' });
      return;
    }
    route.serve(res).catch((err: unknown) => {
      send(res, 500, 'text/plain; charset=utf-8', `${String(err)}\n`);
    });
  });
}
