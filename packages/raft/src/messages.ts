/**
 * Wire-shaped data of the Raft core, kept close to etcd's raftpb so that a transport can encode it into protobuf.
 * Every value here is plain data: no classes, no functions.
 */
import { assert } from './assert.js';

/** A 64-bit member id. `NONE` (0n) means "no node". */
export type NodeId = bigint;
export const NONE: NodeId = 0n;

/** etcd's raftpb.MessageType names. Local messages never leave the node. */
export type MessageType =
  | 'MsgHup' | 'MsgBeat' | 'MsgProp' | 'MsgApp' | 'MsgAppResp' | 'MsgVote' | 'MsgVoteResp' | 'MsgSnap'
  | 'MsgHeartbeat' | 'MsgHeartbeatResp' | 'MsgUnreachable' | 'MsgSnapStatus' | 'MsgCheckQuorum'
  | 'MsgTransferLeader' | 'MsgTimeoutNow' | 'MsgReadIndex' | 'MsgReadIndexResp' | 'MsgPreVote' | 'MsgPreVoteResp';

export type EntryType = 'Normal' | 'ConfChange';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly data: Uint8Array;
  readonly metadata: SnapshotMetadata;
}

/** The state that must be durable before any message of the same Ready is sent. `vote` is NONE when unset. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/** One membership change at a time. Promotion of a learner is `AddNode` on an existing learner. */
export type ConfChangeType = 'AddNode' | 'RemoveNode' | 'AddLearnerNode';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  readonly context: Uint8Array;
}

/** etcd's raftpb.Message. Unused fields hold their zero value (0, false, [], null). */
export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot: Snapshot | null;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly context: Uint8Array | null;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };
export const EMPTY_CONF_STATE: ConfState = { voters: [], learners: [] };
export const EMPTY_SNAPSHOT: Snapshot = { data: EMPTY_BYTES, metadata: { index: 0, term: 0, confState: EMPTY_CONF_STATE } };

export type MessageFields = Partial<Message> & Pick<Message, 'type'>;

/** Builds a message with zero values for every field not given (`from` and `term` may be overridden). */
export function newMessage(f: MessageFields, from: NodeId = f.from ?? NONE, term: number = f.term ?? 0): Message {
  return {
    type: f.type, to: f.to ?? NONE, from, term, logTerm: f.logTerm ?? 0,
    index: f.index ?? 0, entries: f.entries ?? [], commit: f.commit ?? 0, snapshot: f.snapshot ?? null,
    reject: f.reject ?? false, rejectHint: f.rejectHint ?? 0, context: f.context ?? null,
  };
}

const LOCAL: ReadonlySet<MessageType> = new Set<MessageType>(['MsgHup', 'MsgBeat', 'MsgUnreachable', 'MsgSnapStatus', 'MsgCheckQuorum']);
const RESPONSE: ReadonlySet<MessageType> = new Set<MessageType>([
  'MsgAppResp', 'MsgVoteResp', 'MsgHeartbeatResp', 'MsgUnreachable', 'MsgReadIndexResp', 'MsgPreVoteResp',
]);

export function isLocalMessage(t: MessageType): boolean {
  return LOCAL.has(t);
}

export function isResponseMessage(t: MessageType): boolean {
  return RESPONSE.has(t);
}

export function voteResponseType(t: MessageType): MessageType {
  assert(t === 'MsgVote' || t === 'MsgPreVote', () => `not a vote message: ${t}`);
  return t === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp';
}

export function isEmptySnapshot(s: Snapshot | null): boolean {
  return s === null || s.metadata.index === 0;
}

/** Approximate encoded size of an entry; used for message and Ready size caps. */
export function entrySizeBytes(e: Entry): number {
  return e.data.byteLength + 16;
}

/** Size of an entry's payload; used for the uncommitted-size limit (an empty entry costs nothing). */
export function payloadSizeBytes(entries: readonly Entry[]): number {
  let s = 0;
  for (const e of entries) s += e.data.byteLength;
  return s;
}

/** Keeps a prefix of `entries` whose total size is at most maxSizeBytes, but always at least one entry. */
export function limitSize<T extends Entry>(entries: readonly T[], maxSizeBytes: number): readonly T[] {
  if (entries.length === 0) return entries;
  let size = entrySizeBytes(entries[0]!);
  let limit = 1;
  for (; limit < entries.length; limit++) {
    size += entrySizeBytes(entries[limit]!);
    if (size > maxSizeBytes) break;
  }
  return limit === entries.length ? entries : entries.slice(0, limit);
}

/** etcd raftpb.MessageType enum values, for a protobuf codec. */
export const MESSAGE_TYPE_NUMBERS: Readonly<Record<MessageType, number>> = {
  MsgHup: 0, MsgBeat: 1, MsgProp: 2, MsgApp: 3, MsgAppResp: 4, MsgVote: 5, MsgVoteResp: 6, MsgSnap: 7,
  MsgHeartbeat: 8, MsgHeartbeatResp: 9, MsgUnreachable: 10, MsgSnapStatus: 11, MsgCheckQuorum: 12,
  MsgTransferLeader: 13, MsgTimeoutNow: 14, MsgReadIndex: 15, MsgReadIndexResp: 16, MsgPreVote: 17, MsgPreVoteResp: 18,
};

/** etcd raftpb.EntryType and ConfChangeType enum values (UpdateNode = 2 is not used). */
export const ENTRY_TYPE_NUMBERS: Readonly<Record<EntryType, number>> = { Normal: 0, ConfChange: 1 };
export const CONF_CHANGE_TYPE_NUMBERS: Readonly<Record<ConfChangeType, number>> = { AddNode: 0, RemoveNode: 1, AddLearnerNode: 3 };

const CC_BY_NUMBER: ReadonlyMap<number, ConfChangeType> = new Map(
  (Object.entries(CONF_CHANGE_TYPE_NUMBERS) as [ConfChangeType, number][]).map(([k, v]) => [v, k]),
);

/**
 * Encodes a ConfChange as entry data: 1 byte type (etcd's ConfChangeType number), 8 bytes big-endian node id,
 * then the context. (A gRPC transport carries entries as opaque bytes, so this stays internal to the members.)
 */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out = new Uint8Array(9 + cc.context.byteLength);
  const view = new DataView(out.buffer);
  out[0] = CONF_CHANGE_TYPE_NUMBERS[cc.type];
  view.setBigUint64(1, cc.nodeId);
  out.set(cc.context, 9);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  assert(data.byteLength >= 9, 'conf change entry too short');
  const type = CC_BY_NUMBER.get(data[0]!);
  assert(type !== undefined, 'unknown conf change type');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { type, nodeId: view.getBigUint64(1), context: data.slice(9) };
}
