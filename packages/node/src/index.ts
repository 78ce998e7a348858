/** @corvid/node — one Corvid member. The `corvid` command (cli/main.ts) is the usual way to run it. */
export { startMember } from './server/index.js';
export type { MemberOptions, RunningMember } from './server/index.js';
export { parseConfig } from './config/index.js';
export type { Config } from './config/index.js';
export { CATALOGUE, UNKNOWN_ERROR_TEXT } from './api/errors.js';
export type { CatalogueEntry } from './api/errors.js';
export type { ErrorCode } from './errors/index.js';
