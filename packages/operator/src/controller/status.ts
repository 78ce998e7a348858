/**
 * `.status` from one observation and the decision taken on it. Everything is recomputed from what was
 * observed (members, health, conditions, phase, last backup); only the records of maintenance actions
 * (last compaction and its checkpoint, last defragmentation, a round in progress) carry over, updated by
 * the action that produced them. Conditions keep their lastTransitionTime while their status is unchanged.
 */
import { quorum, type Condition, type EtcdClusterStatus, type MemberStatus } from '../crd/types.js';
import { isHealthy, type Action } from '../plan/decide.js';
import type { ObservedCluster } from '../plan/observed.js';

const MEMBERSHIP_ACTIONS = new Set(['CreateMember', 'CreateClaim', 'AddLearner', 'PromoteLearner', 'MoveLeader', 'RemoveMember', 'DeleteMemberResources', 'DeleteClaim']);

export function members(o: ObservedCluster): MemberStatus[] {
  const etcd = o.etcd;
  if (etcd === undefined) return [];
  return etcd.members.map((m) => ({
    name: m.name !== '' ? m.name : (m.podName ?? ''),
    id: m.id.toString(16),
    learner: m.isLearner,
    leader: m.id === etcd.leaderId,
    healthy: isHealthy(m),
    ...(m.probe === undefined ? {} : { version: m.probe.version, revision: m.probe.revision, dbSizeBytes: m.probe.dbSizeBytes, dbSizeInUseBytes: m.probe.dbSizeInUseBytes }),
  }));
}

function condition(prev: readonly Condition[] | undefined, c: Omit<Condition, 'lastTransitionTime'>, now: string): Condition {
  const old = prev?.find((p) => p.type === c.type);
  return { ...c, lastTransitionTime: old !== undefined && old.status === c.status ? old.lastTransitionTime : now };
}

function phaseOf(o: ObservedCluster, action: Action | null, available: boolean): string {
  if (o.etcd === undefined) return o.spec.bootstrap?.backupName !== undefined && (o.status.members ?? []).length === 0 ? 'Restoring' : (o.status.members ?? []).length === 0 ? 'Creating' : 'Unavailable';
  if (!available) return 'Unavailable';
  if (action === null) return 'Running';
  if (action.type === 'RemoveMember' && action.reason === 'failed') return 'Healing';
  if (MEMBERSHIP_ACTIONS.has(action.type) || (action.type === 'Wait' && /Learner|Member|Pod/u.test(action.reason))) return 'Scaling';
  return 'Running';
}

export function describeAction(a: Action | null): string {
  if (a === null) return 'none';
  const { type, ...rest } = a;
  const detail = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString(16) : x)) : typeof v === 'bigint' ? v.toString(16) : String(v)}`).join(' ');
  return detail === '' ? type : `${type} ${detail}`;
}

export function buildStatus(o: ObservedCluster, action: Action | null, records: Partial<EtcdClusterStatus>, nowIso: string): EtcdClusterStatus {
  const ms = members(o);
  const voters = ms.filter((m) => !m.learner);
  const healthyVoters = voters.filter((m) => m.healthy).length;
  const available = o.etcd !== undefined && o.etcd.leaderId !== undefined && healthyVoters >= quorum(voters.length);
  const alarms = (o.etcd?.alarms ?? []).map((a) => `${a.alarm}:${a.memberId.toString(16)}`);
  const unhealthy = ms.filter((m) => !m.healthy).map((m) => m.name);
  const prev = o.status.conditions;
  const progressing = action !== null;
  const degradedReason = !available ? 'QuorumLost' : alarms.length > 0 ? 'AlarmActive' : unhealthy.length > 0 ? 'MemberUnhealthy' : voters.length < o.spec.replicas && o.etcd !== undefined ? 'BelowDesiredSize' : undefined;
  const conditions: Condition[] = [
    condition(prev, { type: 'Available', status: available ? 'True' : 'False', reason: available ? 'QuorumHealthy' : o.etcd === undefined ? 'MembersUnreachable' : 'QuorumLost', message: `${healthyVoters} of ${voters.length} voters healthy`, observedGeneration: o.generation }, nowIso),
    condition(prev, { type: 'Progressing', status: progressing ? 'True' : 'False', reason: action === null ? 'Reconciled' : action.type === 'Wait' ? action.reason : action.type, message: action === null ? 'cluster matches its spec' : action.type === 'Wait' ? action.message : describeAction(action), observedGeneration: o.generation }, nowIso),
    condition(prev, { type: 'Degraded', status: degradedReason === undefined ? 'False' : 'True', reason: degradedReason ?? 'AllMembersHealthy', message: alarms.length > 0 ? `alarms: ${alarms.join(', ')}` : unhealthy.length > 0 ? `unhealthy: ${unhealthy.join(', ')}` : `${ms.length} members`, observedGeneration: o.generation }, nowIso),
  ];
  const lastBackup = o.backups.filter((b) => b.phase === 'Succeeded' && b.finishTime !== undefined).sort((a, b) => (b.finishTime as string).localeCompare(a.finishTime as string))[0];
  const carried: EtcdClusterStatus = {};
  for (const key of ['lastCompaction', 'compactionCheckpoint', 'lastDefragmentation', 'defragmentation'] as const) {
    const v = records[key] ?? o.status[key];
    if (v !== undefined) (carried as Record<string, unknown>)[key] = v;
  }
  if (records.lastDefragmentation !== undefined) delete carried.defragmentation; // the round is complete
  const leader = ms.find((m) => m.leader);
  return {
    phase: phaseOf(o, action, available),
    observedGeneration: o.generation,
    // The cluster id is kept while no member answers: it records that this cluster once formed.
    ...(o.etcd === undefined ? (o.status.clusterId === undefined ? {} : { clusterId: o.status.clusterId }) : { clusterId: o.etcd.clusterId.toString(16) }),
    ...(leader === undefined ? {} : { leader: leader.name }),
    readyMembers: ms.filter((m) => m.healthy).length,
    lastAction: describeAction(action),
    members: ms,
    conditions,
    alarms,
    ...(lastBackup === undefined ? {} : { lastBackup: { name: lastBackup.name, finishTime: lastBackup.finishTime as string, revision: lastBackup.revision ?? 0 } }),
    ...carried,
  };
}
