/**
 * One observation of a cluster: its pods, claims, services, PDB and backups from Kubernetes, and through the
 * etcd API the membership (from the leader, whose view is authoritative), every member's Status (probed in
 * parallel, each under a deadline) and the active alarms. Members are matched to pods by peer URL, the one
 * thing both sides agree on before a member has started.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { etcdserverpb } from '@corvid/proto';
import { ANNOTATION_BOOTSTRAP, LABEL_CLUSTER, LABEL_SCHEDULED, withDefaults, type EtcdBackup, type EtcdCluster } from '../crd/types.js';
import { clientEndpoint, peerUrl, type MemberAddressing } from '../act/resources.js';
import type { Kube } from '../controller/kube.js';
import type { Bootstrap, MemberProbe, ObservedBackup, ObservedCluster, ObservedEtcd, ObservedMember, ObservedPod } from '../plan/observed.js';
import type { MemberClients } from './etcd-client.js';

export const ANNOTATION_SCHEDULED_TICK = 'etcd.corvid.dev/scheduled-tick';

const toMs = (t: string | Date | undefined): number | undefined => (t === undefined ? undefined : new Date(t).getTime());

function observePod(p: V1Pod): ObservedPod {
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name: p.metadata?.name ?? '',
    phase: p.status?.phase ?? 'Pending',
    ready: ready?.status === 'True',
    readyTransitionMs: toMs(ready?.lastTransitionTime),
    deleting: p.metadata?.deletionTimestamp !== undefined,
  };
}

export function observeBackup(b: EtcdBackup): ObservedBackup {
  const tick = b.metadata.annotations?.[ANNOTATION_SCHEDULED_TICK];
  return {
    name: b.metadata.name,
    phase: b.status?.phase ?? 'Pending',
    scheduled: b.metadata.labels?.[LABEL_SCHEDULED] === 'true',
    tickMs: tick === undefined ? undefined : Number(tick),
    revision: b.status?.revision,
    finishTime: b.status?.finishTime,
    location: b.status?.location,
  };
}

function toProbe(s: etcdserverpb.StatusResponse): MemberProbe {
  return {
    version: s.version,
    dbSizeBytes: Number(s.dbSize),
    dbSizeInUseBytes: Number(s.dbSizeInUse),
    leaderId: s.leader,
    raftIndex: Number(s.raftIndex),
    raftAppliedIndex: Number(s.raftAppliedIndex),
    revision: Number(s.header?.revision ?? 0n),
    isLearner: s.isLearner,
    errors: s.errors,
  };
}

/** Status of every candidate endpoint, in parallel; a member that does not answer maps to undefined. */
async function probeAll(clients: MemberClients, endpoints: readonly string[]): Promise<Map<string, etcdserverpb.StatusResponse>> {
  const results = await Promise.allSettled(endpoints.map((e) => clients.for(e).status()));
  const out = new Map<string, etcdserverpb.StatusResponse>();
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') out.set(endpoints[i] as string, r.value);
  });
  return out;
}

