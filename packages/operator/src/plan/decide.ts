/**
 * The planner: a pure `decide(observed) → Action | null` that picks the one next safe step toward the spec.
 * It never takes two disruptive steps at once and never a step that leaves fewer healthy voters than a quorum:
 * - membership first: a member is added as a learner (claim → MemberAdd learner → pod with
 *   --initial-cluster-state existing → promote once in sync), removed before its pod and claim are deleted,
 *   and leadership is moved off a member before it is removed;
 * - a pod briefly gone (its claim still there) is re-created, not scaled in; a member that stays failed
 *   (pod Failed, or not Ready for memberFailureTimeoutSeconds and not answering) is removed while quorum
 *   holds, and the scale-up path adds a fresh one;
 * - then maintenance, only on a healthy cluster: NOSPACE recovery (compact, defragment, disarm), scheduled
 *   backups and their retention, the compaction policy, defragmentation one member at a time, leader last.
 * `Wait` is a decision too: the cluster is progressing but nothing may be done yet, and the reason says why.
 */
import { ANNOTATION_DEFRAGMENT, memberName, ordinalOf, quorum } from '../crd/types.js';
import { latestTick, parseCron, parseRetentionMs } from './cron.js';
import type { Bootstrap, ObservedCluster, ObservedEtcd, ObservedMember } from './observed.js';

/** A peer in --initial-cluster: its etcd name and peer URL. */
export interface InitialPeer {
  readonly name: string;
  readonly peerURL: string;
}

export type Action =
  | { readonly type: 'CreateService'; readonly service: 'peer' | 'client' }
  | { readonly type: 'ApplyPodDisruptionBudget'; readonly minAvailable: number }
  | { readonly type: 'CreateMember'; readonly podName: string; readonly bootstrap: Bootstrap; readonly peers: readonly InitialPeer[]; readonly restoreFrom?: string }
  | { readonly type: 'CreateClaim'; readonly podName: string; readonly bootstrap: Bootstrap }
  | { readonly type: 'AddLearner'; readonly podName: string }
  | { readonly type: 'PromoteLearner'; readonly memberId: bigint; readonly name: string }
  | { readonly type: 'MoveLeader'; readonly fromId: bigint; readonly toId: bigint; readonly toName: string }
  | { readonly type: 'RemoveMember'; readonly memberId: bigint; readonly name: string; readonly reason: string }
  | { readonly type: 'DeleteMemberResources'; readonly podName: string; readonly reason: string }
  | { readonly type: 'DeleteClaim'; readonly claimName: string }
  | { readonly type: 'Compact'; readonly revision: number | undefined; readonly checkpoint?: { readonly revision: number; readonly time: string }; readonly reason: string }
  | { readonly type: 'Defragment'; readonly memberId: bigint; readonly name: string; readonly round: DefragRound; readonly last: boolean }
  | { readonly type: 'DisarmAlarm'; readonly memberId: bigint; readonly alarm: 'NOSPACE' }
  | { readonly type: 'CreateBackup'; readonly name: string; readonly tickMs: number }
  | { readonly type: 'DeleteBackup'; readonly name: string; readonly reason: string }
  | { readonly type: 'Wait'; readonly reason: string; readonly message: string };

export interface DefragRound {
  readonly startTime: string;
  readonly request?: string;
  readonly reason: string;
  readonly done: readonly string[];
}

/** Actions that change membership or member processes; the rest are bookkeeping or maintenance. */
export const DISRUPTIVE: ReadonlySet<Action['type']> = new Set(['AddLearner', 'PromoteLearner', 'MoveLeader', 'RemoveMember', 'DeleteMemberResources', 'Defragment']);

/** etcd's own rule for promotion: the learner's log within 10% of the leader's (etcd server.go readyPercent). */
const LEARNER_READY_FRACTION = 0.9;

const wait = (reason: string, message: string): Action => ({ type: 'Wait', reason, message });

/**
 * Answering Status and knowing a leader. Status `errors` are not counted: etcd lists active alarms there
 * (e.g. NOSPACE), which the alarm handling deals with, and a member with an alarm still serves reads.
 */
export const isHealthy = (m: ObservedMember): boolean => m.probe !== undefined && m.probe.leaderId !== 0n;

const memberLabel = (m: ObservedMember): string => m.name !== '' ? m.name : (m.podName ?? m.id.toString(16));

