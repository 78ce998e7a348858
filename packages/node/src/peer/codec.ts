/**
 * MessageBatch (proto/corvid/peer.proto) by hand: the hot path of the peer transport. It writes
 * exactly the bytes protoc and the generated corvidpeer code write, fields in number order
 * (test/peer/codec.test.ts compares them),
 * but works on @corvid/raft's Message directly, and decoding never copies entry data: each
 * Entry.data is a view into the received frame (the generated decoder copies every bytes field).
 * Enum values come from MESSAGE_TYPE_NUMBERS and ENTRY_TYPE_NUMBERS, which are raftpb's.
 */
import { ENTRY_TYPE_NUMBERS, MESSAGE_TYPE_NUMBERS } from '@corvid/raft';
import type { ConfState, Entry, EntryType, Message, MessageType, Snapshot } from '@corvid/raft';
import { BinaryReader, BinaryWriter, WireType } from '@corvid/proto';

const MESSAGE_TYPES = invert(MESSAGE_TYPE_NUMBERS);
const ENTRY_TYPES = invert(ENTRY_TYPE_NUMBERS);
const EMPTY: Uint8Array = new Uint8Array(0);

function invert<K extends string>(numbers: Readonly<Record<K, number>>): ReadonlyMap<number, K> {
  return new Map((Object.entries(numbers) as [K, number][]).map(([name, n]) => [n, name]));
}

/** Encodes `messages` as one MessageBatch. */
export function encodeBatch(messages: readonly Message[]): Uint8Array {
  const w = new BinaryWriter();
  for (const m of messages) {
    w.tag(1, WireType.LengthDelimited).fork();
    writeMessage(w, m);
    w.join();
  }
  return w.finish();
}

/** One frame of a Snapshot call (SnapshotChunk): a header, then data chunks, then the file's SHA-256. */
export type SnapshotChunk =
  | { readonly kind: 'header'; readonly message: Message; readonly sizeBytes: number }
  | { readonly kind: 'data'; readonly data: Uint8Array }
  | { readonly kind: 'sha256'; readonly digest: Uint8Array };

export function encodeSnapshotChunk(c: SnapshotChunk): Uint8Array {
  const w = new BinaryWriter();
  if (c.kind === 'header') {
    w.tag(1, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).fork();
    writeMessage(w, c.message);
    w.join();
    if (c.sizeBytes !== 0) w.tag(2, WireType.Varint).uint64(c.sizeBytes);
    w.join();
  } else {
    w.tag(c.kind === 'data' ? 2 : 3, WireType.LengthDelimited).bytes(c.kind === 'data' ? c.data : c.digest);
  }
  return w.finish();
}

/** Decodes a SnapshotChunk; data is a view into `frame`. Throws on malformed input or an empty oneof. */
export function decodeSnapshotChunk(frame: Uint8Array): SnapshotChunk {
  const r = new BinaryReader(frame);
  let chunk: SnapshotChunk | null = null;
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1) chunk = readSnapshotHeader(sub(r));
    else if (field === 2) chunk = { kind: 'data', data: r.bytes() };
    else if (field === 3) chunk = { kind: 'sha256', digest: r.bytes() };
    else r.skip(wire, field);
  }
  if (chunk === null) throw new RangeError('peer snapshot: empty chunk');
  return chunk;
}

function readSnapshotHeader(r: BinaryReader): SnapshotChunk {
  let message: Message | null = null;
  let sizeBytes = 0;
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1) message = readMessage(sub(r));
    else if (field === 2) sizeBytes = safe(r);
    else r.skip(wire, field);
  }
  if (message === null) throw new RangeError('peer snapshot: header without a message');
  return { kind: 'header', message, sizeBytes };
}

function writeMessage(w: BinaryWriter, m: Message): void {
  const type = MESSAGE_TYPE_NUMBERS[m.type];
  if (type !== 0) w.tag(1, WireType.Varint).int32(type);
  if (m.to !== 0n) w.tag(2, WireType.Varint).uint64(m.to);
  if (m.from !== 0n) w.tag(3, WireType.Varint).uint64(m.from);
  if (m.term !== 0) w.tag(4, WireType.Varint).uint64(m.term);
  if (m.logTerm !== 0) w.tag(5, WireType.Varint).uint64(m.logTerm);
  if (m.index !== 0) w.tag(6, WireType.Varint).uint64(m.index);
  for (const e of m.entries) {
    w.tag(7, WireType.LengthDelimited).fork();
    writeEntry(w, e);
    w.join();
  }
  if (m.commit !== 0) w.tag(8, WireType.Varint).uint64(m.commit);
  if (m.snapshot !== null) {
    w.tag(9, WireType.LengthDelimited).fork();
    writeSnapshot(w, m.snapshot);
    w.join();
  }
  if (m.reject) w.tag(10, WireType.Varint).bool(true);
  if (m.rejectHint !== 0) w.tag(11, WireType.Varint).uint64(m.rejectHint);
  if (m.context !== null) w.tag(12, WireType.LengthDelimited).bytes(m.context);
}

