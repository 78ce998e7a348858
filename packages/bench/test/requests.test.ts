// Goal: keys are etcd benchmark's (Go binary.PutVarint of the index in a key-size buffer), bodies carry the gRPC
// 5-byte frame, and each workload's message decodes back to the request etcd's tool sends.
// Method: known varint encodings; decode the encoded messages with the generated codecs.
import { etcdserverpb } from '@corvid/proto';
import { DEFAULT_OPTIONS } from '../src/options.js';
import { benchKey, encodeRequest, grpcFrame, isMixedWrite, keyIndex, methodPath } from '../src/requests.js';

describe('requests', () => {
  test('keys: zigzag varints, zero padded', () => {
    expect([...benchKey(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect([...benchKey(1, 4)]).toEqual([2, 0, 0, 0]);
    expect([...benchKey(64, 4)]).toEqual([0x80, 0x01, 0, 0]);
    expect([...benchKey(1_000_000, 4)]).toEqual([0x80, 0x89, 0x7a, 0]);
  });

  test('frame: flag byte, big-endian length, message', () => {
    expect([...grpcFrame(Uint8Array.of(7, 8, 9))]).toEqual([0, 0, 0, 0, 3, 7, 8, 9]);
  });

  test('put, range and txn-put messages', () => {
    const value = Buffer.from('v');
    const put = etcdserverpb.PutRequest.decode(encodeRequest({ ...DEFAULT_OPTIONS, workload: 'put' }, 1, value));
    expect([...put.key, ...put.value]).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 0x76]);
    const range = etcdserverpb.RangeRequest.decode(encodeRequest({ ...DEFAULT_OPTIONS, workload: 'range', consistency: 's' }, 0, value));
    expect(range.serializable).toBe(true);
    const txn = etcdserverpb.TxnRequest.decode(encodeRequest({ ...DEFAULT_OPTIONS, workload: 'txn-put' }, 0, value));
    expect(txn.success[0]?.request?.$case).toBe('requestPut');
    expect(methodPath('txn-put')).toBe('/etcdserverpb.KV/Txn');
  });

  test('txn-mixed: one op per txn, writes at 1/(1 + rw-ratio) of the indexes, on the given key', () => {
    const value = Buffer.from('v');
    const ops = Array.from({ length: 4000 }, (_, i) => etcdserverpb.TxnRequest.decode(encodeRequest({ ...DEFAULT_OPTIONS, workload: 'txn-mixed', rwRatio: 3 }, i, value, 7)).success[0]!);
    const writes = ops.filter((op) => op.request?.$case === 'requestPut').length;
    expect(writes / ops.length).toBeGreaterThan(0.2);
    expect(writes / ops.length).toBeLessThan(0.3);
    expect(ops.every((op) => op.request !== undefined && op.request.$case !== 'requestTxn' && Buffer.from(op.request.value.key).equals(benchKey(7, 8)))).toBe(true);
    expect(Array.from({ length: 100 }, (_, i) => isMixedWrite(i, 0)).every(Boolean)).toBe(true);
    expect(methodPath('txn-mixed')).toBe('/etcdserverpb.KV/Txn');
  });

  test('key indices: one key, sequential, random within the space', () => {
    expect(keyIndex({ keySpaceSize: 1, sequentialKeys: false }, 5, () => 0.9)).toBe(0);
    expect(keyIndex({ keySpaceSize: 10, sequentialKeys: true }, 23, () => 0.9)).toBe(3);
    expect(keyIndex({ keySpaceSize: 10, sequentialKeys: false }, 23, () => 0.95)).toBe(9);
  });
});
