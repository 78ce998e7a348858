/** The member as a whole: start it from a Config, close it on shutdown. */
export { startMember } from './member.js';
export type { MemberOptions, RunningMember } from './member.js';
