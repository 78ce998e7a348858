/**
 * @corvid/raft — a pure Raft consensus library: messages and ticks in, Ready batches out.
 * No I/O, no timers, no clock, no global randomness. See docs/raft.md for the Ready loop contract.
 */
export { AssertionError, assert } from './assert.js';
export type { RaftConfig } from './config.js';
export type { Logger } from './logger.js';
export { SILENT_LOGGER } from './logger.js';
export type {
  ConfChange, ConfChangeType, ConfState, Entry, EntryType, HardState, Message, MessageType, NodeId, Snapshot,
  SnapshotMetadata, MessageFields,
} from './messages.js';
export {
  CONF_CHANGE_TYPE_NUMBERS, ENTRY_TYPE_NUMBERS, MESSAGE_TYPE_NUMBERS, EMPTY_BYTES, EMPTY_CONF_STATE, EMPTY_HARD_STATE, EMPTY_SNAPSHOT, NONE, decodeConfChange, encodeConfChange,
  isEmptySnapshot, isLocalMessage, isResponseMessage, newMessage,
} from './messages.js';
export type { LogStorage, StorageError, StorageResult } from './storage.js';
export { BOOTSTRAP_INDEX, BOOTSTRAP_TERM, MemoryStorage, bootstrapState } from './storage.js';
export type { DropReason, RaftRole, ReadState, SoftState, StepResult } from './raft.js';
export type { Ready } from './ready.js';
export { isReadyEmpty } from './ready.js';
export type { ProgressStatus, Status } from './raw-node.js';
export { RawNode } from './raw-node.js';
export type { ProgressState } from './progress/progress.js';
export type { VoteResult } from './quorum/majority.js';
export { committedIndex, majoritySize, voteResult } from './quorum/majority.js';
export { applyConfChange as applyConfChangeToConfig } from './confchange/confchange.js';
export { describeEntries, describeEntry, describeHardState, describeMessage, describeReady, describeSnapshot } from './describe.js';
