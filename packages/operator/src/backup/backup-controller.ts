/**
 * Reconciles one EtcdBackup: keeps the artifact finalizer on it (so deleting the object deletes the stored
 * snapshot), and takes the snapshot once: Pending → Running → Succeeded | Failed. The snapshot comes from a
 * healthy voter (a follower when there is one, to keep the load off the leader).
 */
import { join } from 'node:path';
import { BACKUP_FINALIZER, LABEL_CLUSTER, type BackupDestination, type EtcdBackup, type EtcdCluster } from '../crd/types.js';
import { clientEndpoint, type MemberAddressing } from '../act/resources.js';
import type { EventInput, Kube } from '../controller/kube.js';
import type { EtcdClients } from '../observe/etcd-client.js';
import { observeEtcd } from '../observe/observe.js';
import { loadClientTls } from '../observe/client-tls.js';
import { isHealthy } from '../plan/decide.js';
import { deleteStored, saveSnapshot, store } from './snapshot.js';

export interface BackupContext {
  readonly kube: Kube;
  readonly clients: EtcdClients;
  readonly addressing: MemberAddressing;
  readonly scratchDir: string;
  readonly event: (obj: EtcdBackup | EtcdCluster, e: EventInput) => Promise<void>;
  readonly onSucceeded?: (b: EtcdBackup) => void;
}

async function credentialsFor(kube: Kube, ns: string, d: BackupDestination | undefined): Promise<{ accessKeyId: string; secretAccessKey: string } | undefined> {
  const secret = d?.s3?.credentialsSecret;
  if (secret === undefined) return undefined;
  const data = await kube.getSecret(ns, secret);
  return { accessKeyId: data['accessKeyId']?.toString('utf8') ?? '', secretAccessKey: data['secretAccessKey']?.toString('utf8') ?? '' };
}

async function destinationOf(kube: Kube, b: EtcdBackup): Promise<{ destination: BackupDestination | undefined; cluster: EtcdCluster | undefined }> {
  const cluster = await kube.getCluster(b.metadata.namespace, b.spec.clusterName);
  return { destination: b.spec.destination ?? cluster?.spec.backup?.destination, cluster };
}

/** Returns a requeue delay, or undefined when the backup needs nothing more. */
export async function reconcileBackup(ctx: BackupContext, ns: string, name: string): Promise<number | undefined> {
  const b = await ctx.kube.getBackup(ns, name);
  if (b === undefined) return undefined;
  const finalizers = b.metadata.finalizers ?? [];
  if (b.metadata.deletionTimestamp !== undefined) {
    if (!finalizers.includes(BACKUP_FINALIZER)) return undefined;
    if (b.status?.location !== undefined) {
      const { destination } = await destinationOf(ctx.kube, b);
      await deleteStored(b.status.location, destination, await credentialsFor(ctx.kube, ns, destination));
    }
    await ctx.kube.replaceBackup({ ...b, metadata: { ...b.metadata, finalizers: finalizers.filter((f) => f !== BACKUP_FINALIZER) } });
    return undefined;
  }
  if (!finalizers.includes(BACKUP_FINALIZER)) {
    await ctx.kube.replaceBackup({ ...b, metadata: { ...b.metadata, finalizers: [...finalizers, BACKUP_FINALIZER] } });
    return 0;
  }
  if (b.status?.phase === 'Succeeded' || b.status?.phase === 'Failed') return undefined;
  await takeBackup(ctx, b);
  return undefined;
}

async function fail(ctx: BackupContext, b: EtcdBackup, message: string): Promise<void> {
  await ctx.kube.replaceBackupStatus({ ...b, status: { ...b.status, phase: 'Failed', message, finishTime: new Date().toISOString() } });
  await ctx.event(b, { type: 'Warning', reason: 'BackupFailed', message });
}

async function takeBackup(ctx: BackupContext, b: EtcdBackup): Promise<void> {
  const { destination, cluster } = await destinationOf(ctx.kube, b);
  if (cluster === undefined) return fail(ctx, b, `EtcdCluster ${b.spec.clusterName} not found`);
  if (destination === undefined) return fail(ctx, b, 'no destination: set spec.destination or the cluster\'s spec.backup.destination');
  const pods = await ctx.kube.listPods(cluster.metadata.namespace, `${LABEL_CLUSTER}=${cluster.metadata.name}`);
  const tls = await loadClientTls(ctx.kube, cluster);
  if (!tls.ok) throw new Error(`backup ${b.metadata.name}: ${tls.problem}`); // retried with backoff until the Secret is usable
  const clients = ctx.clients.withTls(tls.tls);
  const etcd = await observeEtcd(clients, ctx.addressing, cluster, pods.map((p) => p.metadata?.name ?? '').filter((n) => n !== ''));
  const healthy = (etcd?.members ?? []).filter((m) => isHealthy(m) && !m.isLearner && m.podName !== undefined);
  const member = healthy.find((m) => m.id !== etcd?.leaderId) ?? healthy[0];
  if (member?.podName === undefined) throw new Error(`no healthy member of ${cluster.metadata.name} to take backup ${b.metadata.name} from`);
  const startTime = new Date().toISOString();
  const running = await ctx.kube.replaceBackupStatus({ ...b, status: { phase: 'Running', member: member.podName, startTime } });
  try {
    const api = clients.for(clientEndpoint(ctx.addressing, cluster, member.podName));
    const before = await api.status();
    const file = await saveSnapshot(api, join(ctx.scratchDir, `${b.metadata.uid}.db`));
    const revision = file.revision !== 0 ? file.revision : Number(before.header?.revision ?? 0n);
    const stored = await store(file, destination, `${b.metadata.namespace}/${cluster.metadata.name}/${b.metadata.name}.db`, await credentialsFor(ctx.kube, b.metadata.namespace, destination));
    const done = await ctx.kube.replaceBackupStatus({
      ...running,
      status: { phase: 'Succeeded', member: member.podName, startTime, finishTime: new Date().toISOString(), location: stored.location, revision, sizeBytes: file.sizeBytes, sha256: file.sha256 },
    });
    const message = `snapshot of ${member.podName} at revision ${revision}, ${file.sizeBytes} bytes, sha256 ${file.sha256} → ${stored.location}`;
    await ctx.event(done, { type: 'Normal', reason: 'BackupSucceeded', message });
    await ctx.event(cluster, { type: 'Normal', reason: 'BackupSucceeded', message: `${b.metadata.name}: ${message}` });
    ctx.onSucceeded?.(done);
  } catch (err) {
    await fail(ctx, running, err instanceof Error ? err.message : String(err));
  }
}
