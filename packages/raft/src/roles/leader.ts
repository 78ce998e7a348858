/** The leader's side of the protocol: replication, commit, heartbeats, ReadIndex and leadership transfer. */
import type { Message, NodeId } from '../messages.js';
import { NONE, entrySizeBytes } from '../messages.js';
import type { Progress } from '../progress/progress.js';
import { voteResult } from '../quorum/majority.js';
import type { Raft, StepResult } from '../raft.js';
import { STEP_OK, drop } from '../raft.js';

/** Commits the highest index a quorum has replicated, if it belongs to this term. */
export function maybeCommit(r: Raft): boolean {
  return r.log.maybeCommit(r.trk.committed(), r.term);
}

/**
 * Sends an append (or a snapshot if the entries are compacted) to `to` unless its progress is paused.
 * With sendIfEmpty false, nothing is sent when there are no new entries. Returns whether a message was sent.
 */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  const ents = r.log.entries(pr.next, r.cfg.maxSizePerMsgBytes);
  if (typeof prevTerm !== 'number' || !ents.ok) return sendSnapshot(r, to, pr);
  if (ents.entries.length === 0 && !sendIfEmpty) return false;
  let bytes = 0;
  for (const e of ents.entries) bytes += entrySizeBytes(e);
  r.send({ type: 'MsgApp', to, index: prevIndex, logTerm: prevTerm, entries: ents.entries, commit: r.log.committed });
  const last = ents.entries[ents.entries.length - 1];
  pr.sentEntries(ents.entries.length, last === undefined ? prevIndex : last.index, bytes);
  return true;
}

function sendSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  if (!pr.recentActive) return false; // wait until it answers: a snapshot is expensive
  const snap = r.log.snapshot();
  if (snap === null || snap.metadata.index === 0) return false;
  pr.becomeSnapshot(snap.metadata.index);
  r.logger.info('sent snapshot', { id: r.id, to, index: snap.metadata.index, term: snap.metadata.term });
  r.send({ type: 'MsgSnap', to, snapshot: snap });
  return true;
}

export function sendAppend(r: Raft, to: NodeId): void {
  maybeSendAppend(r, to, true);
}

export function bcastAppend(r: Raft): void {
  r.trk.visit((id) => {
    if (id !== r.id) sendAppend(r, id);
  });
}

function sendHeartbeat(r: Raft, to: NodeId, ctx: Uint8Array | null): void {
  // Never advance a follower's commit beyond what it is known to hold (it may lack the entries).
  const commit = Math.min(r.trk.progress.get(to)!.match, r.log.committed);
  r.send({ type: 'MsgHeartbeat', to, commit, context: ctx });
}

export function bcastHeartbeat(r: Raft, ctx: Uint8Array | null): void {
  r.trk.visit((id) => {
    if (id !== r.id) sendHeartbeat(r, id, ctx);
  });
}

function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send({ type: 'MsgTimeoutNow', to });
}

export function stepLeader(r: Raft, m: Message): StepResult {
  switch (m.type) {
    case 'MsgBeat':
      bcastHeartbeat(r, r.readOnly.lastPendingRequestCtx());
      return STEP_OK;
    case 'MsgCheckQuorum':
      if (!r.trk.quorumActive()) {
        r.logger.warn('stepped down to follower since quorum is not active', { id: r.id, term: r.term });
        r.becomeFollower(r.term, NONE);
      }
      r.trk.visit((id, pr) => { if (id !== r.id) pr.recentActive = false; });
      return STEP_OK;
    case 'MsgProp':
      return propose(r, m);
    case 'MsgReadIndex':
      return readIndex(r, m);
    default:
      break;
  }
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) return STEP_OK;
  switch (m.type) {
    case 'MsgAppResp':
      handleAppendResponse(r, m, pr);
      break;
    case 'MsgHeartbeatResp':
      handleHeartbeatResponse(r, m, pr);
      break;
    case 'MsgSnapStatus':
      if (pr.state !== 'Snapshot') break;
      if (m.reject) pr.snapshotFailed();
      else {
        pr.becomeProbe();
        pr.probeSent = true; // wait for the MsgAppResp from applying the snapshot
      }
      break;
    case 'MsgUnreachable':
      if (pr.state === 'Replicate') pr.becomeProbe();
      break;
    case 'MsgTransferLeader':
      transferLeader(r, m.from, pr);
      break;
    default:
      break;
  }
  return STEP_OK;
}

