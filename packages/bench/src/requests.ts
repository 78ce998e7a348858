// Builds the requests of each workload: etcd benchmark's keys (a zigzag varint of the key index in a key-size
// buffer), the protobuf message, the gRPC method path, and the 5-byte-framed body that h2load replays.
import { etcdserverpb } from '@corvid/proto';
import type { BenchOptions, Workload } from './options.js';

/** The gRPC path each workload calls. */
export function methodPath(workload: Workload): string {
  switch (workload) {
    case 'put': return '/etcdserverpb.KV/Put';
    case 'range': return '/etcdserverpb.KV/Range';
    case 'txn-put':
    case 'txn-mixed': return '/etcdserverpb.KV/Txn';
    case 'watch':
    case 'watch-latency': return '/etcdserverpb.KV/Put'; // the puts that make the events
    case 'lease-keepalive': return '/etcdserverpb.Lease/LeaseKeepAlive';
  }
}

/** etcd's benchmark: `k := make([]byte, keySize); binary.PutVarint(k, int64(i))` (zigzag varint, zero padded). */
export function benchKey(index: number, keySize: number): Buffer {
  const key = Buffer.alloc(keySize);
  let v = BigInt(index) << 1n; // zigzag of a non-negative integer
  for (let i = 0; i < keySize && i < 10; i++) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    key[i] = v === 0n ? byte : byte | 0x80;
    if (v === 0n) break;
  }
  return key;
}

/** A value of `valSize` bytes, filled deterministically (etcd fills it with random bytes once per run). */
export function benchValue(valSize: number): Buffer {
  const value = Buffer.alloc(valSize);
  for (let i = 0; i < valSize; i++) value[i] = 0x61 + (i % 26);
  return value;
}

/** The encoded protobuf message of the request for key index `index`. */
/**
 * Whether request `index` of txn-mixed writes: a fixed hash of the index against 1/(1 + rw-ratio), so the mix is
 * the asked one whatever order the clients take the indexes in.
 */
export function isMixedWrite(index: number, rwRatio: number): boolean {
  const h = Math.imul(index + 1, 0x9e3779b1) >>> 0;
  return h / 0x1_0000_0000 < 1 / (1 + rwRatio);
}

export function encodeRequest(o: Pick<BenchOptions, 'workload' | 'keySize' | 'consistency'> & Partial<Pick<BenchOptions, 'rwRatio'>>, index: number, value: Buffer, keyIdx = index): Uint8Array {
  const key = benchKey(keyIdx, o.keySize);
  switch (o.workload) {
    case 'txn-mixed': {
      const request: etcdserverpb.DeepPartial<etcdserverpb.RequestOp> = isMixedWrite(index, o.rwRatio ?? 1)
        ? { request: { $case: 'requestPut', value: { key, value } } }
        : { request: { $case: 'requestRange', value: { key, serializable: o.consistency === 's' } } };
      return etcdserverpb.TxnRequest.encode(etcdserverpb.TxnRequest.fromPartial({ success: [request] })).finish();
    }
    case 'watch':
    case 'watch-latency':
    case 'lease-keepalive':
    case 'put':
      return etcdserverpb.PutRequest.encode(etcdserverpb.PutRequest.fromPartial({ key, value })).finish();
    case 'range':
      return etcdserverpb.RangeRequest.encode(etcdserverpb.RangeRequest.fromPartial({ key, serializable: o.consistency === 's' })).finish();
    case 'txn-put':
      return etcdserverpb.TxnRequest.encode(
        etcdserverpb.TxnRequest.fromPartial({
          success: [{ request: { $case: 'requestPut', value: etcdserverpb.PutRequest.fromPartial({ key, value }) } }],
        }),
      ).finish();
  }
}

/** gRPC length-prefixed message: one byte "not compressed", uint32 big-endian length, then the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** Key index of the i-th request: sequential cycles through the key space, otherwise uniform random. */
export function keyIndex(o: Pick<BenchOptions, 'keySpaceSize' | 'sequentialKeys'>, i: number, random: () => number): number {
  if (o.keySpaceSize === 1) return 0;
  return o.sequentialKeys ? i % o.keySpaceSize : Math.floor(random() * o.keySpaceSize);
}
