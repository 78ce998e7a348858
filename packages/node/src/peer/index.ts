/**
 * The peer transport (issue #4): Raft messages between members over gRPC. See docs/peer-transport.md.
 */
export type { PeerHandler, SnapshotSource } from './handler.js';
export { PeerTransport, type PeerTransportOptions } from './transport.js';
export { listenForPeers } from './listener.js';
export { PeerTls, type PeerTlsOptions } from './peer-tls.js';
export { MAX_QUEUE_MESSAGES } from './limits.js';
