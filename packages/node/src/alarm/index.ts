/** Cluster alarms (NOSPACE, CORRUPT): raised and cleared through the log, read by API and applier. */
export { AlarmStore, type AlarmMember } from './alarm-store.js';
export { isTxnReadonly, refusedUnderCorrupt } from './corrupt.js';
export { DEFAULT_QUOTA_BYTES, QuotaChecker, requestCost, type QuotaRequest } from './quota.js';
