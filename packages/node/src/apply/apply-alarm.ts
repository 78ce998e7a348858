/**
 * AlarmRequest as etcd's applierV3backend.Alarm: ACTIVATE and DEACTIVATE answer with the alarm
 * they changed (none if it already was, or was not, raised); GET lists the raised alarms of the
 * type, or all of them for NONE. The response has no header, as etcd's.
 */
import { etcdserverpb } from '@corvid/proto';
import type { AlarmStore } from '../alarm/index.js';
import type { WriteTxn } from '../storage/index.js';

const { GET, ACTIVATE, DEACTIVATE } = etcdserverpb.AlarmRequest_AlarmAction;

export function applyAlarm(txn: WriteTxn, alarms: AlarmStore, r: etcdserverpb.AlarmRequest): etcdserverpb.AlarmResponse {
  switch (r.action) {
    case GET:
      return { header: undefined, alarms: alarms.list(r.alarm) };
    case ACTIVATE: {
      const raised = r.alarm === etcdserverpb.AlarmType.NONE ? undefined : alarms.activate(txn, r.memberID, r.alarm);
      return { header: undefined, alarms: raised === undefined ? [] : [raised] };
    }
    case DEACTIVATE: {
      const cleared = alarms.deactivate(txn, r.memberID, r.alarm);
      return { header: undefined, alarms: cleared === undefined ? [] : [cleared] };
    }
    default:
      return { header: undefined, alarms: [] };
  }
}
