/** Candidates and pre-candidates: count votes, and yield to a leader of the same term. */
import type { Message } from '../messages.js';
import type { Raft, StepResult } from '../raft.js';
import { STEP_OK, drop } from '../raft.js';
import { bcastAppend } from './leader.js';
import { handleAppendEntries, handleHeartbeat, handleSnapshot } from './follower.js';

export function stepCandidate(r: Raft, m: Message): StepResult {
  // A pre-candidate only counts pre-votes; a candidate only real votes (stale ones of the other kind are ignored).
  const myVoteRespType = r.role === 'PreCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
  switch (m.type) {
    case 'MsgProp':
      return drop('no-leader');
    case 'MsgApp':
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return STEP_OK;
    case 'MsgHeartbeat':
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return STEP_OK;
    case 'MsgSnap':
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return STEP_OK;
    case myVoteRespType: {
      const result = r.poll(m.from, m.type, !m.reject);
      if (result === 'won') {
        if (r.role === 'PreCandidate') r.campaign('election');
        else {
          r.becomeLeader();
          bcastAppend(r);
        }
      } else if (result === 'lost') {
        // MsgPreVoteResp carries a future term; stay in our own term.
        r.becomeFollower(r.term, 0n);
      }
      return STEP_OK;
    }
    case 'MsgTimeoutNow':
      return STEP_OK;
    case 'MsgReadIndex':
    case 'MsgTransferLeader':
      return drop('no-leader');
    default:
      return STEP_OK;
  }
}
