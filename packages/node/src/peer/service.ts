/**
 * The corvidpeer.Peer gRPC service (proto/corvid/peer.proto) as grpc-js method definitions, and
 * the metadata every call carries. Stream frames are passed through as bytes and decoded by the
 * receiver (codec.ts), so a bad frame is counted and refused there rather than failing inside
 * grpc-js, and the byte counters see the real frame sizes.
 */
import { Metadata, type MethodDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { corvidpeer } from '@corvid/proto';
import { decodeSnapshotChunk, encodeSnapshotChunk, type SnapshotChunk } from './codec.js';

/** Metadata keys: the sender's member id and its cluster id, lower-case hex as etcd's X-Server-From and X-Etcd-Cluster-ID. */
export const MEMBER_ID_KEY = 'corvid-member-id';
export const CLUSTER_ID_KEY = 'corvid-cluster-id';

/** etcd rafthttp's errClusterIDMismatch text. */
export const CLUSTER_ID_MISMATCH = 'cluster ID mismatch';

const bytesIn = (frame: Buffer): Uint8Array => frame;
const bytesOut = (frame: Uint8Array): Buffer => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);

type Empty = Record<string, never>;
const empty = {
  serialize: (_: Empty): Buffer => Buffer.alloc(0),
  deserialize: (_: Buffer): Empty => ({}),
};

function method<Req, Res>(name: string, stream: boolean, req: { serialize: (v: Req) => Buffer; deserialize: (b: Buffer) => Req },
  res: { serialize: (v: Res) => Buffer; deserialize: (b: Buffer) => Res }): MethodDefinition<Req, Res> {
  return {
    path: `/${corvidpeer.protobufPackage}.Peer/${name}`, requestStream: stream, responseStream: false,
    requestSerialize: req.serialize, requestDeserialize: req.deserialize,
    responseSerialize: res.serialize, responseDeserialize: res.deserialize,
  };
}

/** Stream: MessageBatch frames (encoded by codec.ts) → StreamAck. */
export const STREAM_METHOD = method<Uint8Array, Empty>('Stream', true, { serialize: bytesOut, deserialize: bytesIn }, empty);
/** Snapshot: SnapshotChunk frames → SnapshotAck. */
export const SNAPSHOT_METHOD = method<SnapshotChunk, Empty>('Snapshot', true, {
  serialize: (c) => bytesOut(encodeSnapshotChunk(c)), deserialize: decodeSnapshotChunk,
}, empty);
/** Ping: empty → empty; its round trip is etcd_network_peer_round_trip_time_seconds. */
export const PING_METHOD = method<Empty, Empty>('Ping', false, empty, empty);

export const PEER_SERVICE: ServiceDefinition = { Stream: STREAM_METHOD, Snapshot: SNAPSHOT_METHOD, Ping: PING_METHOD };

export function callMetadata(memberId: bigint, clusterId: bigint): Metadata {
  const md = new Metadata();
  md.set(MEMBER_ID_KEY, memberId.toString(16));
  md.set(CLUSTER_ID_KEY, clusterId.toString(16));
  return md;
}

export type CallerCheck = { ok: true; from: bigint } | { ok: false; reason: 'no-member-id' | 'cluster-mismatch' };

/** Reads a caller's metadata: who sent the call, and whether it belongs to our cluster. */
export function checkCaller(md: Metadata, clusterId: bigint): CallerCheck {
  const from = parseHexId(md.get(MEMBER_ID_KEY)[0]);
  if (from === null) return { ok: false, reason: 'no-member-id' };
  if (parseHexId(md.get(CLUSTER_ID_KEY)[0]) !== clusterId) return { ok: false, reason: 'cluster-mismatch' };
  return { ok: true, from };
}

function parseHexId(value: unknown): bigint | null {
  return typeof value === 'string' && /^[0-9a-f]{1,16}$/.test(value) ? BigInt(`0x${value}`) : null;
}
