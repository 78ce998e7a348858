/** Cluster identity and membership. Membership changes arrive with the Raft cluster (issue #4). */
export { computeClusterId, computeMemberId, formatId } from './identity.js';
export { BootstrapError, resolveInitialCluster } from './bootstrap.js';
export type { BootstrapCluster, BootstrapMember } from './bootstrap.js';
