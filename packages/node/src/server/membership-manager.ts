/**
 * Membership changes as etcd 3.4's EtcdServer makes them (AddMember, RemoveMember, UpdateMember,
 * PromoteMember): the --strict-reconfig-check safety checks run here, on the member that takes
 * the request; the change itself is a Raft ConfChange (or, for new peer URLs, a normal entry)
 * validated at apply time (cluster/membership.ts). MemberPromote needs the leader's view of the
 * learner's progress, so a follower forwards it to the leader over the peer port.
 */
import { createHash } from 'node:crypto';
import type { Member, MembershipStore } from '../cluster/index.js';
import { CorvidError } from '../errors/index.js';
import type { Proposer } from './proposer.js';

/** etcd's HealthInterval: a peer heard from within it counts as connected. */
export const HEALTH_INTERVAL_MS = 5000;
/** etcd's readyPercent: a learner is in sync once its match index reaches 90% of the leader's. */
const LEARNER_READY_FRACTION = 0.9;

export interface MembershipRaft {
  readonly memberId: bigint;
  isLeader(): boolean;
  leader(): bigint;
  /** The leader's view of each member's match index (empty on a follower). */
  progress(): ReadonlyMap<bigint, { match: number }>;
}

export interface MembershipManagerDeps {
  readonly raft: MembershipRaft;
  readonly members: MembershipStore;
  readonly proposer: Proposer;
  /** etcd's ActiveSince: how long (ms) our stream to `id` has been open, or null when it is not. */
  readonly activeForMs: (id: bigint) => number | null;
  /** --strict-reconfig-check (etcd's default: on). */
  readonly strictReconfigCheck: boolean;
  /** Forwards MemberPromote to the leader's peer URLs; resolves with the members after it. */
  readonly forwardPromote: (leader: Member, id: bigint) => Promise<Member[]>;
  readonly nowMs: () => number;
}

export interface MemberAddResult {
  readonly member: Member;
  readonly members: Member[];
}

export class MembershipManager {
  constructor(private readonly deps: MembershipManagerDeps) {}

  list(): Member[] {
    return this.deps.members.list();
  }

  async add(peerUrls: readonly string[], isLearner: boolean): Promise<MemberAddResult> {
    checkPeerUrls(peerUrls);
    const member: Member = { ID: newMemberId(peerUrls, this.deps.nowMs()), name: '', peerURLs: [...peerUrls], clientURLs: [], isLearner };
    if (this.deps.strictReconfigCheck) {
      if (!isLearner && !readyToAddVoter(this.voters())) throw new CorvidError('MemberNotEnoughStarted');
      if (!this.connectedToAll()) throw new CorvidError('Unhealthy');
    }
    const response = await this.deps.proposer.proposeConfChange(isLearner ? 'AddLearnerNode' : 'AddNode', member.ID, { member, promote: false });
    return { member, members: membersOf(response) };
  }

  async remove(id: bigint): Promise<Member[]> {
    if (this.deps.strictReconfigCheck) this.mayRemove(id);
    return membersOf(await this.deps.proposer.proposeConfChange('RemoveNode', id, { member: undefined, promote: false }));
  }

  async update(id: bigint, peerUrls: readonly string[]): Promise<Member[]> {
    checkPeerUrls(peerUrls);
    return membersOf(await this.deps.proposer.propose({ $case: 'memberPeerUrls', value: { id, peerUrls: [...peerUrls] } }));
  }

  /** MemberPromote: on the leader, checked and proposed here; elsewhere forwarded to the leader. */
  async promote(id: bigint): Promise<Member[]> {
    const { raft } = this.deps;
    if (raft.isLeader()) return this.promoteOnLeader(id);
    const leader = this.deps.members.get(raft.leader());
    if (leader === undefined) throw new CorvidError('NoLeader');
    return this.deps.forwardPromote(leader, id);
  }

