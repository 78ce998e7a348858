/**
 * Safety checkers run by the simulator after every step. Each records a global view (what was committed and
 * applied, who led which term) and throws SafetyViolation the moment any node contradicts it.
 */
import type { Entry, HardState, Message, NodeId } from '../messages.js';

export class SafetyViolation extends Error {
  override name = 'SafetyViolation';
}

function fail(message: string): never {
  throw new SafetyViolation(message);
}

export interface LogView {
  term(index: number): number | null;
  firstIndex(): number;
  lastIndex(): number;
}

/** A 32-bit FNV-1a step over an applied entry: the state machine of the simulation is this running hash. */
export function mixEntry(hash: number, e: Entry): number {
  let h = hash >>> 0;
  const mix = (x: number): void => {
    h = Math.imul(h ^ (x & 0xff), 0x01000193) >>> 0;
  };
  for (const x of [e.index, e.index >>> 8, e.index >>> 16, e.term, e.term >>> 8, e.type === 'Normal' ? 0 : 1]) mix(x);
  for (const b of e.data) mix(b);
  return h;
}

export class SafetyChecker {
  /** term → the node that led it (election safety: at most one). */
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** index → term of the committed entry (state machine safety: committed entries never change). */
  private readonly committedTerm = new Map<number, number>();
  /** index → state-machine hash after applying it (identical applied prefixes). */
  private readonly appliedHash = new Map<number, number>();
  /** (index, term) → prevTerm + data hash of every entry ever persisted (log matching, by induction). */
  private readonly entryIdentity = new Map<string, { prevTerm: number | null; dataHash: number }>();
  maxCommitted = 0;
  private readonly lastCommit = new Map<NodeId, number>();
  private readonly lastApplied = new Map<NodeId, number>();

  onLeader(id: NodeId, term: number): void {
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== id) fail(`election safety: ${other} and ${id} both led term ${term}`);
    this.leaderOfTerm.set(term, id);
  }

  /**
   * A node persisted `entries`; `log` already includes them. (A minority follower may legitimately hold an
   * uncommitted entry at an index committed elsewhere with another term; committed prefixes are checked on
   * apply and at every election, not here.)
   */
  onPersistEntries(id: NodeId, entries: readonly Entry[], log: LogView): void {
    for (const e of entries) {
      const prevTerm = e.index - 1 >= log.firstIndex() - 1 ? log.term(e.index - 1) : null;
      const key = `${e.index}/${e.term}`;
      const dataHash = mixEntry(0, e);
      const seen = this.entryIdentity.get(key);
      if (seen === undefined) {
        this.entryIdentity.set(key, { prevTerm, dataHash });
        continue;
      }
      if (seen.dataHash !== dataHash) fail(`log matching: entry ${key} on node ${id} has different data than elsewhere`);
      if (seen.prevTerm !== null && prevTerm !== null && seen.prevTerm !== prevTerm) {
        fail(`log matching: entry ${key} on node ${id} follows term ${prevTerm}, elsewhere term ${seen.prevTerm}`);
      }
      if (seen.prevTerm === null && prevTerm !== null) this.entryIdentity.set(key, { prevTerm, dataHash });
    }
  }

  /** A node applied entry e, reaching state-machine hash `hash`. */
  onApply(id: NodeId, e: Entry, hash: number): void {
    const prev = this.lastApplied.get(id) ?? 0;
    if (e.index !== prev + 1) fail(`node ${id} applied ${e.index} after ${prev}: gap or repeat`);
    this.lastApplied.set(id, e.index);
    const ct = this.committedTerm.get(e.index);
    if (ct !== undefined && ct !== e.term) fail(`state machine safety: node ${id} applied ${e.term}/${e.index}, committed term is ${ct}`);
    this.committedTerm.set(e.index, e.term);
    this.maxCommitted = Math.max(this.maxCommitted, e.index);
    this.checkHash(id, e.index, hash);
  }

  /** A node restored the state machine from a snapshot at `index`. */
  onApplySnapshot(id: NodeId, index: number, hash: number): void {
    this.checkHash(id, index, hash);
    this.lastApplied.set(id, index);
  }

  /** A node restarted: it will re-apply from its snapshot. */
  onRestart(id: NodeId, appliedIndex: number): void {
    this.lastApplied.set(id, appliedIndex);
  }

  private checkHash(id: NodeId, index: number, hash: number): void {
    const h = this.appliedHash.get(index);
    if (h === undefined) this.appliedHash.set(index, hash);
    else if (h !== hash) fail(`state machine safety: node ${id} state after index ${index} differs from another node's`);
  }

  /** A node made a hard state durable; commit never goes backwards. */
  onDurableHardState(id: NodeId, hs: HardState): void {
    const prev = this.lastCommit.get(id) ?? 0;
    if (hs.commit < prev) fail(`node ${id} durable commit went back from ${prev} to ${hs.commit}`);
    this.lastCommit.set(id, hs.commit);
  }

  /** A node is sending m; everything m depends on must already be durable. */
  onSend(m: Message, durable: HardState, durableLastIndex: number): void {
    const tag = `${m.from}->${m.to} ${m.type} term ${m.term}`;
    if (m.type !== 'MsgPreVote' && m.type !== 'MsgPreVoteResp' && m.term > durable.term) {
      fail(`message left before its hard state was durable: ${tag}, durable term ${durable.term}`);
    }
    if (m.type === 'MsgVoteResp' && !m.reject && durable.term <= m.term && (durable.vote !== m.to || durable.term !== m.term)) {
      fail(`vote granted before it was durable: ${tag}, durable vote ${durable.vote}@${durable.term}`);
    }
    const last = m.entries[m.entries.length - 1];
    if (m.type === 'MsgApp' && last !== undefined && last.index > durableLastIndex) {
      fail(`entries sent before they were durable on the leader: ${tag} up to ${last.index}, durable last ${durableLastIndex}`);
    }
    if (m.type === 'MsgAppResp' && !m.reject && m.index > durableLastIndex) {
      fail(`append acknowledged before it was durable: ${tag} index ${m.index}, durable last ${durableLastIndex}`);
    }
  }

  /** A leader must hold every entry committed so far (leader completeness). */
  onBecomeLeader(id: NodeId, term: number, log: LogView): void {
    this.onLeader(id, term);
    for (let i = Math.max(log.firstIndex(), 1); i <= this.maxCommitted; i++) {
      const ct = this.committedTerm.get(i);
      if (ct === undefined) continue;
      const t = log.term(i);
      if (t !== ct) fail(`leader completeness: leader ${id} of term ${term} has ${t}/${i}, committed term ${ct}`);
    }
  }

  /** A ReadIndex answer must cover every entry committed before the request was issued (linearizable reads). */
  onReadState(id: NodeId, index: number, requiredIndex: number): void {
    if (index < requiredIndex) fail(`stale ReadIndex on node ${id}: read at ${index}, but ${requiredIndex} was committed before the request`);
  }

  termsWithLeader(): number {
    return this.leaderOfTerm.size;
  }

  committedTermAt(index: number): number | undefined {
    return this.committedTerm.get(index);
  }
}