export function decide(o: ObservedCluster): Action | null {
  if (o.deleting) return null;
  // Without usable client credentials the members cannot be observed: acting on "nobody answers" could seed
  // a second cluster next to a running one.
  if (o.clientTlsProblem !== undefined) return wait('ClientTLSSecretNotReady', o.clientTlsProblem);
  if (!o.services.peer) return { type: 'CreateService', service: 'peer' };
  if (!o.services.client) return { type: 'CreateService', service: 'client' };
  const minAvailable = quorum(o.spec.replicas);
  if (o.pdbMinAvailable !== minAvailable) return { type: 'ApplyPodDisruptionBudget', minAvailable };
  if (o.etcd === undefined) return decideUnreachable(o);
  return decideMembership(o, o.etcd) ?? decideMaintenance(o, o.etcd);
}

/** No member answered: bootstrap a seed, bring back pods of existing claims, or wait. */
function decideUnreachable(o: ObservedCluster): Action {
  const livePods = o.pods.filter((p) => !p.deleting);
  const liveClaims = o.claims.filter((c) => !c.deleting);
  if (livePods.length === 0 && liveClaims.length === 0) {
    const seed = memberName(o.name, 0);
    const backupName = o.spec.bootstrap?.backupName;
    if (backupName === undefined) return { type: 'CreateMember', podName: seed, bootstrap: 'new', peers: [] };
    const backup = o.bootstrapBackup;
    if (backup?.phase !== 'Succeeded' || backup.location === undefined) {
      return wait('BackupNotReady', `bootstrap backup ${backupName} is ${backup?.phase ?? 'not found'}`);
    }
    return { type: 'CreateMember', podName: seed, bootstrap: 'restore', peers: [], restoreFrom: backup.location };
  }
  const claimWithoutPod = liveClaims.find((c) => !o.pods.some((p) => p.name === c.name));
  if (claimWithoutPod !== undefined) return { type: 'CreateMember', podName: claimWithoutPod.name, bootstrap: claimWithoutPod.bootstrap, peers: [] };
  const podWithoutClaim = livePods.find((p) => !o.claims.some((c) => c.name === p.name));
  if (podWithoutClaim !== undefined) return { type: 'CreateClaim', podName: podWithoutClaim.name, bootstrap: 'new' };
  const hadQuorum = o.status.clusterId !== undefined;
  return wait(hadQuorum ? 'QuorumLost' : 'MembersStarting', hadQuorum ? 'no member answers the etcd API' : 'waiting for the first member to serve');
}

/** The peers a new or returning member must list in --initial-cluster: every current member but itself. */
function peersOf(etcd: ObservedEtcd, podName: string): InitialPeer[] {
  return etcd.members.filter((m) => m.podName !== podName).map((m) => ({ name: memberLabel(m), peerURL: m.peerURL }));
}

function removalSafe(etcd: ObservedEtcd, victim: ObservedMember): boolean {
  if (victim.isLearner) return true;
  const voters = etcd.members.filter((m) => !m.isLearner);
  const healthyAfter = voters.filter((m) => m !== victim && isHealthy(m)).length;
  return healthyAfter >= quorum(voters.length - 1);
}

function isFailed(o: ObservedCluster, m: ObservedMember): boolean {
  if (isHealthy(m)) return false;
  const pod = o.pods.find((p) => p.name === m.podName);
  if (pod === undefined) return false;
  if (pod.phase === 'Failed') return true;
  if (pod.ready || pod.readyTransitionMs === undefined) return false;
  return o.nowMs - pod.readyTransitionMs >= o.spec.memberFailureTimeoutSeconds * 1000;
}

function remove(etcd: ObservedEtcd, m: ObservedMember, reason: string): Action {
  if (!removalSafe(etcd, m)) return wait('QuorumAtRisk', `removing ${memberLabel(m)} (${reason}) would leave fewer healthy voters than a quorum`);
  return { type: 'RemoveMember', memberId: m.id, name: memberLabel(m), reason };
}

