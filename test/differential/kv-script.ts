/**
 * The raw KV script: gRPC requests with the options etcdctl 3.4 cannot send (count_only, min/max mod and create
 * revision, sort with order NONE, nested txns, compares on ranges and leases, prev_kv everywhere), in order, with
 * deterministic keys and values. kv.test.ts runs it against etcd and the subject and compares whole responses.
 * Revisions: SETUP leaves the store at revision 9.
 */
import { etcdserverpb } from '@corvid/proto';
import { bytes, type KvApi } from '../harness/grpc.js';

type Op = etcdserverpb.DeepPartial<etcdserverpb.RequestOp>;
type Cmp = etcdserverpb.DeepPartial<etcdserverpb.Compare>;
const { Compare_CompareResult: R, Compare_CompareTarget: T, RangeRequest_SortOrder: O, RangeRequest_SortTarget: S } = etcdserverpb;

const put = (key: string, value: string, prevKv = false): Op => ({ request: { $case: 'requestPut', value: { key: bytes(key), value: bytes(value), prevKv } } });
const get = (key: string, rangeEnd = ''): Op => ({ request: { $case: 'requestRange', value: { key: bytes(key), rangeEnd: bytes(rangeEnd) } } });
const del = (key: string, rangeEnd = '', prevKv = true): Op => ({ request: { $case: 'requestDeleteRange', value: { key: bytes(key), rangeEnd: bytes(rangeEnd), prevKv } } });
const nested = (txn: etcdserverpb.DeepPartial<etcdserverpb.TxnRequest>): Op => ({ request: { $case: 'requestTxn', value: txn } });
const cmp = (key: string, target: etcdserverpb.Compare_CompareTarget, result: etcdserverpb.Compare_CompareResult, union: Cmp['targetUnion'], rangeEnd = ''): Cmp => ({
  key: bytes(key), target, result, targetUnion: union, rangeEnd: bytes(rangeEnd),
});
const num = (n: number): bigint => BigInt(n);

/** Revisions 2..9: r/a r/b r/c r/d created, r/b and r/c overwritten, s/x created, r/d overwritten. */
export async function setup(kv: KvApi): Promise<void> {
  const writes: Array<[string, string]> = [['r/a', 'delta'], ['r/b', 'alpha'], ['r/c', 'charlie'], ['r/d', 'bravo'], ['r/b', 'echo'], ['r/c', 'foxtrot'], ['s/x', 'x'], ['r/d', 'golf']];
  for (const [key, value] of writes) await kv.put({ key: bytes(key), value: bytes(value) });
}

export interface KvStep {
  readonly name: string;
  readonly call: (kv: KvApi) => Promise<unknown>;
}