  /** etcd's promoteMember: the learner must be in sync with the leader. */
  async promoteOnLeader(id: bigint): Promise<Member[]> {
    const { raft } = this.deps;
    if (!raft.isLeader()) throw new CorvidError('NotLeader');
    const progress = raft.progress();
    const learner = progress.get(id);
    const leader = progress.get(raft.memberId);
    if (learner !== undefined && leader !== undefined && learner.match < leader.match * LEARNER_READY_FRACTION) {
      throw new CorvidError('LearnerNotReady');
    }
    if (this.deps.strictReconfigCheck && !readyToPromote(this.voters())) throw new CorvidError('MemberNotEnoughStarted');
    return membersOf(await this.deps.proposer.proposeConfChange('AddNode', id, { member: { ID: id, name: '', peerURLs: [], clientURLs: [], isLearner: false }, promote: true }));
  }

  private voters(): Member[] {
    return this.deps.members.list().filter((m) => !m.isLearner);
  }

  /** etcd's mayRemoveMember. */
  private mayRemove(id: bigint): void {
    const target = this.deps.members.get(id);
    if (target?.isLearner === true) return;
    const others = this.voters().filter((m) => m.ID !== id);
    if (started(others) < quorum(others.length)) throw new CorvidError('MemberNotEnoughStarted');
    // A member that is down is not part of the active quorum: removing it is safe.
    if (id !== this.deps.raft.memberId && this.deps.activeForMs(id) === null) return;
    const voters = this.voters();
    const connected = voters.filter((m) => m.ID === this.deps.raft.memberId || this.connectedLongEnough(m.ID)).length;
    if (connected - 1 < quorum(voters.length - 1)) throw new CorvidError('Unhealthy');
  }

  /** etcd's isConnectedFullySince: every other voter connected for at least the health interval. */
  private connectedToAll(): boolean {
    return this.voters().every((m) => m.ID === this.deps.raft.memberId || this.connectedLongEnough(m.ID));
  }

  /** etcd's numConnectedSince: the stream to `id` has been open for the whole health interval. */
  private connectedLongEnough(id: bigint): boolean {
    const forMs = this.deps.activeForMs(id);
    return forMs !== null && forMs >= HEALTH_INTERVAL_MS;
  }
}

const quorum = (n: number): number => Math.floor(n / 2) + 1;
/** A member is started once it published its name (etcd's Member.IsStarted). */
const started = (members: readonly Member[]): number => members.filter((m) => m.name.length > 0).length;

/** etcd's IsReadyToAddVotingMember. */
function readyToAddVoter(voters: readonly Member[]): boolean {
  const n = voters.length + 1;
  const s = started(voters);
  if (s === 1 && n === 2) return true; // adding a member to a one-member cluster (restoring data)
  return s >= quorum(n);
}

/** etcd's IsReadyToPromoteMember: the learner counts as a started voter. */
function readyToPromote(voters: readonly Member[]): boolean {
  return started(voters) + 1 >= quorum(voters.length + 1);
}

function membersOf(response: unknown): Member[] {
  return (response as { members?: Member[] }).members ?? [];
}

/**
 * etcd's types.NewURLs: at least one URL, each http(s) or unix(s), host:port, without a path.
 * Anything else is `etcdserver: given member URLs are invalid`.
 */
export function checkPeerUrls(urls: readonly string[]): void {
  // "no valid URLs given": without this a member with no address could be added, and as a voter it takes quorum.
  if (urls.length === 0) throw new CorvidError('MemberBadURLs');
  for (const raw of urls) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new CorvidError('MemberBadURLs');
    }
    const schemeOk = ['http:', 'https:', 'unix:', 'unixs:'].includes(url.protocol);
    const hostPort = url.hostname !== '' && url.port !== '';
    const noPath = url.pathname === '' || url.pathname === '/';
    if (!schemeOk || !hostPort || !noPath || raw.endsWith('/')) throw new CorvidError('MemberBadURLs');
  }
}

/** etcd's NewMember id: sha1(sorted peer URLs + cluster name ("" for MemberAdd) + unix seconds). */
export function newMemberId(peerUrls: readonly string[], nowMs: number): bigint {
  const b = [...peerUrls].sort().join('') + String(Math.floor(nowMs / 1000));
  return createHash('sha1').update(b).digest().readBigUInt64BE(0);
}
