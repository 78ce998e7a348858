/** Every bound of the peer transport, in one place (docs/peer-transport.md explains each). */

/** Messages waiting for one peer's stream; etcd's streamBufSize for the msgapp stream. Beyond it: drop, report unreachable. */
export const MAX_QUEUE_MESSAGES = 4096;
/** Entry bytes waiting for one peer: a slow follower cannot hold 4096 MiB-sized MsgApps in memory. Same overflow rule. */
export const MAX_QUEUE_BYTES = 64 << 20;
/** A batch is closed once it holds this many bytes (it always holds at least one message). */
export const MAX_BATCH_BYTES = 1 << 20;
/** Largest frame a member accepts: a batch of one oversized MsgApp must still fit. */
export const MAX_FRAME_BYTES = 64 << 20;
/** Snapshot files travel in chunks of this size. */
export const SNAPSHOT_CHUNK_BYTES = 1 << 20;
/** Reconnect back-off after a broken stream or a failed dial: doubles from min to max, with jitter. */
export const BACKOFF_MIN_MS = 100;
export const BACKOFF_MAX_MS = 2000;
/** The Ping RPC measures the round trip this often while a stream is up; a ping failing its deadline breaks the stream. */
export const PING_INTERVAL_MS = 3000;
export const PING_TIMEOUT_MS = 5000;
