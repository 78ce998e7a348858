/** Cluster identity, bootstrap and the applied membership. */
export { computeClusterId, computeMemberId, formatId } from './identity.js';
export { BootstrapError, resolveInitialCluster } from './bootstrap.js';
export type { BootstrapCluster, BootstrapMember } from './bootstrap.js';
export { MAX_LEARNERS, MembershipStore, type Member, type MemberChange } from './membership.js';