function writeEntry(w: BinaryWriter, e: Entry): void {
  const type = ENTRY_TYPE_NUMBERS[e.type];
  if (type !== 0) w.tag(1, WireType.Varint).int32(type);
  if (e.term !== 0) w.tag(2, WireType.Varint).uint64(e.term);
  if (e.index !== 0) w.tag(3, WireType.Varint).uint64(e.index);
  if (e.data.byteLength !== 0) w.tag(4, WireType.LengthDelimited).bytes(e.data);
}

function writeSnapshot(w: BinaryWriter, s: Snapshot): void {
  if (s.data.byteLength !== 0) w.tag(1, WireType.LengthDelimited).bytes(s.data);
  const { confState, index, term } = s.metadata;
  w.tag(2, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).fork();
  writePacked(w, 1, confState.voters);
  writePacked(w, 2, confState.learners);
  w.join();
  if (index !== 0) w.tag(2, WireType.Varint).uint64(index);
  if (term !== 0) w.tag(3, WireType.Varint).uint64(term);
  w.join();
}

function writePacked(w: BinaryWriter, field: number, ids: readonly bigint[]): void {
  if (ids.length === 0) return;
  w.tag(field, WireType.LengthDelimited).fork();
  for (const id of ids) w.uint64(id);
  w.join();
}

/** Decodes a MessageBatch; entry data and contexts are views into `frame`. Throws on malformed input. */
export function decodeBatch(frame: Uint8Array): Message[] {
  const r = new BinaryReader(frame);
  const out: Message[] = [];
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) out.push(readMessage(sub(r)));
    else r.skip(wire, field);
  }
  return out;
}

/** A reader over the next length-delimited field of `r`, sharing its buffer. */
function sub(r: BinaryReader): BinaryReader {
  return new BinaryReader(r.bytes());
}

function readMessage(r: BinaryReader): Message {
  let type: MessageType = 'MsgHup';
  let to = 0n, from = 0n, term = 0, logTerm = 0, index = 0, commit = 0, rejectHint = 0, reject = false;
  const entries: Entry[] = [];
  let snapshot: Snapshot | null = null;
  let context: Uint8Array | null = null;
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    switch (field) {
      case 1: type = known(MESSAGE_TYPES, r.int32(), 'message type'); break;
      case 2: to = id(r); break;
      case 3: from = id(r); break;
      case 4: term = safe(r); break;
      case 5: logTerm = safe(r); break;
      case 6: index = safe(r); break;
      case 7: entries.push(readEntry(sub(r))); break;
      case 8: commit = safe(r); break;
      case 9: snapshot = readSnapshot(sub(r)); break;
      case 10: reject = r.bool(); break;
      case 11: rejectHint = safe(r); break;
      case 12: context = r.bytes(); break;
      default: r.skip(wire, field);
    }
  }
  return { type, to, from, term, logTerm, index, entries, commit, snapshot, reject, rejectHint, context };
}

function readEntry(r: BinaryReader): Entry {
  let term = 0, index = 0;
  let type: EntryType = 'Normal';
  let data = EMPTY;
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    switch (field) {
      case 1: type = known(ENTRY_TYPES, r.int32(), 'entry type'); break;
      case 2: term = safe(r); break;
      case 3: index = safe(r); break;
      case 4: data = r.bytes(); break;
      default: r.skip(wire, field);
    }
  }
  return { term, index, type, data };
}

function readSnapshot(r: BinaryReader): Snapshot {
  let data = EMPTY;
  let index = 0, term = 0;
  let confState: ConfState = { voters: [], learners: [] };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1) data = r.bytes();
    else if (field === 2) ({ index, term, confState } = readMetadata(sub(r)));
    else r.skip(wire, field);
  }
  return { data, metadata: { index, term, confState } };
}

function readMetadata(r: BinaryReader): { index: number; term: number; confState: ConfState } {
  let index = 0, term = 0;
  const voters: bigint[] = [];
  const learners: bigint[] = [];
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1) readConfState(sub(r), voters, learners);
    else if (field === 2) index = safe(r);
    else if (field === 3) term = safe(r);
    else r.skip(wire, field);
  }
  return { index, term, confState: { voters, learners } };
}

function readConfState(r: BinaryReader, voters: bigint[], learners: bigint[]): void {
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    const into = field === 1 ? voters : field === 2 ? learners : null;
    if (into === null) r.skip(wire, field);
    else if (wire === WireType.LengthDelimited) for (const p = sub(r); p.pos < p.len;) into.push(id(p));
    else into.push(id(r)); // an unpacked repeated field, which a proto parser must accept too
  }
}

function id(r: BinaryReader): bigint {
  return BigInt(r.uint64());
}

/**
 * Terms and indexes are numbers in @corvid/raft, checked safe at the codec as STYLE.md asks. A bad
 * frame comes from another process, so it is a decode error (the call is refused), not an assertion.
 */
function safe(r: BinaryReader): number {
  const n = Number(r.uint64());
  if (!Number.isSafeInteger(n)) throw new RangeError('peer message: term or index beyond 2^53');
  return n;
}

function known<K>(names: ReadonlyMap<number, K>, n: number, what: string): K {
  const name = names.get(n);
  if (name === undefined) throw new RangeError(`peer message: unknown ${what} ${n}`);
  return name;
}