export const KV_SCRIPT: readonly KvStep[] = [
  // Range options.
  { name: 'range prefix', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0') }) },
  { name: 'range count_only', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), countOnly: true }) },
  { name: 'range keys_only with limit', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), keysOnly: true, limit: 2n }) },
  { name: 'range min_mod_revision', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), minModRevision: 6n }) },
  { name: 'range max_mod_revision', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), maxModRevision: 5n }) },
  { name: 'range min_create_revision and max_create_revision', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), minCreateRevision: 3n, maxCreateRevision: 4n }) },
  { name: 'range filters with limit (count ignores the filter)', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), minModRevision: 6n, limit: 1n }) },
  { name: 'range sort VALUE DESCEND limit 2', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), sortTarget: S.VALUE, sortOrder: O.DESCEND, limit: 2n }) },
  { name: 'range sort MOD with order NONE (etcd sorts ASCEND)', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), sortTarget: S.MOD, sortOrder: O.NONE }) },
  { name: 'range sort CREATE DESCEND', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), sortTarget: S.CREATE, sortOrder: O.DESCEND }) },
  { name: 'range sort VERSION ASCEND', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), sortTarget: S.VERSION, sortOrder: O.ASCEND }) },
  { name: 'range sort KEY DESCEND limit 1', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), sortTarget: S.KEY, sortOrder: O.DESCEND, limit: 1n }) },
  { name: 'range serializable', call: (kv) => kv.range({ key: bytes('r/a'), serializable: true }) },
  { name: 'range from key to the end (range_end \\0)', call: (kv) => kv.range({ key: bytes('r/c'), rangeEnd: Buffer.from([0]) }) },
  { name: 'range everything (key \\0, range_end \\0)', call: (kv) => kv.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), keysOnly: true }) },
  { name: 'range with range_end before key', call: (kv) => kv.range({ key: bytes('z'), rangeEnd: bytes('a') }) },
  { name: 'range at revision 4', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), revision: 4n }) },
  { name: 'range at the current revision', call: (kv) => kv.range({ key: bytes('r/d'), revision: 9n }) },
  // etcd 3.4 does not check sort_order: an unknown one is served unsorted (the team's decision: match it).
  { name: 'range with sort_order 5 and sort_target VALUE', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), sortOrder: 5 as etcdserverpb.RangeRequest_SortOrder, sortTarget: S.VALUE }) },
  { name: 'range with limit -1', call: (kv) => kv.range({ key: bytes('r/a'), limit: -1n }) },
  // Put and delete with prev_kv (revisions 10..13).
  { name: 'put prev_kv on a new key', call: (kv) => kv.put({ key: bytes('p/new'), value: bytes('1'), prevKv: true }) },
  { name: 'put prev_kv on an existing key', call: (kv) => kv.put({ key: bytes('p/new'), value: bytes('2'), prevKv: true }) },
  { name: 'put ignore_value with prev_kv', call: (kv) => kv.put({ key: bytes('p/new'), ignoreValue: true, prevKv: true }) },
  { name: 'delete prefix with prev_kv', call: (kv) => kv.deleteRange({ key: bytes('p/'), rangeEnd: bytes('p0'), prevKv: true }) },
  { name: 'delete a missing key', call: (kv) => kv.deleteRange({ key: bytes('p/new'), prevKv: true }) },
  // Txn (revisions 14..).
  {
    name: 'txn compares on VALUE, MOD, CREATE, VERSION, LEASE (all true)',
    call: (kv) => kv.txn({
      compare: [
        cmp('r/b', T.VALUE, R.EQUAL, { $case: 'value', value: bytes('echo') }),
        cmp('r/c', T.MOD, R.GREATER, { $case: 'modRevision', value: num(5) }),
        cmp('r/a', T.CREATE, R.EQUAL, { $case: 'createRevision', value: num(2) }),
        cmp('r/d', T.VERSION, R.LESS, { $case: 'version', value: num(3) }),
        cmp('r/a', T.LEASE, R.EQUAL, { $case: 'lease', value: num(0) }),
      ],
      success: [put('t/1', 'one'), get('t/1')],
      failure: [put('t/never', 'x')],
    }),
  },
  {
    name: 'txn compare NOT_EQUAL and VALUE GREATER (false)',
    call: (kv) => kv.txn({
      compare: [cmp('r/b', T.VALUE, R.NOT_EQUAL, { $case: 'value', value: bytes('zulu') }), cmp('r/b', T.VALUE, R.GREATER, { $case: 'value', value: bytes('zulu') })],
      success: [put('t/never', 'x')],
      failure: [get('r/b'), put('t/2', 'two')],
    }),
  },
  { name: 'txn compare on a missing key: VERSION = 0', call: (kv) => kv.txn({ compare: [cmp('nokey', T.VERSION, R.EQUAL, { $case: 'version', value: num(0) })], success: [get('nokey')] }) },
  { name: 'txn compare on a missing key: VALUE = ""', call: (kv) => kv.txn({ compare: [cmp('nokey', T.VALUE, R.EQUAL, { $case: 'value', value: bytes('') })], success: [get('nokey')] }) },
  { name: 'txn compare over a range: every VERSION > 0', call: (kv) => kv.txn({ compare: [cmp('r/', T.VERSION, R.GREATER, { $case: 'version', value: num(0) }, 'r0')], success: [get('r/a')] }) },
  { name: 'txn compare over a range: some MOD < 4 (false)', call: (kv) => kv.txn({ compare: [cmp('r/', T.MOD, R.LESS, { $case: 'modRevision', value: num(4) }, 'r0')], failure: [get('r/a')] }) },
  { name: 'txn range, put, range, delete, range in one txn', call: (kv) => kv.txn({ success: [get('t/'), put('t/3', 'three'), get('t/', 't0'), del('t/1'), get('t/', 't0')] }) },
  {
    name: 'txn nested (inner success and failure)',
    call: (kv) => kv.txn({
      success: [
        nested({ compare: [cmp('t/3', T.VALUE, R.EQUAL, { $case: 'value', value: bytes('three') })], success: [put('n/1', 'a')], failure: [put('n/never', 'x')] }),
        nested({ compare: [cmp('t/3', T.VALUE, R.EQUAL, { $case: 'value', value: bytes('nope') })], success: [put('n/never2', 'x')], failure: [put('n/2', 'b'), get('n/', 'n0')] }),
      ],
    }),
  },
  { name: 'txn with no ops', call: (kv) => kv.txn({}) },
  { name: 'txn read-only (range only)', call: (kv) => kv.txn({ success: [get('r/a'), get('r/b')] }) },
  { name: 'txn delete a prefix with prev_kv', call: (kv) => kv.txn({ success: [del('n/', 'n0')] }) },
  // Odd compares: a union that does not match the target, ranges to the end, leases of missing keys.
  { name: 'txn compare target VALUE with a version union', call: (kv) => kv.txn({ compare: [cmp('r/a', T.VALUE, R.EQUAL, { $case: 'version', value: num(1) })], success: [get('r/a')], failure: [get('r/b')] }) },
  { name: 'txn compare target MOD with a value union', call: (kv) => kv.txn({ compare: [cmp('r/a', T.MOD, R.GREATER, { $case: 'value', value: bytes('a') })], success: [get('r/a')], failure: [get('r/b')] }) },
  { name: 'txn compare with no union', call: (kv) => kv.txn({ compare: [cmp('r/a', T.VERSION, R.EQUAL, undefined)], success: [get('r/a')], failure: [get('r/b')] }) },
  { name: 'txn compare from a key to the end (range_end \\0)', call: (kv) => kv.txn({ compare: [{ ...cmp('r/c', T.CREATE, R.GREATER, { $case: 'createRevision', value: num(3) }), rangeEnd: Buffer.from([0]) }], success: [get('r/c')], failure: [get('r/d')] }) },
  { name: 'txn compare over an empty range', call: (kv) => kv.txn({ compare: [cmp('zz/', T.VERSION, R.GREATER, { $case: 'version', value: num(5) }, 'zz0')], success: [get('r/a')], failure: [get('r/b')] }) },
  { name: 'txn compare LEASE of a missing key', call: (kv) => kv.txn({ compare: [cmp('nokey', T.LEASE, R.EQUAL, { $case: 'lease', value: num(0) })], success: [get('r/a')], failure: [get('r/b')] }) },
  { name: 'txn compare MOD of a missing key = 0', call: (kv) => kv.txn({ compare: [cmp('nokey', T.MOD, R.EQUAL, { $case: 'modRevision', value: num(0) })], success: [get('r/a')], failure: [get('r/b')] }) },
  // Delete and re-create: create_revision and version start again; history still has the old generation.
  { name: 'delete r/a', call: (kv) => kv.deleteRange({ key: bytes('r/a'), prevKv: true }) },
  { name: 're-create r/a', call: (kv) => kv.put({ key: bytes('r/a'), value: bytes('reborn'), prevKv: true }) },
  { name: 'range r/a now', call: (kv) => kv.range({ key: bytes('r/a') }) },
  { name: 'range r/a at the revision of its deletion', call: (kv) => kv.range({ key: bytes('r/a'), revision: 19n }) },
  { name: 'range r/a just before its deletion', call: (kv) => kv.range({ key: bytes('r/a'), revision: 18n }) },
  { name: 'range with a filter, a sort and a limit', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), minCreateRevision: 3n, sortTarget: S.VALUE, sortOrder: O.ASCEND, limit: 2n }) },
  { name: 'range count_only with limit', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), countOnly: true, limit: 1n }) },
  { name: 'range keys_only and count_only', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), countOnly: true, keysOnly: true }) },
  { name: 'range limit larger than the count', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), limit: 100n, keysOnly: true }) },
  { name: 'delete from a key to the end (range_end \\0)', call: (kv) => kv.deleteRange({ key: bytes('t/'), rangeEnd: Buffer.from([0]), prevKv: false }) },
  // Compaction.
  { name: 'compact at revision 6 (physical)', call: (kv) => kv.compact({ revision: 6n, physical: true }) },
  { name: 'range at the compaction revision', call: (kv) => kv.range({ key: bytes('r/'), rangeEnd: bytes('r0'), revision: 6n }) },
  { name: 'range count after compaction', call: (kv) => kv.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), countOnly: true }) },
  { name: 'compact at revision 0', call: (kv) => kv.compact({ revision: 0n }) },
  { name: 'range at revision 0 (current)', call: (kv) => kv.range({ key: bytes('r/a'), revision: 0n }) },
];
