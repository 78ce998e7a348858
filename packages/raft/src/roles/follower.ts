/** Followers: accept appends, heartbeats and snapshots from the leader, forward proposals and reads to it. */
import type { Message } from '../messages.js';
import { NONE, newMessage } from '../messages.js';
import type { Raft, StepResult } from '../raft.js';
import { STEP_OK, drop } from '../raft.js';

export function stepFollower(r: Raft, m: Message): StepResult {
  switch (m.type) {
    case 'MsgProp':
    case 'MsgTransferLeader':
    case 'MsgReadIndex':
      if (r.lead === NONE) return drop('no-leader');
      r.msgs.push(newMessage({ ...m, to: r.lead, from: m.from === NONE ? r.id : m.from }));
      return STEP_OK;
    case 'MsgApp':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return STEP_OK;
    case 'MsgHeartbeat':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return STEP_OK;
    case 'MsgSnap':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return STEP_OK;
    case 'MsgTimeoutNow':
      // The leader is handing over: campaign at once, skipping pre-vote (the transfer context forces votes).
      r.logger.info('received MsgTimeoutNow and starts an election to get leadership', { id: r.id, term: r.term });
      r.hup('transfer');
      return STEP_OK;
    case 'MsgReadIndexResp':
      if (m.entries.length === 1) r.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
      return STEP_OK;
    default:
      return STEP_OK;
  }
}

export function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.log.committed) {
    r.send({ type: 'MsgAppResp', to: m.from, index: r.log.committed });
    return;
  }
  const lastNewIndex = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNewIndex !== null) {
    r.send({ type: 'MsgAppResp', to: m.from, index: lastNewIndex });
    return;
  }
  // Reject with a hint: the largest index <= m.index whose term is <= m.logTerm, so the leader can skip a
  // whole term of conflicting entries per round trip.
  const hintIndex = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm);
  const hintTerm = r.log.term(hintIndex);
  r.logger.debug('rejected MsgApp', { id: r.id, index: m.index, logTerm: m.logTerm, hintIndex });
  r.send({ type: 'MsgAppResp', to: m.from, index: m.index, reject: true, rejectHint: hintIndex,
    logTerm: typeof hintTerm === 'number' ? hintTerm : 0 });
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.log.commitTo(m.commit);
  r.send({ type: 'MsgHeartbeatResp', to: m.from, context: m.context });
}

export function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot;
  if (s === null) return;
  if (r.restore(s)) r.send({ type: 'MsgAppResp', to: m.from, index: r.log.lastIndex() });
  else r.send({ type: 'MsgAppResp', to: m.from, index: r.log.committed });
}
