export const RAFT_PLACEHOLDER = true;
