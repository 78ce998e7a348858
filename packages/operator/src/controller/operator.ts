/**
 * The operator: watches EtcdClusters, EtcdBackups and the pods it manages, and reconciles each cluster
 * level-triggered: observe → decide → execute at most one action → write `.status` from the observation →
 * record an Event. A watch event only queues the object's key; the pass re-reads everything, so a missed or
 * repeated event changes nothing. Clusters and backups have separate queues so a long snapshot never delays
 * healing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { BACKUP_PLURAL, CLUSTER_PLURAL, GROUP, LABEL_CLUSTER, LABEL_MANAGED_BY, VERSION, type EtcdBackup, type EtcdCluster } from '../crd/types.js';
import { execute, type ActResult } from '../act/execute.js';
import { DNS_ADDRESSING, MANAGER, type MemberAddressing } from '../act/resources.js';
import { reconcileBackup } from '../backup/backup-controller.js';
import { EtcdClients } from '../observe/etcd-client.js';
import { loadClientTls } from '../observe/client-tls.js';
import { observe } from '../observe/observe.js';
import { decide, type Action } from '../plan/decide.js';
import { buildStatus, describeAction } from './status.js';
import { isConflict, Kube, type EventInput } from './kube.js';
import type { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './work-queue.js';
import { LeaderElector, type LeaderElectionOptions } from './leader-election.js';

export interface OperatorOptions {
  readonly kubeConfig: KubeConfig;
  /** How members are addressed; default: the peer Service's DNS names. */
  readonly addressing?: MemberAddressing;
  /** Requeue after a pass that found nothing to do. */
  readonly resyncMs?: number;
  /** Requeue after an action (the next step usually follows at once). */
  readonly actedRequeueMs?: number;
  /** Requeue while waiting (a learner catching up, a pod starting). */
  readonly waitRequeueMs?: number;
  /** Where snapshots are written before they are verified and stored. */
  readonly scratchDir?: string;
  readonly metrics?: OperatorMetrics;
  readonly log?: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void;
  /** Reconcile only while holding this Lease (two replicas are then safe). */
  readonly leaderElection?: LeaderElectionOptions;
  /** Called when leadership is lost; the CLI exits so the pod restarts and campaigns again. */
  readonly onLeadershipLost?: () => void;
}

export interface PassResult {
  readonly action: Action | null;
  readonly statusWritten: boolean;
  readonly error?: string;
}

const WATCH_RESTART_MS = 1_000;

const jsonLog = (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>): void => {
  process.stderr.write(`${JSON.stringify({ level, ts: new Date().toISOString(), msg, ...fields }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}\n`);
};

export class Operator {
  readonly kube: Kube;
  readonly clients = new EtcdClients();
  private readonly addressing: MemberAddressing;
  private readonly clusterQueue: WorkQueue;
  private readonly backupQueue: WorkQueue;
  private readonly watches: { abort(): void }[] = [];
  private readonly scratchDir: string;
  private running = false;
  private readonly log: NonNullable<OperatorOptions['log']>;

  constructor(private readonly options: OperatorOptions) {
    this.kube = new Kube(options.kubeConfig);
    this.addressing = options.addressing ?? DNS_ADDRESSING;
    this.scratchDir = options.scratchDir ?? mkdtempSync(join(tmpdir(), 'corvid-operator-'));
    this.log = options.log ?? jsonLog;
    this.clusterQueue = new WorkQueue((key) => this.clusterPass(key), (key, err) => this.log('warn', 'reconcile failed', { key, error: String(err) }));
    this.backupQueue = new WorkQueue((key) => this.backupPass(key), (key, err) => this.log('warn', 'backup reconcile failed', { key, error: String(err) }));
  }

  private elector: LeaderElector | undefined;

  /** True while this replica may reconcile (always, without leader election). */
  get isLeader(): boolean {
    return this.elector === undefined ? this.running : this.elector.isLeader;
  }

  /** Starts reconciling now, or — with leader election — once this replica holds the Lease. */
  async start(): Promise<void> {
    const election = this.options.leaderElection;
    if (election === undefined) return this.startWork();
    this.elector = new LeaderElector(this.options.kubeConfig, election);
    await this.elector.run(
      () => {
        this.log('info', 'became leader', { identity: election.identity });
        this.startWork().catch((err: unknown) => this.log('warn', 'start failed', { error: String(err) }));
      },
      () => {
        this.log('warn', 'lost leadership', { identity: election.identity });
        this.stopWork().catch((err: unknown) => this.log('warn', 'stop failed', { error: String(err) }));
        this.options.onLeadershipLost?.();
      },
    );
  }

