/**
 * Goal: the planner picks one safe next step for every state, with no cluster involved.
 * Method: a table of observed states built from a small fixture (pods, claims, members with probes), each
 * with the one action expected; then properties over generated states: no step ever removes a member when
 * the healthy voters left would be below a quorum, and at most one learner is ever added at a time.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { decide, withDefaults, type Action, type ObservedCluster, type ObservedMember, type EtcdClusterSpec, type ObservedEtcd, quorum } from '../../src/index.js';

const NOW = Date.parse('2026-01-01T12:00:30Z');
const CREATED = Date.parse('2026-01-01T00:00:00Z');

interface MemberSpec {
  readonly ordinal: number;
  readonly learner?: boolean;
  readonly down?: boolean;
  readonly unstarted?: boolean;
  readonly raftIndex?: number;
  readonly revision?: number;
  readonly pod?: 'ready' | 'notReady' | 'failed' | 'missing' | 'deleting';
  readonly claim?: boolean;
  readonly notReadyForMs?: number;
}

const id = (ordinal: number): bigint => BigInt(0x1000 + ordinal);
const peer = (ordinal: number): string => `http://a-${ordinal}:2380`;

function cluster(members: readonly MemberSpec[], opts: { spec?: Partial<EtcdClusterSpec>; leader?: number | null; extraPods?: number[]; extraClaims?: number[]; status?: ObservedCluster['status']; alarms?: ObservedEtcd['alarms']; annotations?: Record<string, string>; backups?: ObservedCluster['backups']; etcd?: false } = {}): ObservedCluster {
  const leaderOrdinal = opts.leader === undefined ? members.find((m) => !m.learner && !m.down)?.ordinal : opts.leader;
  const leaderId = leaderOrdinal === null || leaderOrdinal === undefined ? 0n : id(leaderOrdinal);
  const observed: ObservedMember[] = members.map((m) => ({
    id: id(m.ordinal),
    name: m.unstarted === true ? '' : `a-${m.ordinal}`,
    podName: `a-${m.ordinal}`,
    peerURL: peer(m.ordinal),
    isLearner: m.learner === true,
    probe: m.down === true || m.unstarted === true ? undefined : { version: '3.4.23', dbSizeBytes: 1000, dbSizeInUseBytes: 900, leaderId, raftIndex: m.raftIndex ?? 100, raftAppliedIndex: m.raftIndex ?? 100, revision: m.revision ?? 50, isLearner: m.learner === true, errors: [] },
  }));
  const pods = [
    ...members.filter((m) => m.pod !== 'missing').map((m) => ({
      name: `a-${m.ordinal}`,
      phase: m.pod === 'failed' ? 'Failed' : 'Running',
      ready: (m.pod ?? 'ready') === 'ready' && m.down !== true,
      readyTransitionMs: NOW - (m.notReadyForMs ?? 0),
      deleting: m.pod === 'deleting',
    })),
    ...(opts.extraPods ?? []).map((o) => ({ name: `a-${o}`, phase: 'Running', ready: true, readyTransitionMs: NOW, deleting: false })),
  ];
  const claims = [
    ...members.filter((m) => m.claim !== false).map((m) => ({ name: `a-${m.ordinal}`, bootstrap: (m.ordinal === 0 ? 'new' : 'existing') as 'new' | 'existing', deleting: false })),
    ...(opts.extraClaims ?? []).map((o) => ({ name: `a-${o}`, bootstrap: 'existing' as const, deleting: false })),
  ];
  return {
    nowMs: NOW,
    name: 'a',
    namespace: 'ns',
    generation: 1,
    createdMs: CREATED,
    deleting: false,
    annotations: opts.annotations ?? {},
    spec: withDefaults({ replicas: 3, memberFailureTimeoutSeconds: 60, ...opts.spec }),
    status: opts.status ?? {},
    pods,
    claims,
    services: { peer: true, client: true },
    pdbMinAvailable: quorum(opts.spec?.replicas ?? 3),
    etcd: opts.etcd === false ? undefined : { members: observed, leaderId: leaderId === 0n ? undefined : leaderId, clusterId: 1n, alarms: opts.alarms ?? [] },
    backups: opts.backups ?? [],
    bootstrapBackup: undefined,
  };
}

const three = [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }];
const summary = (a: Action | null): string | null => {
  if (a === null) return null;
  switch (a.type) {
    case 'Wait':
      return `Wait ${a.reason}`;
    case 'CreateMember':
      return `CreateMember ${a.podName} ${a.bootstrap} [${a.peers.map((p) => p.name).join(',')}]`;
    case 'CreateClaim':
    case 'AddLearner':
      return `${a.type} ${a.podName}`;
    case 'PromoteLearner':
    case 'RemoveMember':
      return `${a.type} ${a.name}`;
    case 'MoveLeader':
      return `MoveLeader ${a.fromId.toString(16)}→${a.toName}`;
    case 'DeleteMemberResources':
      return `DeleteMemberResources ${a.podName}`;
    case 'Compact':
      return `Compact ${a.revision ?? '-'}`;
    case 'Defragment':
      return `Defragment ${a.name}${a.last ? ' last' : ''}`;
    case 'CreateBackup':
    case 'DeleteBackup':
      return `${a.type} ${a.name}`;
    default:
      return a.type;
  }
};

const TABLE: readonly [string, ObservedCluster, string | null][] = [
  ['steady 3 of 3: nothing', cluster(three), null],
  ['spec.tls: seeded like any cluster (TLS is in the pod spec and the operator\'s channel, not a planner step)', { ...cluster([], { etcd: false, spec: { tls: { client: { secretName: 's' }, peer: { secretName: 'p' } } } }), pods: [], claims: [] }, 'CreateMember a-0 new []'],
  ['client TLS Secret unusable: wait, even with nothing running (no seed next to a cluster we cannot see)', { ...cluster([], { etcd: false, spec: { tls: { client: { secretName: 's' } } } }), pods: [], claims: [], clientTlsProblem: 'client TLS Secret s not found' }, 'Wait ClientTLSSecretNotReady'],
  ['services first', { ...cluster(three), services: { peer: false, client: true } }, 'CreateService'],
  ['PDB tracks the quorum of the declared size', { ...cluster(three), pdbMinAvailable: 1 }, 'ApplyPodDisruptionBudget'],
  ['nothing exists: seed member 0', { ...cluster([], { etcd: false }), pods: [], claims: [] }, 'CreateMember a-0 new []'],
  ['seed pod starting: wait', cluster([{ ordinal: 0 }], { etcd: false }), 'Wait MembersStarting'],
  ['all down after having formed: quorum lost', cluster(three, { etcd: false, status: { clusterId: 'abc' } }), 'Wait QuorumLost'],
  ['all down, one pod gone: bring it back from its claim', cluster([{ ordinal: 0 }, { ordinal: 1, pod: 'missing' }], { etcd: false }), 'CreateMember a-1 existing []'],
  ['1 of 3: claim for the next member', cluster([{ ordinal: 0 }]), 'CreateClaim a-1'],
  ['spare claim: add it as a learner', cluster([{ ordinal: 0 }], { extraClaims: [1] }), 'AddLearner a-1'],
  ['learner added, no pod yet: pod joins the existing cluster', cluster([{ ordinal: 0 }, { ordinal: 1, learner: true, unstarted: true, pod: 'missing' }]), 'CreateMember a-1 existing [a-0]'],
  ['learner starting: wait', cluster([{ ordinal: 0 }, { ordinal: 1, learner: true, unstarted: true }]), 'Wait LearnerStarting'],
  ['learner behind: wait', cluster([{ ordinal: 0, raftIndex: 1000 }, { ordinal: 1, learner: true, raftIndex: 10 }]), 'Wait LearnerCatchingUp'],
  ['learner in sync: promote', cluster([{ ordinal: 0, raftIndex: 1000 }, { ordinal: 1, learner: true, raftIndex: 995 }]), 'PromoteLearner a-1'],
  ['learner not needed at this size: remove it', cluster([...three, { ordinal: 3, learner: true }]), 'RemoveMember a-3'],
  ['scale 3 → 5 adds one claim, not two', cluster(three, { spec: { replicas: 5 } }), 'CreateClaim a-3'],
  ['scale 5 → 3: highest ordinal removed first', cluster([...three, { ordinal: 3 }, { ordinal: 4 }], { leader: 0 }), 'RemoveMember a-4'],
  ['scale down: leader is the victim, move leadership to the lowest ordinal first', cluster([...three, { ordinal: 3 }, { ordinal: 4 }], { leader: 4 }), 'MoveLeader 1004→a-0'],
  ['removed member: its pod and claim are deleted', cluster(three, { extraPods: [3], extraClaims: [3] }), 'DeleteMemberResources a-3'],
  ['unused claim at full size: deleted', cluster(three, { extraClaims: [5] }), 'DeleteClaim'],
  ['pod briefly gone, claim kept: re-created, not scaled in', cluster([{ ordinal: 0 }, { ordinal: 1, pod: 'missing', down: true }, { ordinal: 2 }]), 'CreateMember a-1 existing [a-0,a-2]'],
  ['pod terminating: wait for it', cluster([{ ordinal: 0 }, { ordinal: 1, pod: 'deleting', down: true }, { ordinal: 2 }]), 'Wait PodTerminating'],
  ['member down briefly: wait, do not replace', cluster([{ ordinal: 0 }, { ordinal: 1, down: true, pod: 'notReady', notReadyForMs: 5_000 }, { ordinal: 2 }]), 'Wait MemberUnhealthy'],
  ['member down past the timeout: removed (replace)', cluster([{ ordinal: 0 }, { ordinal: 1, down: true, pod: 'notReady', notReadyForMs: 61_000 }, { ordinal: 2 }]), 'RemoveMember a-1'],
  ['pod Failed: removed at once', cluster([{ ordinal: 0 }, { ordinal: 1, down: true, pod: 'failed' }, { ordinal: 2 }]), 'RemoveMember a-1'],
  ['claim and pod gone (data lost): member removed', cluster([{ ordinal: 0 }, { ordinal: 1, down: true, pod: 'missing', claim: false }, { ordinal: 2 }]), 'RemoveMember a-1'],
  ['two of three failed: removing one would break quorum, wait', cluster([{ ordinal: 0 }, { ordinal: 1, down: true, pod: 'failed' }, { ordinal: 2, down: true, pod: 'failed' }]), 'Wait QuorumAtRisk'],
  ['after a removal, the replacement gets the next ordinal', cluster([{ ordinal: 0 }, { ordinal: 2 }]), 'CreateClaim a-3'],
  ['NOSPACE: compact to the current revision first', cluster(three, { alarms: [{ memberId: id(0), alarm: 'NOSPACE' }] }), 'Compact 50'],
  ['NOSPACE after compaction: defragment a follower first', cluster(three, { alarms: [{ memberId: id(0), alarm: 'NOSPACE' }], status: { lastCompaction: { revision: 50, time: '2026-01-01T12:00:00Z' } } }), 'Defragment a-1'],
  ['NOSPACE after compaction and defragmentation: disarm', cluster(three, { alarms: [{ memberId: id(0), alarm: 'NOSPACE' }], status: { lastCompaction: { revision: 50, time: '2026-01-01T12:00:00Z' }, lastDefragmentation: { time: '2026-01-01T12:00:10Z' } } }), 'DisarmAlarm'],
  ['compaction (revision mode): not yet at twice the retention', cluster(three.map((m) => ({ ...m, revision: 150 })), { spec: { compaction: { mode: 'revision', retention: '100' } } }), null],
  ['compaction (revision mode): compact to revision − retention', cluster(three.map((m) => ({ ...m, revision: 250 })), { spec: { compaction: { mode: 'revision', retention: '100' } } }), 'Compact 150'],
  ['compaction (periodic): first pass records a checkpoint only', cluster(three, { spec: { compaction: { mode: 'periodic', retention: '1h' } } }), 'Compact -'],
  ['compaction (periodic): checkpoint an hour old is compacted to', cluster(three, { spec: { compaction: { mode: 'periodic', retention: '1h' } }, status: { compactionCheckpoint: { revision: 20, time: '2026-01-01T11:00:00Z' } } }), 'Compact 20'],
  ['defragmentation requested: followers first', cluster(three, { annotations: { 'etcd.corvid.dev/defragment': 'x' } }), 'Defragment a-1'],
  ['defragmentation round: leader last', cluster(three, { status: { defragmentation: { startTime: '2026-01-01T12:00:00Z', reason: 'r', done: ['a-1', 'a-2'] } } }), 'Defragment a-0 last'],
  ['defragmentation request already served: nothing', cluster(three, { annotations: { 'etcd.corvid.dev/defragment': 'x' }, status: { lastDefragmentation: { time: '2026-01-01T12:00:00Z', request: 'x' } } }), null],
  ['scheduled defragmentation due', cluster(three, { spec: { defragmentation: { schedule: '0 12 * * *' } }, status: { lastDefragmentation: { time: '2026-01-01T11:00:00Z' } } }), 'Defragment a-1'],
  ['backup schedule: due minute creates a backup named for it', cluster(three, { spec: { backup: { schedule: '0 * * * *', retention: 2, destination: {} } }, backups: [{ name: 'a-202601011100', phase: 'Succeeded', scheduled: true, tickMs: Date.parse('2026-01-01T11:00:00Z'), revision: 1, finishTime: 'x', location: 'y' }] }), 'CreateBackup a-202601011200'],
  ['backup schedule: nothing due', cluster(three, { spec: { backup: { schedule: '0 * * * *', retention: 2, destination: {} } }, backups: [{ name: 'a-202601011200', phase: 'Succeeded', scheduled: true, tickMs: Date.parse('2026-01-01T12:00:00Z'), revision: 1, finishTime: 'x', location: 'y' }] }), null],
  ['backup retention: the oldest beyond N is deleted', cluster(three, { spec: { backup: { retention: 2, destination: {} } }, backups: [1, 2, 3].map((h) => ({ name: `b${h}`, phase: 'Succeeded', scheduled: true, tickMs: h * 3_600_000, revision: h, finishTime: 'x', location: 'y' })) }), 'DeleteBackup b1'],
  ['maintenance waits for membership: scale first, then compact', cluster([{ ordinal: 0, revision: 500 }], { spec: { compaction: { mode: 'revision', retention: '10' } } }), 'CreateClaim a-1'],
];

describe('decide: one next step per observed state', () => {
  test.each(TABLE)('%s', (_name, observed, expected) => {
    expect(summary(decide(observed))).toBe(expected);
  });

  test('a deleted cluster takes no step', () => {
    expect(decide({ ...cluster([]), deleting: true })).toBeNull();
  });
});

describe('decide: safety over generated states', () => {
  const memberArb = fc.record({ down: fc.boolean(), learner: fc.boolean(), pod: fc.constantFrom<'ready' | 'notReady' | 'failed' | 'missing'>('ready', 'notReady', 'failed', 'missing'), claim: fc.boolean(), notReadyForMs: fc.integer({ min: 0, max: 200_000 }) });
  const stateArb = fc.record({ members: fc.array(memberArb, { minLength: 1, maxLength: 7 }), replicas: fc.constantFrom(1, 3, 5, 7), leaderPick: fc.nat() });

  test('never removes a voter when the healthy voters left would be fewer than a quorum', () => {
    fc.assert(
      fc.property(stateArb, ({ members, replicas, leaderPick }) => {
        const specs = members.map((m, ordinal) => ({ ...m, ordinal, ...(m.pod === 'failed' || m.pod === 'missing' ? { down: true } : {}) }));
        const up = specs.filter((m) => !m.down && !m.learner);
        const leader = up.length === 0 ? null : (up[leaderPick % up.length] as MemberSpec).ordinal;
        const o = cluster(specs, { spec: { replicas }, leader });
        const a = decide(o);
        if (a?.type !== 'RemoveMember') return true;
        const etcd = o.etcd as ObservedEtcd;
        const victim = etcd.members.find((m) => m.id === a.memberId) as ObservedMember;
        if (victim.isLearner) return true;
        const voters = etcd.members.filter((m) => !m.isLearner);
        const healthyLeft = voters.filter((m) => m !== victim && m.probe !== undefined && m.probe.leaderId !== 0n).length;
        return healthyLeft >= quorum(voters.length - 1);
      }),
      { numRuns: 2_000 },
    );
  });

  test('never adds a learner while another is pending, or while a member is unhealthy', () => {
    fc.assert(
      fc.property(stateArb, ({ members, replicas }) => {
        const specs = members.map((m, ordinal) => ({ ...m, ordinal }));
        const o = cluster(specs, { spec: { replicas }, extraClaims: [members.length + 1] });
        const a = decide(o);
        if (a?.type !== 'AddLearner') return true;
        const etcd = o.etcd as ObservedEtcd;
        return !etcd.members.some((m) => m.isLearner) && etcd.members.every((m) => m.probe !== undefined);
      }),
      { numRuns: 2_000 },
    );
  });
});
