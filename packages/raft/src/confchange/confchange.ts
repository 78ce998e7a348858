/**
 * Applies one membership change to a configuration (etcd's confchange.Changer.Simple). Pure: returns the new
 * configuration or the reason the change is refused. Joint consensus is not supported: one change at a time.
 */
import type { ConfChange, NodeId } from '../messages.js';
import type { MembershipConfig } from '../progress/tracker.js';

export type ConfChangeRefusal = 'zero-node-id' | 'removes-all-voters';
export type ConfChangeResult = { readonly ok: true; readonly config: MembershipConfig } | { readonly ok: false; readonly reason: ConfChangeRefusal };

export function applyConfChange(cfg: MembershipConfig, cc: ConfChange): ConfChangeResult {
  if (cc.nodeId === 0n) return { ok: false, reason: 'zero-node-id' };
  const voters = new Set<NodeId>(cfg.voters);
  const learners = new Set<NodeId>(cfg.learners);
  switch (cc.type) {
    case 'AddNode':
      learners.delete(cc.nodeId);
      voters.add(cc.nodeId);
      break;
    case 'AddLearnerNode':
      voters.delete(cc.nodeId);
      learners.add(cc.nodeId);
      break;
    case 'RemoveNode':
      voters.delete(cc.nodeId);
      learners.delete(cc.nodeId);
      break;
  }
  if (voters.size === 0) return { ok: false, reason: 'removes-all-voters' };
  return { ok: true, config: { voters, learners } };
}
