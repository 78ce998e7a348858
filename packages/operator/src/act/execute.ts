/**
 * Executors: one function per planner action, each idempotent (re-running it after a crash or a lost reply
 * changes nothing more: creates accept AlreadyExists, deletes accept NotFound, etcd calls are only issued
 * when the observation says they are still needed). Each returns the Event to record and, for maintenance
 * actions, the status records they leave (the only status fields not recomputed from observation).
 */
import { etcdserverpb } from '@corvid/proto';
import { LABEL_CLUSTER, LABEL_SCHEDULED, type EtcdCluster, type EtcdClusterStatus } from '../crd/types.js';
import { ANNOTATION_SCHEDULED_TICK } from '../observe/observe.js';
import { grpcCode, type MemberClients } from '../observe/etcd-client.js';
import type { Action } from '../plan/decide.js';
import type { ObservedCluster, ObservedEtcd } from '../plan/observed.js';
import { idempotent, type EventInput, type Kube } from '../controller/kube.js';
import { clientEndpoint, clientService, memberClaim, memberPod, ownerRef, peerService, peerUrl, podDisruptionBudget, type MemberAddressing } from './resources.js';

export interface ActContext {
  readonly kube: Kube;
  readonly clients: MemberClients;
  readonly addressing: MemberAddressing;
}

export interface ActResult {
  readonly event: EventInput | undefined;
  readonly statusRecords?: Partial<EtcdClusterStatus>;
}

const GRPC_OUT_OF_RANGE = 11; // etcd's ErrCompacted / ErrFutureRev

const normal = (reason: string, message: string): ActResult => ({ event: { type: 'Normal', reason, message } });

function endpointOfMember(ctx: ActContext, c: EtcdCluster, etcd: ObservedEtcd | undefined, id: bigint | undefined): string {
  const m = etcd?.members.find((x) => x.id === id) ?? etcd?.members.find((x) => x.probe !== undefined && !x.isLearner);
  if (m?.podName === undefined) throw new Error('no reachable member to send the request to');
  return clientEndpoint(ctx.addressing, c, m.podName);
}

/** The leader's endpoint: membership changes and leader moves go there. */
const leaderEndpoint = (ctx: ActContext, c: EtcdCluster, o: ObservedCluster): string => endpointOfMember(ctx, c, o.etcd, o.etcd?.leaderId);

export async function execute(ctx: ActContext, c: EtcdCluster, o: ObservedCluster, a: Action): Promise<ActResult> {
  const ns = c.metadata.namespace;
  switch (a.type) {
    case 'Wait':
      return { event: undefined };
    case 'CreateService': {
      const body = a.service === 'peer' ? peerService(c) : clientService(c);
      await idempotent(() => ctx.kube.core.createNamespacedService({ namespace: ns, body }), 409);
      return normal('ServiceCreated', `created ${a.service} service ${body.metadata?.name}`);
    }
    case 'ApplyPodDisruptionBudget': {
      const existing = await ctx.kube.getPdb(ns, c.metadata.name);
      const body = podDisruptionBudget(c, a.minAvailable);
      if (existing === undefined) await idempotent(() => ctx.kube.policy.createNamespacedPodDisruptionBudget({ namespace: ns, body }), 409);
      else await ctx.kube.policy.replaceNamespacedPodDisruptionBudget({ namespace: ns, name: c.metadata.name, body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion ?? '' } } });
      return normal('PodDisruptionBudgetApplied', `minAvailable ${a.minAvailable}`);
    }
    case 'CreateMember': {
      // The pod first, then its claim: a pass that stops in between finds a pod without a claim and
      // creates the claim, and the restore init container (only on this first pod) still runs.
      const pod = memberPod(ctx.addressing, c, { podName: a.podName, bootstrap: a.bootstrap, peers: a.peers, restoreFrom: a.restoreFrom });
      await idempotent(() => ctx.kube.core.createNamespacedPod({ namespace: ns, body: pod }), 409);
      await idempotent(() => ctx.kube.core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: memberClaim(c, a.podName, a.bootstrap) }), 409);
      const how = a.restoreFrom !== undefined ? `restored from ${a.restoreFrom}` : a.bootstrap === 'existing' ? 'joining the cluster' : 'bootstrapping';
      return normal('MemberPodCreated', `created pod ${a.podName} (${how})`);
    }
    case 'CreateClaim':
      await idempotent(() => ctx.kube.core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: memberClaim(c, a.podName, a.bootstrap) }), 409);
      return normal('ClaimCreated', `created claim ${a.podName}`);
    case 'AddLearner': {
      const url = peerUrl(ctx.addressing, c, a.podName);
      const res = await ctx.clients.for(leaderEndpoint(ctx, c, o)).memberAdd([url], true);
      return normal('LearnerAdded', `added ${a.podName} as learner ${res.member?.ID.toString(16) ?? '?'} at ${url}`);
    }
    case 'PromoteLearner':
      await ctx.clients.for(leaderEndpoint(ctx, c, o)).memberPromote(a.memberId);
      return normal('LearnerPromoted', `promoted ${a.name} (${a.memberId.toString(16)}) to voter`);
    case 'MoveLeader':
      await ctx.clients.for(endpointOfMember(ctx, c, o.etcd, a.fromId)).moveLeader(a.toId);
      return normal('LeaderMoved', `moved leadership from ${a.fromId.toString(16)} to ${a.toName}`);
    case 'RemoveMember':
      await ctx.clients.for(leaderEndpoint(ctx, c, o)).memberRemove(a.memberId);
      return { event: { type: a.reason === 'failed' ? 'Warning' : 'Normal', reason: 'MemberRemoved', message: `removed ${a.name} (${a.memberId.toString(16)}): ${a.reason}` } };
    case 'DeleteMemberResources':
      await idempotent(() => ctx.kube.core.deleteNamespacedPersistentVolumeClaim({ namespace: ns, name: a.podName }), 404);
      await idempotent(() => ctx.kube.core.deleteNamespacedPod({ namespace: ns, name: a.podName }), 404);
      ctx.clients.forget(clientEndpoint(ctx.addressing, c, a.podName));
      return normal('MemberResourcesDeleted', `deleted pod and claim ${a.podName} (${a.reason})`);
    case 'DeleteClaim':
      await idempotent(() => ctx.kube.core.deleteNamespacedPersistentVolumeClaim({ namespace: ns, name: a.claimName }), 404);
      return normal('ClaimDeleted', `deleted unused claim ${a.claimName}`);
    default:
      return executeMaintenance(ctx, c, o, a);
  }
}

