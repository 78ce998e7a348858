/**
 * Encodes a RangeResponse straight into one exactly-sized buffer, in protoc's field order (as
 * ts-proto writes it; test/mvcc/read-pool.test.ts compares the bytes). A read-pool worker encodes
 * here so the event loop never builds or serializes 100,000 KeyValue objects: it receives the
 * finished bytes (transferred, not copied) and hands them to grpc-js as they are.
 */
import type { etcdserverpb, mvccpb } from '@corvid/proto';
import { assert, CorvidError } from '../../errors/index.js';

/** gRPC's length prefix: one flag byte (0: not compressed), then the message length, uint32 big-endian. */
export const GRPC_PREFIX_BYTES = 5;

/** A non-negative safe integer's varint length. */
function numberVarintBytes(n: number): number {
  let bytes = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    bytes++;
  }
  return bytes;
}

/** An int64/uint64 as protobuf writes it: two's complement, so a negative one takes 10 bytes. */
function u64(v: bigint): bigint | number {
  if (v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return BigInt.asUintN(64, v);
}

function varintBytes(v: bigint | number): number {
  if (typeof v === 'number') return numberVarintBytes(v);
  let bytes = 1;
  while (v >= 128n) {
    v >>= 7n;
    bytes++;
  }
  return bytes;
}

class Writer {
  pos = 0;
  constructor(readonly out: Buffer) {}

  varint(v: bigint | number): void {
    const out = this.out;
    if (typeof v === 'number') {
      while (v >= 128) {
        out[this.pos++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      out[this.pos++] = v;
      return;
    }
    while (v >= 128n) {
      out[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    out[this.pos++] = Number(v);
  }

  bytes(tag: number, b: Uint8Array): void {
    this.out[this.pos++] = tag;
    this.varint(b.length);
    this.out.set(b, this.pos);
    this.pos += b.length;
  }
}

/** Size of a varint field (tag byte + value), or 0 when the value is the proto3 default. */
function intField(v: bigint | number): number {
  return v === 0 || v === 0n ? 0 : 1 + varintBytes(v);
}

function bytesField(b: Uint8Array): number {
  return b.length === 0 ? 0 : 1 + numberVarintBytes(b.length) + b.length;
}

interface KvWire {
  readonly create: bigint | number;
  readonly mod: bigint | number;
  readonly version: bigint | number;
  readonly lease: bigint | number;
  readonly size: number;
}

function kvWire(kv: mvccpb.KeyValue): KvWire {
  const create = u64(kv.createRevision);
  const mod = u64(kv.modRevision);
  const version = u64(kv.version);
  const lease = u64(kv.lease);
  const size = bytesField(kv.key) + intField(create) + intField(mod) + intField(version) + bytesField(kv.value) + intField(lease);
  return { create, mod, version, lease, size };
}

function writeInt(w: Writer, tag: number, v: bigint | number): void {
  if (v === 0 || v === 0n) return;
  w.out[w.pos++] = tag;
  w.varint(v);
}

function encodeParts(response: etcdserverpb.RangeResponse): { size: number; header: number; wires: KvWire[] } {
  const h = response.header;
  const header = h === undefined ? -1 : intField(u64(h.clusterId)) + intField(u64(h.memberId)) + intField(u64(h.revision)) + intField(u64(h.raftTerm));
  let size = header < 0 ? 0 : 1 + numberVarintBytes(header) + header;
  const wires = response.kvs.map(kvWire);
  for (const w of wires) size += 1 + numberVarintBytes(w.size) + w.size;
  if (response.more) size += 2;
  size += intField(u64(response.count));
  return { size, header, wires };
}

/**
 * RangeResponse → protobuf bytes, byte for byte what `etcdserverpb.RangeResponse.encode` writes.
 * A response over `maxBytes` fails as grpc-go's server fails it (GrpcSendTooLarge), before the
 * buffer is allocated. With `framed`, the bytes are preceded by gRPC's 5-byte message prefix
 * (uncompressed flag, big-endian length), so the server can send them without another copy.
 */
export function encodeRangeResponse(response: etcdserverpb.RangeResponse, maxBytes = Number.POSITIVE_INFINITY, framed = false): Buffer {
  const { size, header, wires } = encodeParts(response);
  if (size > maxBytes) throw new CorvidError('GrpcSendTooLarge', { detail: `${size} vs. ${maxBytes}` });
  const prefix = framed ? GRPC_PREFIX_BYTES : 0;
  // allocUnsafeSlow: a buffer of its own (not a slice of Node's pool), so its ArrayBuffer can be transferred.
  const w = new Writer(Buffer.allocUnsafeSlow(prefix + size));
  if (framed) {
    w.out[w.pos++] = 0;
    w.out.writeUInt32BE(size, 1);
    w.pos += 4;
  }
  const h = response.header;
  if (h !== undefined) {
    w.out[w.pos++] = 0x0a;
    w.varint(header);
    writeInt(w, 0x08, u64(h.clusterId));
    writeInt(w, 0x10, u64(h.memberId));
    writeInt(w, 0x18, u64(h.revision));
    writeInt(w, 0x20, u64(h.raftTerm));
  }
  response.kvs.forEach((kv, i) => {
    const wire = wires[i]!;
    w.out[w.pos++] = 0x12;
    w.varint(wire.size);
    if (kv.key.length > 0) w.bytes(0x0a, kv.key);
    writeInt(w, 0x10, wire.create);
    writeInt(w, 0x18, wire.mod);
    writeInt(w, 0x20, wire.version);
    if (kv.value.length > 0) w.bytes(0x2a, kv.value);
    writeInt(w, 0x30, wire.lease);
  });
  if (response.more) {
    w.out[w.pos++] = 0x18;
    w.out[w.pos++] = 1;
  }
  writeInt(w, 0x20, u64(response.count));
  assert(w.pos === prefix + size, 'encodeRangeResponse wrote exactly the size it computed');
  return w.out;
}
