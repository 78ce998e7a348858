/** read-pool: worker threads that serve long reads on their own LMDB snapshot, off the event loop. */
export { ReadPool, MAX_QUEUED_READS, defaultReadWorkers, type ReadPoolOptions } from './pool.js';
export { EncodedRangeResponse, withPreEncodedRange } from './encoded-response.js';
export { encodeRangeResponse } from './encode.js';
export type { HeaderIdentity, ReadJob, ReadReply } from './protocol.js';