async function executeMaintenance(ctx: ActContext, c: EtcdCluster, o: ObservedCluster, a: Action): Promise<ActResult> {
  const now = new Date().toISOString();
  switch (a.type) {
    case 'Compact': {
      if (a.revision !== undefined) {
        try {
          await ctx.clients.for(leaderEndpoint(ctx, c, o)).compact(a.revision);
        } catch (err) {
          if (grpcCode(err) !== GRPC_OUT_OF_RANGE) throw err; // already compacted at or past it: done
        }
      }
      const records: Partial<EtcdClusterStatus> = {
        ...(a.revision === undefined ? {} : { lastCompaction: { revision: a.revision, time: now } }),
        ...(a.checkpoint === undefined ? {} : { compactionCheckpoint: a.checkpoint }),
      };
      const event = a.revision === undefined ? undefined : { type: 'Normal' as const, reason: 'Compacted', message: `compacted at revision ${a.revision} (${a.reason})` };
      return { event, statusRecords: records };
    }
    case 'Defragment': {
      await ctx.clients.for(endpointOfMember(ctx, c, o.etcd, a.memberId)).defragment();
      const done = [...a.round.done, a.name];
      const records: Partial<EtcdClusterStatus> = a.last
        ? { lastDefragmentation: { time: now, ...(a.round.request === undefined ? {} : { request: a.round.request }) } }
        : { defragmentation: { ...a.round, done } };
      return { event: { type: 'Normal', reason: 'Defragmented', message: `defragmented ${a.name} (${done.length} of round: ${a.round.reason})${a.last ? '; round complete' : ''}` }, statusRecords: records };
    }
    case 'DisarmAlarm':
      await ctx.clients.for(leaderEndpoint(ctx, c, o)).disarm(a.memberId, etcdserverpb.AlarmType.NOSPACE);
      return { event: { type: 'Normal', reason: 'AlarmDisarmed', message: `disarmed NOSPACE on ${a.memberId.toString(16)} after compaction and defragmentation` } };
    case 'CreateBackup':
      await ctx.kube.createBackup({
        apiVersion: c.apiVersion,
        kind: 'EtcdBackup',
        metadata: { name: a.name, namespace: c.metadata.namespace, labels: { [LABEL_CLUSTER]: c.metadata.name, [LABEL_SCHEDULED]: 'true' }, annotations: { [ANNOTATION_SCHEDULED_TICK]: String(a.tickMs) }, ownerReferences: [ownerRef(c)] },
        spec: { clusterName: c.metadata.name },
      });
      return normal('BackupScheduled', `created EtcdBackup ${a.name} for ${new Date(a.tickMs).toISOString()}`);
    case 'DeleteBackup':
      await ctx.kube.deleteBackup(c.metadata.namespace, a.name);
      return normal('BackupExpired', `deleted EtcdBackup ${a.name}: ${a.reason}`);
    default:
      throw new Error(`no executor for ${a.type}`);
  }
}
