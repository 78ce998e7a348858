/** Cluster identity and membership. Membership changes arrive with the Raft cluster (issue #4). */
export { computeClusterId, computeMemberId, formatId } from './identity.js';
