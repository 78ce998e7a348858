/**
 * Txn compares, as etcd 3.4's applyCompare/compareKV: every key of the compare's range must
 * satisfy it; a range with no keys compares a zero KeyValue (version/create/mod/lease 0), except
 * a VALUE compare, which is then always false ("no way to represent missing value"). A union
 * that does not match the target compares against 0 / empty; an unknown result is true.
 */
import { etcdserverpb } from '@corvid/proto';
import { keyRange, revisionFromWire, type KvRecord, type KvWrite } from '../mvcc/index.js';
import type { WriteTxn } from '../storage/index.js';
import { compareBytes } from '../util/bytes.js';

const { Compare_CompareResult: Result, Compare_CompareTarget: Target } = etcdserverpb;

const ZERO_RECORD: KvRecord = { tombstone: false, createRevision: 0, modRevision: 0, version: 0, lease: 0n, value: Buffer.alloc(0) };

function sign(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function numberOperand(c: etcdserverpb.Compare, want: 'version' | 'createRevision' | 'modRevision'): number {
  return c.targetUnion?.$case === want ? revisionFromWire(c.targetUnion.value) : 0;
}

function compareRecord(c: etcdserverpb.Compare, record: KvRecord): boolean {
  let result = 0;
  switch (c.target) {
    case Target.VALUE:
      result = compareBytes(record.value, c.targetUnion?.$case === 'value' ? c.targetUnion.value : Buffer.alloc(0));
      break;
    case Target.CREATE:
      result = sign(record.createRevision, numberOperand(c, 'createRevision'));
      break;
    case Target.MOD:
      result = sign(record.modRevision, numberOperand(c, 'modRevision'));
      break;
    case Target.VERSION:
      result = sign(record.version, numberOperand(c, 'version'));
      break;
    case Target.LEASE:
      result = sign(record.lease, c.targetUnion?.$case === 'lease' ? c.targetUnion.value : 0n);
      break;
    default:
      break;
  }
  switch (c.result) {
    case Result.EQUAL:
      return result === 0;
    case Result.NOT_EQUAL:
      return result !== 0;
    case Result.GREATER:
      return result > 0;
    case Result.LESS:
      return result < 0;
    default:
      return true;
  }
}

export function applyCompare(txn: WriteTxn, view: KvWrite, c: etcdserverpb.Compare): boolean {
  let any = false;
  let ok = true;
  view.forEachLive(txn, keyRange(c.key, c.rangeEnd), (_key, record) => {
    any = true;
    ok = compareRecord(c, record);
    return ok;
  });
  if (any) return ok;
  return c.target === Target.VALUE ? false : compareRecord(c, ZERO_RECORD);
}
