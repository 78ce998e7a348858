/**
 * corvid-operator: runs the operator against the cluster it is in (in-cluster config) or the one a kubeconfig
 * names (KUBECONFIG, ~/.kube/config), serving /metrics and /healthz on --metrics-port (default 8080).
 * Flags: --resync-seconds N, --metrics-port N, --scratch-dir PATH, --leader-election-namespace NS (elect on the
 * Lease NS/corvid-operator with identity $POD_NAME or the hostname; losing it exits, so the pod restarts).
 */
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { OperatorMetrics, metricsHandler } from '../controller/metrics.js';
import { Operator } from '../controller/operator.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const scratchDir = flag('scratch-dir');
const electionNamespace = flag('leader-election-namespace');
const operator = new Operator({
  kubeConfig,
  resyncMs: Number(flag('resync-seconds') ?? '30') * 1000,
  metrics: new OperatorMetrics(registry),
  ...(scratchDir === undefined ? {} : { scratchDir }),
  ...(electionNamespace === undefined ? {} : { leaderElection: { namespace: electionNamespace, name: 'corvid-operator', identity: process.env['POD_NAME'] ?? hostname() } }),
  onLeadershipLost: () => process.exit(1),
});
const server = createServer(metricsHandler(registry));
server.listen(Number(flag('metrics-port') ?? '8080'), () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : undefined;
  process.stderr.write(`${JSON.stringify({ level: 'info', ts: new Date().toISOString(), msg: 'serving metrics', port })}\n`);
});
await operator.start();
const shutdown = (): void => {
  server.close();
  operator.stop().then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
