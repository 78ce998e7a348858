/**
 * The alarms raised in the cluster (etcd's alarmStore): NOSPACE when a member passed its space
 * quota, CORRUPT when a consistency check failed. Changed only by applied AlarmRequests, persisted
 * in the same transaction, and read by the API (Alarm GET, /health) and the applier (which refuses
 * writes while NOSPACE is raised).
 */
import { etcdserverpb } from '@corvid/proto';
import type { Backend, WriteTxn } from '../storage/index.js';
import { META_ALARM_PREFIX, prefixEnd } from '../storage/schema.js';

type AlarmType = etcdserverpb.AlarmType;
export type AlarmMember = etcdserverpb.AlarmMember;

function alarmKey(memberID: bigint, alarm: AlarmType): Buffer {
  const key = Buffer.allocUnsafe(META_ALARM_PREFIX.length + 12);
  META_ALARM_PREFIX.copy(key, 0);
  key.writeBigUInt64BE(memberID, META_ALARM_PREFIX.length);
  key.writeUInt32BE(alarm, META_ALARM_PREFIX.length + 8);
  return key;
}

export class AlarmStore {
  /** Raised alarms, keyed by their storage key so the list keeps etcd's (member, type) order. */
  private readonly raised = new Map<string, AlarmMember>();

  constructor(private readonly backend: Backend) {
    this.reload();
  }

  /** Reads the raised alarms from disk (at start, and after an aborted batch). */
  reload(): void {
    this.raised.clear();
    for (const { key } of this.backend.meta.getRange({ start: META_ALARM_PREFIX, end: prefixEnd(META_ALARM_PREFIX) })) {
      const memberID = key.readBigUInt64BE(META_ALARM_PREFIX.length);
      const alarm = key.readUInt32BE(META_ALARM_PREFIX.length + 8) as AlarmType;
      this.raised.set(key.toString('hex'), { memberID, alarm });
    }
  }

  /** Raises `alarm` for `memberID`; returns it if it was not raised before. */
  activate(_txn: WriteTxn, memberID: bigint, alarm: AlarmType): AlarmMember | undefined {
    const key = alarmKey(memberID, alarm);
    const id = key.toString('hex');
    if (this.raised.has(id)) return undefined;
    const member = { memberID, alarm };
    this.backend.meta.put(key, Buffer.alloc(0));
    this.raised.set(id, member);
    return member;
  }

  /** Clears `alarm` for `memberID`; returns it if it was raised. */
  deactivate(_txn: WriteTxn, memberID: bigint, alarm: AlarmType): AlarmMember | undefined {
    const key = alarmKey(memberID, alarm);
    const member = this.raised.get(key.toString('hex'));
    if (member === undefined) return undefined;
    this.backend.meta.removeSync(key);
    this.raised.delete(key.toString('hex'));
    return member;
  }

  /** Raised alarms of one type, or all of them for NONE (etcd's Get). */
  list(alarm: AlarmType = etcdserverpb.AlarmType.NONE): AlarmMember[] {
    const all = [...this.raised.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, m]) => m);
    return alarm === etcdserverpb.AlarmType.NONE ? all : all.filter((m) => m.alarm === alarm);
  }

  isRaised(alarm: AlarmType): boolean {
    for (const m of this.raised.values()) if (m.alarm === alarm) return true;
    return false;
  }
}
