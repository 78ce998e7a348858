/**
 * Goal: the hand-written MessageBatch and SnapshotChunk codec puts exactly the bytes on the wire
 * that the generated corvidpeer code (from proto/corvid/peer.proto) does, round-trips every field
 * of @corvid/raft's Message, and decodes entry data as views of the frame (no copy).
 * Method: encode with both (and with `protoc --encode`), compare bytes; decode ours with the
 * generated decoder and back.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { corvidpeer } from '@corvid/proto';
import { newMessage, type Message } from '@corvid/raft';
import { decodeBatch, decodeSnapshotChunk, encodeBatch, encodeSnapshotChunk } from '../../src/peer/codec.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

const APP: Message = newMessage({
  type: 'MsgApp', to: 0xfedcba9876543210n, from: 2n, term: 7, logTerm: 6, index: 2 ** 40, commit: 99,
  entries: [
    { term: 6, index: 2 ** 40 + 1, type: 'Normal', data: bytes('put foo bar') },
    { term: 7, index: 2 ** 40 + 2, type: 'ConfChange', data: bytes('cc') },
    { term: 7, index: 2 ** 40 + 3, type: 'Normal', data: new Uint8Array(0) },
  ],
});
const RESP: Message = newMessage({ type: 'MsgAppResp', to: 2n, from: 3n, term: 7, index: 5, reject: true, rejectHint: 4, context: new Uint8Array(0) });
const READ: Message = newMessage({ type: 'MsgReadIndex', to: 1n, from: 3n, entries: [{ term: 0, index: 0, type: 'Normal', data: bytes('ctx') }], context: bytes('read-1') });
const SNAP: Message = newMessage({
  type: 'MsgSnap', to: 3n, from: 1n, term: 9,
  snapshot: { data: new Uint8Array(0), metadata: { index: 1000, term: 8, confState: { voters: [1n, 2n, 0xffffffffffffffffn], learners: [4n] } } },
});
const HUP: Message = newMessage({ type: 'MsgHup' });

describe('MessageBatch codec', () => {
  const batch = [APP, RESP, READ, SNAP, HUP];

  it('round-trips every field', () => {
    expect(decodeBatch(encodeBatch(batch))).toEqual(batch);
  });

  it('writes the same bytes as the generated corvidpeer code', () => {
    const ours = encodeBatch(batch);
    const generated = corvidpeer.MessageBatch.encode(corvidpeer.MessageBatch.decode(ours)).finish();
    expect(Buffer.from(ours).equals(Buffer.from(generated))).toBe(true);
    const decoded = corvidpeer.MessageBatch.decode(ours).messages;
    expect(decoded.map((m) => m.type)).toEqual([3, 4, 15, 7, 0]);
    expect(decoded[0]?.entries.map((e) => [e.index, e.type])).toEqual([[2n ** 40n + 1n, 0], [2n ** 40n + 2n, 1], [2n ** 40n + 3n, 0]]);
    expect(decoded[1]?.context).toEqual(Buffer.alloc(0)); // present though empty
    expect(decoded[4]?.context).toBeUndefined(); // null stays absent
    expect(decoded[3]?.snapshot?.metadata?.confState?.voters).toEqual([1n, 2n, 0xffffffffffffffffn]);
  });

  it('writes the same bytes as protoc itself', () => {
    const text = [
      'messages { type: MsgApp to: 18364758544493064720 from: 2 term: 7 log_term: 6 index: 1099511627776 commit: 99',
      '  entries { term: 6 index: 1099511627777 data: "put foo bar" }',
      '  entries { term: 7 index: 1099511627778 type: EntryConfChange data: "cc" }',
      '  entries { term: 7 index: 1099511627779 } }',
      'messages { type: MsgAppResp to: 2 from: 3 term: 7 index: 5 reject: true reject_hint: 4 context: "" }',
      'messages { type: MsgReadIndex to: 1 from: 3 entries { data: "ctx" } context: "read-1" }',
      'messages { type: MsgSnap to: 3 from: 1 term: 9',
      '  snapshot { metadata { conf_state { voters: [1, 2, 18446744073709551615] learners: [4] } index: 1000 term: 8 } } }',
      'messages { }',
    ].join(' ');
    const protoDir = join(import.meta.dirname, '..', '..', '..', '..', 'proto');
    const theirs = execFileSync('protoc', [`-I${protoDir}`, '--encode=corvidpeer.MessageBatch', 'corvid/peer.proto'], { input: text });
    expect(Buffer.from(encodeBatch(batch)).equals(theirs)).toBe(true);
  });

  it('decodes entry data as views of the frame, without copying', () => {
    const frame = encodeBatch([APP]);
    const [decoded] = decodeBatch(frame);
    const data = decoded?.entries[0]?.data as Uint8Array;
    expect(data.buffer).toBe(frame.buffer);
    expect(new TextDecoder().decode(data)).toBe('put foo bar');
  });

  it('an empty batch is an empty frame', () => {
    expect(encodeBatch([]).byteLength).toBe(0);
    expect(decodeBatch(new Uint8Array(0))).toEqual([]);
  });

  it('refuses malformed frames: truncated, unknown type, an index beyond 2^53', () => {
    const frame = encodeBatch([APP]);
    expect(() => decodeBatch(frame.subarray(0, frame.byteLength - 3))).toThrow();
    const badType = corvidpeer.MessageBatch.encode({ messages: [{ ...corvidpeer.Message.fromPartial({}), type: 42 as corvidpeer.MessageType }] }).finish();
    expect(() => decodeBatch(badType)).toThrow('unknown message type 42');
    const hugeIndex = corvidpeer.MessageBatch.encode({ messages: [corvidpeer.Message.fromPartial({ type: corvidpeer.MessageType.MsgApp, index: 2n ** 60n })] }).finish();
    expect(() => decodeBatch(hugeIndex)).toThrow('beyond 2^53');
  });
});

describe('SnapshotChunk codec', () => {
  it('round-trips the header, data and digest frames, byte for byte as the generated code', () => {
    const chunks = [
      { kind: 'header', message: SNAP, sizeBytes: 3 << 20 },
      { kind: 'data', data: bytes('some of the file') },
      { kind: 'sha256', digest: new Uint8Array(32).fill(7) },
    ] as const;
    for (const chunk of chunks) {
      const frame = encodeSnapshotChunk(chunk);
      expect(decodeSnapshotChunk(frame)).toEqual(chunk);
      const generated = corvidpeer.SnapshotChunk.encode(corvidpeer.SnapshotChunk.decode(frame)).finish();
      expect(Buffer.from(frame).equals(Buffer.from(generated))).toBe(true);
    }
  });

  it('refuses an empty chunk and a header without its message', () => {
    expect(() => decodeSnapshotChunk(new Uint8Array(0))).toThrow('empty chunk');
    const headerOnly = corvidpeer.SnapshotChunk.encode({ chunk: { $case: 'header', value: { message: undefined, sizeBytes: 5n } } }).finish();
    expect(() => decodeSnapshotChunk(headerOnly)).toThrow('header without a message');
  });
});
