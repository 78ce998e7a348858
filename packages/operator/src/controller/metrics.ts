/**
 * Operator metrics on an injected prom-client Registry (never the global one): reconcile duration and
 * errors, backups taken, and the age of the newest backup per cluster (a gauge computed at scrape time).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EtcdBackup } from '../crd/types.js';

export class OperatorMetrics {
  private readonly reconcileSeconds: Histogram;
  private readonly reconcileErrors: Counter;
  private readonly backups: Counter;
  private readonly lastBackupMs = new Map<string, number>();

  constructor(registry: Registry) {
    this.reconcileSeconds = new Histogram({ name: 'corvid_operator_reconcile_duration_seconds', help: 'Duration of one reconcile pass over one EtcdCluster.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
    this.reconcileErrors = new Counter({ name: 'corvid_operator_reconcile_errors_total', help: 'Reconcile passes that failed.', registers: [registry] });
    this.backups = new Counter({ name: 'corvid_operator_backups_total', help: 'Backups that succeeded.', registers: [registry] });
    const ages = this.lastBackupMs;
    new Gauge({
      name: 'corvid_operator_last_backup_age_seconds',
      help: 'Seconds since the newest successful backup of each cluster.',
      labelNames: ['namespace', 'cluster'],
      registers: [registry],
      collect() {
        for (const [k, ms] of ages) {
          const [namespace, cluster] = k.split('/') as [string, string];
          this.set({ namespace, cluster }, (Date.now() - ms) / 1000);
        }
      },
    });
  }

  observeReconcile(ms: number, failed: boolean): void {
    this.reconcileSeconds.observe(ms / 1000);
    if (failed) this.reconcileErrors.inc();
  }

  backupTaken(b: EtcdBackup): void {
    this.backups.inc();
    this.lastBackupMs.set(`${b.metadata.namespace}/${b.spec.clusterName}`, Date.now());
  }
}

/** The HTTP handler `corvid-operator` serves on --metrics-port: `/metrics` (the registry) and `/healthz`. */
export function metricsHandler(registry: Registry): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      }, (err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      });
      return;
    }
    res.writeHead(req.url === '/healthz' ? 200 : 404);
    res.end(req.url === '/healthz' ? 'ok' : 'not found');
  };
}
