/**
 * Goal: alarms as etcd 3.4's applier keeps them. ACTIVATE/DEACTIVATE answer with what they
 * changed and persist it; while NOSPACE is raised, puts, txns with top-level puts (in either
 * branch) and lease grants are refused with NoSpace, while deletes, compaction and read-only txns
 * go on; CORRUPT refuses every store change; disarming restores writes.
 * Method: the real applier on a real LMDB store in a temp dir (test/mvcc/harness.ts), reopened.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { etcdserverpb } from '@corvid/proto';
import { Harness, compactOp, delOp, putOp, rPut, rRange, rTxn, txnOp, type Op } from '../mvcc/harness.js';

const { NOSPACE, CORRUPT, NONE } = etcdserverpb.AlarmType;
const { ACTIVATE, DEACTIVATE, GET } = etcdserverpb.AlarmRequest_AlarmAction;
const alarmOp = (action: etcdserverpb.AlarmRequest_AlarmAction, alarm: etcdserverpb.AlarmType, memberID = 7n): Op => ({
  $case: 'alarm',
  value: { action, alarm, memberID },
});

const open: Harness[] = [];
const harness = (dir?: string): Harness => {
  const h = Harness.open({}, dir);
  open.push(h);
  return h;
};
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

describe('alarms', () => {
  it('answers ACTIVATE and DEACTIVATE with what changed, and lists by type', () => {
    const h = harness();
    expect(h.ok<etcdserverpb.AlarmResponse>(alarmOp(ACTIVATE, NOSPACE)).alarms).toEqual([{ memberID: 7n, alarm: NOSPACE }]);
    expect(h.ok<etcdserverpb.AlarmResponse>(alarmOp(ACTIVATE, NOSPACE)).alarms).toEqual([]);
    h.ok(alarmOp(ACTIVATE, CORRUPT, 3n));
    expect(h.ok<etcdserverpb.AlarmResponse>(alarmOp(GET, NONE)).alarms).toEqual([
      { memberID: 3n, alarm: CORRUPT },
      { memberID: 7n, alarm: NOSPACE },
    ]);
    expect(h.ok<etcdserverpb.AlarmResponse>(alarmOp(GET, NOSPACE)).alarms).toEqual([{ memberID: 7n, alarm: NOSPACE }]);
    expect(h.ok<etcdserverpb.AlarmResponse>(alarmOp(DEACTIVATE, NOSPACE, 8n)).alarms).toEqual([]);
    expect(h.ok<etcdserverpb.AlarmResponse>(alarmOp(DEACTIVATE, NOSPACE)).alarms).toEqual([{ memberID: 7n, alarm: NOSPACE }]);
    expect(h.applier.alarms.list()).toEqual([{ memberID: 3n, alarm: CORRUPT }]);
  });

  it('under NOSPACE refuses what costs space and lets space be freed', () => {
    const h = harness();
    h.put('a', '1');
    h.put('b', '2');
    h.ok(alarmOp(ACTIVATE, NOSPACE));
    expect(h.err(putOp('c', '3'))).toBe('NoSpace');
    expect(h.err(txnOp({ failure: [rPut('c', '3')] }))).toBe('NoSpace');
    expect(h.err({ $case: 'leaseGrant', value: { TTL: 10n, ID: 0n } })).toBe('NoSpace');
    // etcd 3.4 costs only top-level puts: a put inside a nested txn is not refused.
    expect(h.apply(txnOp({ success: [rTxn({ success: [rPut('n', '1')] })] })).ok).toBe(true);
    expect(h.apply(txnOp({ success: [rRange('a')] })).ok).toBe(true);
    expect(h.apply(delOp('a')).ok).toBe(true);
    expect(h.apply(compactOp(2)).ok).toBe(true);
    h.ok(alarmOp(DEACTIVATE, NOSPACE));
    expect(h.apply(putOp('c', '3')).ok).toBe(true);
  });

  it('under CORRUPT refuses every store change', () => {
    const h = harness();
    h.put('a', '1');
    h.ok(alarmOp(ACTIVATE, CORRUPT));
    expect(h.err(putOp('a', '2'))).toBe('Corrupt');
    expect(h.err(delOp('a'))).toBe('Corrupt');
    expect(h.err(txnOp({ success: [rRange('a')], failure: [rPut('b', '2')] }))).toBe('Corrupt');
    expect(h.err(compactOp(1))).toBe('Corrupt');
    // etcd 3.4 serves a read-only txn outside the log, so the alarm never refuses it.
    expect(h.apply(txnOp({ success: [rRange('a')] })).ok).toBe(true);
  });

  it('keeps raised alarms across a reopen', async () => {
    const h = harness();
    h.ok(alarmOp(ACTIVATE, NOSPACE, 0x8e9e05c52164694dn));
    await h.reopen();
    expect(h.applier.alarms.list()).toEqual([{ memberID: 0x8e9e05c52164694dn, alarm: NOSPACE }]);
    expect(h.err(putOp('a', '1'))).toBe('NoSpace');
  });
});