function propose(r: Raft, m: Message): StepResult {
  if (m.entries.length === 0) return drop('empty-proposal');
  if (!r.trk.progress.has(r.id)) return drop('removed');
  if (r.leadTransferee !== NONE) return drop('transferring');
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!;
    if (e.type !== 'ConfChange') continue;
    const check = r.checkConfChangeProposal(e.data);
    if (!check.ok) return check;
    r.pendingConfIndex = r.log.lastIndex() + i + 1;
  }
  if (!r.appendEntry(m.entries)) return drop('uncommitted-limit');
  bcastAppend(r);
  return STEP_OK;
}

function readIndex(r: Raft, m: Message): StepResult {
  if (r.trk.isSingleton()) {
    respondToReadIndex(r, m, r.log.committed);
    return STEP_OK;
  }
  if (r.readOnly.pendingCount() + r.pendingReadIndexMessages.length >= r.cfg.maxPendingReadIndexRequests) return drop('read-index-limit');
  // Until an entry of this term commits, our commit index may be behind the previous leader's (thesis §6.4).
  if (r.log.term(r.log.committed) !== r.term) {
    r.pendingReadIndexMessages.push(m);
    return STEP_OK;
  }
  sendReadIndexRequest(r, m);
  return STEP_OK;
}

function sendReadIndexRequest(r: Raft, m: Message): void {
  const ctx = m.entries[0]!.data;
  r.readOnly.addRequest(r.log.committed, m);
  r.readOnly.recvAck(r.id, ctx);
  bcastHeartbeat(r, ctx);
}

export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || r.log.term(r.log.committed) !== r.term) return;
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) sendReadIndexRequest(r, m);
}

function respondToReadIndex(r: Raft, req: Message, index: number): void {
  const ctx = req.entries[0]!.data;
  if (req.from === NONE || req.from === r.id) r.readStates.push({ index, requestCtx: ctx });
  else r.send({ type: 'MsgReadIndexResp', to: req.from, index, entries: req.entries });
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    let nextProbeIndex = m.rejectHint;
    if (m.logTerm > 0) nextProbeIndex = r.log.findConflictByTerm(m.rejectHint, m.logTerm);
    if (pr.maybeDecrTo(m.index, nextProbeIndex)) {
      if (pr.state === 'Replicate') pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  const oldPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === 'Probe') pr.becomeReplicate();
  else if (pr.state === 'Snapshot' && pr.match + 1 >= r.log.firstIndex()) {
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === 'Replicate') pr.inflights.freeLE(m.index);

  if (maybeCommit(r)) {
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  } else if (oldPaused) {
    sendAppend(r, m.from);
  }
  while (maybeSendAppend(r, m.from, false)) {
    // keep the pipeline full while the window allows
  }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.logger.info('sent MsgTimeoutNow after received MsgAppResp', { id: r.id, to: m.from });
    sendTimeoutNow(r, m.from);
  }
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.heartbeatAcked();
  if (pr.match < r.log.lastIndex()) sendAppend(r, m.from);
  if (m.context === null) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === null || voteResult(r.trk.voterIds(), acks) !== 'won') return;
  for (const rs of r.readOnly.advance(m.context)) respondToReadIndex(r, rs.req, rs.index);
}

function transferLeader(r: Raft, transferee: NodeId, pr: Progress): void {
  if (pr.isLearner) {
    r.logger.debug('ignored transferring leadership to a learner', { id: r.id, to: transferee });
    return;
  }
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === transferee) return; // the same transfer is in progress
    r.abortLeaderTransfer();
  }
  if (transferee === r.id) return; // already the leader
  // The transfer must finish within one election timeout, or it is aborted (tickHeartbeat).
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  r.logger.info('starts to transfer leadership', { id: r.id, to: transferee, term: r.term });
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, transferee);
  else sendAppend(r, transferee);
}