  private async startWork(): Promise<void> {
    this.running = true;
    this.clusterQueue.start();
    this.backupQueue.start();
    await Promise.all([
      this.watchLoop(`/apis/${GROUP}/${VERSION}/${CLUSTER_PLURAL}`, {}, (o) => this.clusterQueue.add(`${o.metadata.namespace}/${o.metadata.name}`)),
      this.watchLoop(`/apis/${GROUP}/${VERSION}/${BACKUP_PLURAL}`, {}, (o) => {
        this.backupQueue.add(`${o.metadata.namespace}/${o.metadata.name}`);
        const cluster = (o as unknown as EtcdBackup).spec?.clusterName;
        if (cluster !== undefined) this.clusterQueue.add(`${o.metadata.namespace}/${cluster}`);
      }),
      this.watchLoop('/api/v1/pods', { labelSelector: `${LABEL_MANAGED_BY}=${MANAGER}` }, (o) => {
        const cluster = o.metadata.labels?.[LABEL_CLUSTER];
        if (cluster !== undefined) this.clusterQueue.add(`${o.metadata.namespace}/${cluster}`);
      }),
    ]);
  }

  async stop(): Promise<void> {
    await this.stopWork();
    await this.elector?.release();
    this.clients.close();
  }

  private async stopWork(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const w of this.watches) w.abort();
    this.watches.length = 0;
    await Promise.all([this.clusterQueue.stop(), this.backupQueue.stop()]);
  }

  /** A watch that restarts when it ends; each (re)start replays every object as ADDED, queuing all keys. */
  private async watchLoop(path: string, query: Record<string, string>, onObject: (o: { metadata: { name: string; namespace: string; labels?: Record<string, string> } }) => void): Promise<void> {
    const watch = new Watch(this.options.kubeConfig);
    const begin = async (): Promise<void> => {
      if (!this.running) return;
      try {
        const controller = await watch.watch(path, { ...query, allowWatchBookmarks: true }, (type, obj: { metadata: { name: string; namespace: string } }) => {
          if (type !== 'BOOKMARK' && type !== 'ERROR') onObject(obj);
        }, () => {
          if (this.running) setTimeout(() => void begin(), WATCH_RESTART_MS).unref();
        });
        this.watches.push(controller);
      } catch (err) {
        this.log('warn', 'watch failed', { path, error: String(err) });
        if (this.running) setTimeout(() => void begin(), WATCH_RESTART_MS).unref();
      }
    };
    await begin();
  }

  private async event(obj: EtcdCluster | EtcdBackup, e: EventInput): Promise<void> {
    try {
      await this.kube.event(obj, e);
    } catch (err) {
      this.log('warn', 'event not recorded', { reason: e.reason, error: String(err) });
    }
  }

  private async clusterPass(key: string): Promise<number | undefined> {
    const [ns, name] = key.split('/') as [string, string];
    const started = performance.now();
    const result = await this.reconcileCluster(ns, name);
    this.options.metrics?.observeReconcile(performance.now() - started, result?.error !== undefined);
    if (result === undefined) return undefined;
    if (result.error !== undefined) return Math.max(this.options.waitRequeueMs ?? 1_000, 1_000);
    if (result.action === null) return this.options.resyncMs ?? 30_000;
    return result.action.type === 'Wait' ? (this.options.waitRequeueMs ?? 1_000) : (this.options.actedRequeueMs ?? 100);
  }

  private async backupPass(key: string): Promise<number | undefined> {
    const [ns, name] = key.split('/') as [string, string];
    return reconcileBackup(
      {
        kube: this.kube,
        clients: this.clients,
        addressing: this.addressing,
        scratchDir: this.scratchDir,
        event: (o, e) => this.event(o, e),
        onSucceeded: (b) => {
          this.options.metrics?.backupTaken(b);
          this.clusterQueue.add(`${b.metadata.namespace}/${b.spec.clusterName}`);
        },
      },
      ns,
      name,
    );
  }

  /**
   * One reconcile pass over one cluster; exported for tests and tools. Returns undefined when the cluster is
   * gone. At most one action is executed.
   */
  async reconcileCluster(ns: string, name: string): Promise<PassResult | undefined> {
    const c = await this.kube.getCluster(ns, name);
    if (c === undefined) return undefined;
    const tls = await loadClientTls(this.kube, c);
    const clients = this.clients.withTls(tls.ok ? tls.tls : undefined);
    const o = await observe({ kube: this.kube, clients, addressing: this.addressing, nowMs: () => Date.now(), clientTlsProblem: tls.ok ? undefined : tls.problem }, c);
    const action = decide(o);
    let result: ActResult = { event: undefined };
    let error: string | undefined;
    if (action !== null) {
      try {
        result = await execute({ kube: this.kube, clients, addressing: this.addressing }, c, o, action);
        if (action.type !== 'Wait') this.log('info', 'step taken', { cluster: key(c), action: describeAction(action) });
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        result = { event: { type: 'Warning', reason: 'StepFailed', message: `${describeAction(action)}: ${error}` } };
      }
    }
    const status = buildStatus(o, action, result.statusRecords ?? {}, new Date().toISOString());
    let statusWritten = false;
    if (JSON.stringify(status) !== JSON.stringify(c.status ?? {})) {
      try {
        await this.kube.replaceClusterStatus({ ...c, status });
        statusWritten = true;
      } catch (err) {
        if (!isConflict(err)) throw err;
        // Someone changed the cluster since we read it: the next pass observes again.
      }
    }
    if (result.event !== undefined) await this.event(c, result.event);
    return { action, statusWritten, ...(error === undefined ? {} : { error }) };
  }
}

const key = (c: EtcdCluster): string => `${c.metadata.namespace}/${c.metadata.name}`;