function decideMembership(o: ObservedCluster, etcd: ObservedEtcd): Action | null {
  const mapped = new Set(etcd.members.map((m) => m.podName).filter((n): n is string => n !== undefined));
  const orphanPod = o.pods.find((p) => !p.deleting && !mapped.has(p.name));
  if (orphanPod !== undefined) return { type: 'DeleteMemberResources', podName: orphanPod.name, reason: 'not a member' };
  for (const m of etcd.members) {
    if (m.podName !== undefined && o.pods.some((p) => p.name === m.podName && !p.deleting)) continue;
    if (o.pods.some((p) => p.name === m.podName)) return wait('PodTerminating', `pod of ${memberLabel(m)} is terminating`);
    const claim = o.claims.find((c) => c.name === m.podName && !c.deleting);
    if (claim !== undefined && m.podName !== undefined) {
      return { type: 'CreateMember', podName: m.podName, bootstrap: claim.bootstrap === 'new' || claim.bootstrap === 'restore' ? claim.bootstrap : 'existing', peers: peersOf(etcd, m.podName) };
    }
    return remove(etcd, m, m.isLearner ? 'learner without a claim' : 'its claim is gone, so is its data');
  }
  for (const m of etcd.members) {
    const claimed = o.claims.some((c) => c.name === m.podName && !c.deleting);
    if (!claimed && m.podName !== undefined) return { type: 'CreateClaim', podName: m.podName, bootstrap: 'existing' };
  }
  const failed = etcd.members.find((m) => isFailed(o, m));
  if (failed !== undefined) return remove(etcd, failed, 'failed');
  const voters = etcd.members.filter((m) => !m.isLearner);
  const learner = etcd.members.find((m) => m.isLearner);
  if (learner !== undefined) return decideLearner(o, etcd, learner, voters.length);
  const unhealthy = etcd.members.find((m) => !isHealthy(m));
  if (unhealthy !== undefined) return wait('MemberUnhealthy', `${memberLabel(unhealthy)} does not answer; replaced after ${o.spec.memberFailureTimeoutSeconds}s not Ready`);
  const spare = o.claims.find((c) => !c.deleting && !mapped.has(c.name));
  if (spare !== undefined) return voters.length < o.spec.replicas ? { type: 'AddLearner', podName: spare.name } : { type: 'DeleteClaim', claimName: spare.name };
  if (voters.length < o.spec.replicas) return { type: 'CreateClaim', podName: memberName(o.name, nextOrdinal(o, etcd)), bootstrap: 'existing' };
  if (voters.length > o.spec.replicas) return scaleDown(o, etcd, voters);
  return null;
}

function decideLearner(o: ObservedCluster, etcd: ObservedEtcd, learner: ObservedMember, voterCount: number): Action {
  if (voterCount >= o.spec.replicas) return remove(etcd, learner, 'not needed at this size');
  const leader = etcd.members.find((m) => m.id === etcd.leaderId);
  if (learner.probe === undefined || leader?.probe === undefined) return wait('LearnerStarting', `learner ${memberLabel(learner)} is starting`);
  if (learner.probe.raftIndex < leader.probe.raftIndex * LEARNER_READY_FRACTION) {
    return wait('LearnerCatchingUp', `learner ${memberLabel(learner)} at raft index ${learner.probe.raftIndex} of ${leader.probe.raftIndex}`);
  }
  return { type: 'PromoteLearner', memberId: learner.id, name: memberLabel(learner) };
}

function nextOrdinal(o: ObservedCluster, etcd: ObservedEtcd): number {
  const names = [...o.pods.map((p) => p.name), ...o.claims.map((c) => c.name), ...etcd.members.map((m) => m.podName ?? m.name)];
  const ordinals = names.map((n) => ordinalOf(o.name, n)).filter((n): n is number => n !== undefined);
  return ordinals.length === 0 ? 0 : Math.max(...ordinals) + 1;
}

/** Highest ordinal goes first; leadership is moved off it before it is removed. */
function scaleDown(o: ObservedCluster, etcd: ObservedEtcd, voters: readonly ObservedMember[]): Action {
  const byOrdinal = [...voters].sort((a, b) => (ordinalOf(o.name, b.podName ?? '') ?? -1) - (ordinalOf(o.name, a.podName ?? '') ?? -1));
  const victim = byOrdinal[0] as ObservedMember;
  if (victim.id === etcd.leaderId) {
    const target = [...byOrdinal].reverse().find((m) => m !== victim && isHealthy(m));
    if (target === undefined) return wait('NoLeaderTarget', 'no healthy voter to move leadership to');
    return { type: 'MoveLeader', fromId: victim.id, toId: target.id, toName: memberLabel(target) };
  }
  return remove(etcd, victim, `scale down to ${o.spec.replicas}`);
}

const currentRevision = (etcd: ObservedEtcd): number => Math.max(0, ...etcd.members.map((m) => m.probe?.revision ?? 0));

function decideMaintenance(o: ObservedCluster, etcd: ObservedEtcd): Action | null {
  const nospace = etcd.alarms.find((a) => a.alarm === 'NOSPACE');
  if (nospace !== undefined) return recoverNoSpace(o, etcd, nospace.memberId);
  return decideBackups(o) ?? decideCompaction(o, etcd) ?? decideDefragmentation(o, etcd);
}

