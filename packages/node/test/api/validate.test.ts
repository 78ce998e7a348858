// Goal: requests are refused before proposing exactly where etcd 3.4's v3rpc refuses them, with
// the same error code (the wire text comes from the catalogue and is checked against a real etcd
// in test/differential/errors.test.ts). Method: call the checks on hand-built requests.
import { etcdserverpb } from '@corvid/proto';
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxn } from '../../src/api/validate.js';
import { isCorvidError, type ErrorCode } from '../../src/errors/index.js';

const b = (s: string): Buffer => Buffer.from(s);
const put = (key: string): etcdserverpb.RequestOp => ({ request: { $case: 'requestPut', value: etcdserverpb.PutRequest.fromPartial({ key: b(key), value: b('v') }) } });
const del = (key: string, rangeEnd = ''): etcdserverpb.RequestOp => ({ request: { $case: 'requestDeleteRange', value: etcdserverpb.DeleteRangeRequest.fromPartial({ key: b(key), rangeEnd: b(rangeEnd) }) } });
const range = (key: string): etcdserverpb.RequestOp => ({ request: { $case: 'requestRange', value: etcdserverpb.RangeRequest.fromPartial({ key: b(key) }) } });
const txn = (success: etcdserverpb.RequestOp[], failure: etcdserverpb.RequestOp[] = [], compare: etcdserverpb.Compare[] = []): etcdserverpb.TxnRequest =>
  etcdserverpb.TxnRequest.fromPartial({ compare, success, failure });
const nested = (success: etcdserverpb.RequestOp[], failure: etcdserverpb.RequestOp[] = []): etcdserverpb.RequestOp => ({ request: { $case: 'requestTxn', value: txn(success, failure) } });

function codeOf(fn: () => void): ErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (isCorvidError(err)) return err.code;
    throw err;
  }
}

describe('single requests', () => {
  it('refuse an empty key', () => {
    expect(codeOf(() => checkRangeRequest(etcdserverpb.RangeRequest.fromPartial({})))).toBe('EmptyKey');
    expect(codeOf(() => checkPutRequest(etcdserverpb.PutRequest.fromPartial({ value: b('v') })))).toBe('EmptyKey');
    expect(codeOf(() => checkDeleteRequest(etcdserverpb.DeleteRangeRequest.fromPartial({})))).toBe('EmptyKey');
  });

  it('refuse ignore_value with a value and ignore_lease with a lease', () => {
    expect(codeOf(() => checkPutRequest(etcdserverpb.PutRequest.fromPartial({ key: b('k'), value: b('v'), ignoreValue: true })))).toBe('ValueProvided');
    expect(codeOf(() => checkPutRequest(etcdserverpb.PutRequest.fromPartial({ key: b('k'), lease: 5n, ignoreLease: true })))).toBe('LeaseProvided');
    expect(codeOf(() => checkPutRequest(etcdserverpb.PutRequest.fromPartial({ key: b('k'), ignoreValue: true, ignoreLease: true })))).toBe('ok');
  });

  it('refuse a sort target outside the enum, and serve an unknown sort order as etcd 3.4 does', () => {
    expect(codeOf(() => checkRangeRequest(etcdserverpb.RangeRequest.fromPartial({ key: b('k'), sortOrder: 3 as etcdserverpb.RangeRequest_SortOrder })))).toBe('ok');
    expect(codeOf(() => checkRangeRequest(etcdserverpb.RangeRequest.fromPartial({ key: b('k'), sortTarget: 5 as etcdserverpb.RangeRequest_SortTarget })))).toBe('InvalidSortOption');
    expect(codeOf(() => checkRangeRequest(etcdserverpb.RangeRequest.fromPartial({ key: b('k'), sortOrder: 2, sortTarget: 4 })))).toBe('ok');
  });
});

describe('txn', () => {
  it('counts the largest of compares, success and failure against max-txn-ops', () => {
    const ops = Array.from({ length: 4 }, (_, i) => put(`k${i}`));
    expect(codeOf(() => checkTxn(txn(ops), 4))).toBe('ok');
    expect(codeOf(() => checkTxn(txn(ops, [...ops, put('k9')]), 4))).toBe('TooManyOps');
    const compares = Array.from({ length: 5 }, () => etcdserverpb.Compare.fromPartial({ key: b('c') }));
    expect(codeOf(() => checkTxn(txn([], [], compares), 4))).toBe('TooManyOps');
  });

  it('refuses an empty compare key and an empty op', () => {
    expect(codeOf(() => checkTxn(txn([], [], [etcdserverpb.Compare.fromPartial({})]), 128))).toBe('EmptyKey');
    expect(codeOf(() => checkTxn(txn([{ request: undefined }]), 128))).toBe('KeyNotFound');
  });

  it('refuses two puts of one key, and a put inside a deleted range', () => {
    expect(codeOf(() => checkTxn(txn([put('a'), put('a')]), 128))).toBe('DuplicateKey');
    expect(codeOf(() => checkTxn(txn([put('b'), del('a', 'c')]), 128))).toBe('DuplicateKey');
    expect(codeOf(() => checkTxn(txn([put('a'), del('a')]), 128))).toBe('DuplicateKey');
    expect(codeOf(() => checkTxn(txn([put('c'), del('a', 'c')]), 128))).toBe('ok');
  });

  it('allows what etcd allows: overlapping deletes, reads, the same put on both branches', () => {
    expect(codeOf(() => checkTxn(txn([del('a', 'z'), del('b'), range('a'), range('a')]), 128))).toBe('ok');
    expect(codeOf(() => checkTxn(txn([put('a')], [put('a')]), 128))).toBe('ok');
    // etcd's interval check does not treat range_end "\0" as "to the end": a from-key delete conflicts with nothing.
    expect(codeOf(() => checkTxn(txn([put('b'), del('a', '\0')]), 128))).toBe('ok');
  });

  it('checks nested txns against their parent level', () => {
    expect(codeOf(() => checkTxn(txn([put('a'), nested([put('a')])]), 128))).toBe('DuplicateKey');
    expect(codeOf(() => checkTxn(txn([del('a', 'c'), nested([], [put('b')])]), 128))).toBe('DuplicateKey');
    expect(codeOf(() => checkTxn(txn([nested([put('x')], [put('x')])]), 128))).toBe('ok');
    expect(codeOf(() => checkTxn(txn([nested([put('x')]), nested([put('x')])]), 128))).toBe('DuplicateKey');
  });
});
