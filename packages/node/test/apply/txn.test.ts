/**
 * Goal: Txn as etcd 3.4 applies it: compares on every target with every result (missing keys,
 * range_end compares, mismatched unions), the branch taken, nested txns whose compares see the
 * pre-txn state, one revision for the whole txn, ranges that see the txn's own earlier writes,
 * response headers (nested txn header empty), and checks that fail the whole txn before writing.
 * Method: apply through the Applier on real LMDB; expected values were read from etcd 3.4.23.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { etcdserverpb } from '@corvid/proto';
import { Harness, b, compactOp, rDel, rPut, rRange, rTxn, s, txnOp } from '../mvcc/harness.js';

const { Compare_CompareResult: R, Compare_CompareTarget: T } = etcdserverpb;
type Cmp = etcdserverpb.DeepPartial<etcdserverpb.Compare>;

let h: Harness;
beforeEach(() => {
  h = Harness.open();
});
afterEach(async () => {
  await h.close();
});

const succeeded = (...compare: Cmp[]): boolean => h.txn({ compare }).succeeded;

describe('txn compares', () => {
  beforeEach(() => {
    h.put('a', 'm'); // 2
    h.put('a', 'm'); // 3: create 2, mod 3, version 2
  });

  const cases: Array<[string, etcdserverpb.Compare_CompareTarget, Cmp['targetUnion'], [boolean, boolean, boolean, boolean]]> = [
    // target, operand; expected for [EQUAL, GREATER, LESS, NOT_EQUAL] of (actual vs operand)
    ['version = 2', T.VERSION, { $case: 'version', value: 2n }, [true, false, false, false]],
    ['version vs 1', T.VERSION, { $case: 'version', value: 1n }, [false, true, false, true]],
    ['create vs 3', T.CREATE, { $case: 'createRevision', value: 3n }, [false, false, true, true]],
    ['mod = 3', T.MOD, { $case: 'modRevision', value: 3n }, [true, false, false, false]],
    ['value vs "l"', T.VALUE, { $case: 'value', value: b('l') }, [false, true, false, true]],
    ['value vs "n"', T.VALUE, { $case: 'value', value: b('n') }, [false, false, true, true]],
    ['lease = 0', T.LEASE, { $case: 'lease', value: 0n }, [true, false, false, false]],
    ['lease vs 7', T.LEASE, { $case: 'lease', value: 7n }, [false, false, true, true]],
    // a union that does not match the target compares with 0 (etcd: mismatched oneof reads as unset)
    ['mod vs mismatched union', T.MOD, { $case: 'version', value: 100n }, [false, true, false, true]],
  ];
  it.each(cases)('%s', (_name, target, targetUnion, expected) => {
    const results = [R.EQUAL, R.GREATER, R.LESS, R.NOT_EQUAL].map((result) => succeeded({ key: b('a'), target, result, targetUnion }));
    expect(results).toEqual(expected);
  });

  it('a missing key compares as zero values, except VALUE which is always false', () => {
    expect(succeeded({ key: b('missing'), target: T.VERSION, result: R.EQUAL, targetUnion: { $case: 'version', value: 0n } })).toBe(true);
    expect(succeeded({ key: b('missing'), target: T.CREATE, result: R.LESS, targetUnion: { $case: 'createRevision', value: 1n } })).toBe(true);
    expect(succeeded({ key: b('missing'), target: T.VALUE, result: R.EQUAL, targetUnion: { $case: 'value', value: Buffer.alloc(0) } })).toBe(false);
    expect(succeeded({ key: b('missing'), target: T.VALUE, result: R.NOT_EQUAL, targetUnion: { $case: 'value', value: b('x') } })).toBe(false);
  });

  it('a range_end compare must hold for every key in range; an empty range uses zero values', () => {
    h.put('k1', 'x'); // 4
    h.put('k2', 'y'); // 5
    const range = { key: b('k'), rangeEnd: b('l') };
    expect(succeeded({ ...range, target: T.VERSION, result: R.GREATER, targetUnion: { $case: 'version', value: 0n } })).toBe(true);
    expect(succeeded({ ...range, target: T.MOD, result: R.LESS, targetUnion: { $case: 'modRevision', value: 5n } })).toBe(false);
    expect(succeeded({ ...range, target: T.MOD, result: R.LESS, targetUnion: { $case: 'modRevision', value: 6n } })).toBe(true);
    expect(succeeded({ key: b('q'), rangeEnd: b('r'), target: T.CREATE, result: R.EQUAL, targetUnion: { $case: 'createRevision', value: 0n } })).toBe(true);
  });

  it('all compares must hold; no compares means success', () => {
    expect(h.txn({}).succeeded).toBe(true);
    const yes: Cmp = { key: b('a'), target: T.VERSION, result: R.EQUAL, targetUnion: { $case: 'version', value: 2n } };
    const no: Cmp = { key: b('a'), target: T.VERSION, result: R.EQUAL, targetUnion: { $case: 'version', value: 9n } };
    expect(succeeded(yes, yes)).toBe(true);
    expect(succeeded(yes, no)).toBe(false);
  });
});

describe('txn execution', () => {
  it('runs the taken branch at one revision with etcd-shaped nested headers', () => {
    h.put('a', '1'); // 2
    h.put('a', '2'); // 3
    const r = h.txn({
      success: [rPut('b', 'x'), rRange('b'), rTxn({ success: [rRange('a'), rPut('c', 'y')] }), rDel('zz')],
    });
    expect(r.header?.revision).toBe(4n);
    expect(r.succeeded).toBe(true);
    const [put, range, nested, del] = r.responses.map((op) => op.response);
    expect(put).toEqual({ $case: 'responsePut', value: { header: expect.objectContaining({ revision: 4n }), prevKv: undefined } });
    expect(range?.$case === 'responseRange' && range.value.kvs[0]).toMatchObject({ key: b('b'), createRevision: 4n, modRevision: 4n, version: 1n });
    expect(range?.$case === 'responseRange' && range.value.header?.revision).toBe(4n);
    expect(nested?.$case === 'responseTxn' && nested.value.header?.revision).toBe(0n);
    expect(nested?.$case === 'responseTxn' && nested.value.responses.length).toBe(2);
    expect(del).toEqual({ $case: 'responseDeleteRange', value: { header: expect.objectContaining({ revision: 4n }), deleted: 0n, prevKvs: [] } });
    expect(h.kv.currentRevision()).toBe(4);
    expect(h.keys({ key: b('c') })).toEqual(['c']);
  });

  it('a read-only or empty txn does not bump the revision', () => {
    h.put('a', '1');
    const r = h.txn({ success: [rRange('a'), rTxn({})] });
    expect(r.header?.revision).toBe(2n);
    expect(r.responses[1]?.response).toEqual({ $case: 'responseTxn', value: { header: expect.objectContaining({ revision: 0n }), succeeded: true, responses: [] } });
    expect(h.txn({}).header?.revision).toBe(2n);
    expect(h.kv.currentRevision()).toBe(2);
  });

  it('nested compares see the state before the txn', () => {
    const nested = rTxn({
      compare: [{ key: b('nx'), target: T.VERSION, result: R.EQUAL, targetUnion: { $case: 'version', value: 0n } }],
      success: [rPut('ny', 's')],
      failure: [rPut('ny', 'f')],
    });
    h.txn({ success: [rPut('nx', '1'), nested] });
    expect(s(h.range({ key: b('ny') }).kvs[0]!.value)).toBe('s');
  });

  it('ranges inside the txn see its earlier writes; a past revision reads history', () => {
    h.put('k1', 'a'); // 2
    h.put('k3', 'c'); // 3
    const r = h.txn({ success: [rDel('k3', undefined, true), rRange('k', 'l', { keysOnly: true }), rRange('k', 'l', { revision: 3n })] });
    const ranges = r.responses.slice(1).map((op) => (op.response?.$case === 'responseRange' ? op.response.value : undefined));
    expect(ranges[0]?.kvs.map((kv) => s(kv.key))).toEqual(['k1']);
    expect(ranges[0]?.header?.revision).toBe(4n);
    expect(ranges[1]?.kvs.map((kv) => s(kv.key))).toEqual(['k1', 'k3']);
    expect(ranges[1]?.header?.revision).toBe(4n);
  });

  it('the failure branch runs when a compare fails', () => {
    h.put('k1', 'x');
    const r = h.txn({
      compare: [{ key: b('k1'), target: T.VALUE, result: R.EQUAL, targetUnion: { $case: 'value', value: b('nope') } }],
      success: [rPut('s', '1')],
      failure: [rRange('k1')],
    });
    expect(r.succeeded).toBe(false);
    expect(r.header?.revision).toBe(2n);
    expect(r.responses[0]?.response?.$case).toBe('responseRange');
  });

  it('fails the whole txn before writing: KeyNotFound, LeaseNotFound, FutureRev, Compacted', () => {
    h.put('a', '1'); // 2
    expect(h.err(txnOp({ success: [rPut('x', '1'), rPut('nope', '', { ignoreValue: true })] }))).toBe('KeyNotFound');
    expect(h.err(txnOp({ success: [rPut('x', '1'), rPut('nope', '1', { lease: 5n })] }))).toBe('LeaseNotFound');
    expect(h.err(txnOp({ success: [rPut('x', '1'), rRange('a', undefined, { revision: 3n })] }))).toBe('FutureRev');
    // checkPut runs over the whole path before checkRange
    expect(h.err(txnOp({ success: [rRange('a', undefined, { revision: 9n }), rPut('nope', '1', { lease: 5n })] }))).toBe('LeaseNotFound');
    expect(h.kv.currentRevision()).toBe(2);
    expect(h.keys({ key: b('x') })).toEqual([]);
    h.put('a', '2'); // 3
    h.ok(compactOp(3));
    expect(h.err(txnOp({ success: [rRange('a', undefined, { revision: 2n })] }))).toBe('Compacted');
    expect(h.txn({ success: [rRange('a', undefined, { revision: 3n })] }).succeeded).toBe(true);
  });

  it('ignores invalid ops in the branch not taken', () => {
    const r = h.txn({ success: [rPut('ok', '1')], failure: [rPut('nope', '1', { lease: 5n })] });
    expect(r.header?.revision).toBe(2n);
  });
});