/** NOSPACE: compact to the current revision, defragment every member (leader last), then disarm. */
function recoverNoSpace(o: ObservedCluster, etcd: ObservedEtcd, memberId: bigint): Action {
  const revision = currentRevision(etcd);
  const last = o.status.lastCompaction;
  if (last === undefined || last.revision < revision) return { type: 'Compact', revision, reason: 'NOSPACE alarm' };
  const defragged = o.status.lastDefragmentation !== undefined && Date.parse(o.status.lastDefragmentation.time) >= Date.parse(last.time);
  if (!defragged) {
    const round = o.status.defragmentation ?? { startTime: new Date(o.nowMs).toISOString(), reason: 'NOSPACE alarm', done: [] };
    return nextDefrag(etcd, round) ?? wait('MemberUnhealthy', 'defragmentation waits for every member to answer');
  }
  return { type: 'DisarmAlarm', memberId, alarm: 'NOSPACE' };
}

function decideBackups(o: ObservedCluster): Action | null {
  const policy = o.spec.backup;
  if (policy === undefined) return null;
  const scheduled = o.backups.filter((b) => b.scheduled);
  const succeeded = scheduled.filter((b) => b.phase === 'Succeeded').sort((a, b) => (b.tickMs ?? 0) - (a.tickMs ?? 0));
  const expired = succeeded[policy.retention];
  if (expired !== undefined) return { type: 'DeleteBackup', name: expired.name, reason: `retention keeps the newest ${policy.retention}` };
  if (policy.schedule === undefined) return null;
  const after = Math.max(o.createdMs, ...scheduled.map((b) => b.tickMs ?? 0));
  const tick = latestTick(parseCron(policy.schedule), after, o.nowMs);
  if (tick === undefined) return null;
  const stamp = new Date(tick).toISOString().replace(/[-:T]/gu, '').slice(0, 12);
  return { type: 'CreateBackup', name: `${o.name}-${stamp}`, tickMs: tick };
}

function decideCompaction(o: ObservedCluster, etcd: ObservedEtcd): Action | null {
  const policy = o.spec.compaction;
  if (policy === undefined) return null;
  const revision = currentRevision(etcd);
  const last = o.status.lastCompaction?.revision ?? 0;
  if (policy.mode === 'revision') {
    const retain = Number(policy.retention);
    const target = revision - retain;
    return target - last >= retain ? { type: 'Compact', revision: target, reason: `keep ${retain} revisions` } : null;
  }
  const now = new Date(o.nowMs).toISOString();
  const checkpoint = o.status.compactionCheckpoint;
  if (checkpoint === undefined) return { type: 'Compact', revision: undefined, checkpoint: { revision, time: now }, reason: 'first checkpoint' };
  if (o.nowMs - Date.parse(checkpoint.time) < parseRetentionMs(policy.retention)) return null;
  return { type: 'Compact', revision: checkpoint.revision > last ? checkpoint.revision : undefined, checkpoint: { revision, time: now }, reason: `keep ${policy.retention} of history` };
}

function decideDefragmentation(o: ObservedCluster, etcd: ObservedEtcd): Action | null {
  const inProgress = o.status.defragmentation;
  if (inProgress !== undefined) return nextDefrag(etcd, inProgress);
  const now = new Date(o.nowMs).toISOString();
  const request = o.annotations[ANNOTATION_DEFRAGMENT];
  if (request !== undefined && request !== '' && request !== o.status.lastDefragmentation?.request) {
    return nextDefrag(etcd, { startTime: now, request, reason: `requested (${request})`, done: [] });
  }
  const schedule = o.spec.defragmentation?.schedule;
  if (schedule === undefined) return null;
  const lastMs = o.status.lastDefragmentation === undefined ? o.createdMs : Date.parse(o.status.lastDefragmentation.time);
  if (latestTick(parseCron(schedule), lastMs, o.nowMs) === undefined) return null;
  return nextDefrag(etcd, { startTime: now, reason: 'schedule', ...(o.status.lastDefragmentation?.request === undefined ? {} : { request: o.status.lastDefragmentation.request }), done: [] });
}

/** The next member of a round to defragment: followers and learners first (by name), the leader last. */
function nextDefrag(etcd: ObservedEtcd, round: DefragRound): Action | null {
  if (etcd.members.some((m) => !isHealthy(m) && !m.isLearner)) return null;
  const todo = etcd.members.filter((m) => !round.done.includes(memberLabel(m))).sort((a, b) => {
    const leaderLast = Number(a.id === etcd.leaderId) - Number(b.id === etcd.leaderId);
    return leaderLast !== 0 ? leaderLast : memberLabel(a).localeCompare(memberLabel(b));
  });
  const next = todo[0];
  if (next === undefined) return null;
  return { type: 'Defragment', memberId: next.id, name: memberLabel(next), round, last: todo.length === 1 };
}