export async function observeEtcd(clients: MemberClients, addressing: MemberAddressing, c: EtcdCluster, podNames: readonly string[]): Promise<ObservedEtcd | undefined> {
  const endpointOf = (pod: string): string => clientEndpoint(addressing, c, pod);
  const statuses = await probeAll(clients, podNames.map(endpointOf));
  if (statuses.size === 0) return undefined;
  // Ask the member every answering member names as leader; fall back to any answering voter.
  const leaderId = [...statuses.values()].map((s) => s.leader).find((l) => l !== 0n);
  const byId = [...statuses.entries()].find(([, s]) => s.header?.memberId === leaderId);
  const source = byId?.[0] ?? [...statuses.entries()].find(([, s]) => !s.isLearner)?.[0];
  if (source === undefined) return undefined;
  let list: etcdserverpb.MemberListResponse;
  let alarms: etcdserverpb.AlarmResponse;
  try {
    [list, alarms] = await Promise.all([clients.for(source).memberList(), clients.for(source).alarms()]);
  } catch {
    return undefined; // the member answered Status but not these: no quorum to trust; observe again next pass
  }
  const podByPeer = new Map(podNames.map((p) => [peerUrl(addressing, c, p), p]));
  const members: ObservedMember[] = list.members.map((m) => {
    const peerURL = m.peerURLs[0] ?? '';
    const podName = podByPeer.get(peerURL);
    const status = podName === undefined ? undefined : statuses.get(endpointOf(podName));
    const probe = status !== undefined && status.header?.memberId === m.ID ? toProbe(status) : undefined;
    return { id: m.ID, name: m.name, podName, peerURL, isLearner: m.isLearner, probe };
  });
  return {
    members,
    leaderId: leaderId !== undefined && members.some((m) => m.id === leaderId) ? leaderId : undefined,
    clusterId: list.header?.clusterId ?? 0n,
    alarms: alarms.alarms
      .filter((a) => a.alarm === etcdserverpb.AlarmType.NOSPACE || a.alarm === etcdserverpb.AlarmType.CORRUPT)
      .map((a) => ({ memberId: a.memberID, alarm: a.alarm === etcdserverpb.AlarmType.NOSPACE ? 'NOSPACE' : 'CORRUPT' })),
  };
}

export interface ObserveContext {
  readonly kube: Kube;
  /** The cluster's member clients (with its client TLS, if any). */
  readonly clients: MemberClients;
  readonly addressing: MemberAddressing;
  readonly nowMs: () => number;
  /** The client TLS Secret cannot be used: the members are not asked (they would refuse us). */
  readonly clientTlsProblem?: string | undefined;
}

export async function observe(ctx: ObserveContext, c: EtcdCluster): Promise<ObservedCluster> {
  const ns = c.metadata.namespace;
  const selector = `${LABEL_CLUSTER}=${c.metadata.name}`;
  const [pods, claims, services, pdb, backups] = await Promise.all([
    ctx.kube.listPods(ns, selector),
    ctx.kube.listClaims(ns, selector),
    ctx.kube.listServices(ns, selector),
    ctx.kube.getPdb(ns, c.metadata.name),
    ctx.kube.listBackups(ns),
  ]);
  const podNames = [...new Set([...pods, ...claims].map((o) => o.metadata?.name ?? ''))].filter((n) => n !== '').sort();
  const etcd = ctx.clientTlsProblem === undefined ? await observeEtcd(ctx.clients, ctx.addressing, c, podNames) : undefined;
  const serviceNames = new Set(services.map((s) => s.metadata?.name));
  const owned = backups.filter((b) => b.spec.clusterName === c.metadata.name).map(observeBackup);
  const bootstrapName = c.spec.bootstrap?.backupName;
  const bootstrapBackup = bootstrapName === undefined ? undefined : backups.find((b) => b.metadata.name === bootstrapName);
  return {
    nowMs: ctx.nowMs(),
    name: c.metadata.name,
    namespace: ns,
    generation: c.metadata.generation ?? 1,
    createdMs: toMs(c.metadata.creationTimestamp) ?? ctx.nowMs(),
    deleting: c.metadata.deletionTimestamp !== undefined,
    annotations: c.metadata.annotations ?? {},
    spec: withDefaults(c.spec),
    status: c.status ?? {},
    pods: pods.map(observePod),
    claims: claims.map((p) => ({ name: p.metadata?.name ?? '', bootstrap: (p.metadata?.annotations?.[ANNOTATION_BOOTSTRAP] ?? 'existing') as Bootstrap, deleting: p.metadata?.deletionTimestamp !== undefined })),
    services: { peer: serviceNames.has(`${c.metadata.name}-peer`), client: serviceNames.has(`${c.metadata.name}-client`) },
    pdbMinAvailable: typeof pdb?.spec?.minAvailable === 'number' ? pdb.spec.minAvailable : undefined,
    etcd,
    ...(ctx.clientTlsProblem === undefined ? {} : { clientTlsProblem: ctx.clientTlsProblem }),
    backups: owned,
    bootstrapBackup: bootstrapBackup === undefined ? undefined : observeBackup(bootstrapBackup),
  };
}
