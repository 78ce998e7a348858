/**
 * Goal: the applier keeps auth as etcd 3.4's auth store: enable needs root with the root role; once on, auth
 * management needs root and the caller named in the entry's header is checked for puts, deletes, txns (compares
 * and both branches) and lease revokes (every attached key), before anything else; the auth revision moves as
 * etcd's (not on enable or on a repeated grant); role deletion takes the role from its users; a grant on the same
 * key and range end replaces the permission; and all of it survives reopening the store.
 * Method: the real applier on a real LMDB store in a temp dir (test/mvcc/harness.ts), entries with headers made here.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { authpb, corvidpb, etcdserverpb } from '@corvid/proto';
import type { ApplyResult } from '../../src/apply/index.js';
import { Harness, b, putOp, rPut, rRange, type Op } from '../mvcc/harness.js';

const open: Harness[] = [];
const harness = (dir?: string): Harness => {
  const h = Harness.open({}, dir);
  open.push(h);
  return h;
};
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

/** Applies `op` as `username` at `authRevision` (default: the store's current one). */
function as(h: Harness, username: string, op: Op, authRevision?: number): ApplyResult {
  const index = h.applier.appliedIndex() + 1;
  const header = corvidpb.RequestHeader.fromPartial({ id: BigInt(index), memberId: 1n, username, authRevision: BigInt(authRevision ?? h.applier.auth.revision()) });
  const [result] = h.applier.applyBatch([{ index, data: corvidpb.InternalRequest.encode({ header, request: op }).finish() }]);
  if (result === undefined) throw new Error('no result');
  return result;
}
const code = (r: ApplyResult): string => (r.ok ? 'ok' : r.error.code);

const userAdd = (name: string, noPassword = false): Op => ({ $case: 'authUserAdd', value: { name, hashedPassword: noPassword ? '' : 'scrypt$hash', options: { noPassword }, hasOptions: true } });
const roleAdd = (name: string): Op => ({ $case: 'authRoleAdd', value: { name } });
const grantRole = (user: string, role: string): Op => ({ $case: 'authUserGrantRole', value: { user, role } });
const grantPerm = (name: string, permType: authpb.Permission_Type, key: string, rangeEnd = ''): Op => ({ $case: 'authRoleGrantPermission', value: { name, perm: { permType, key: b(key), rangeEnd: b(rangeEnd) } } });
const enable: Op = { $case: 'authEnable', value: {} };
const disable: Op = { $case: 'authDisable', value: {} };

/** root (root role) and alice (role app: readwrite /app/ prefix, read /pub); auth on. */
function withUsers(h: Harness): void {
  for (const op of [userAdd('root'), grantRole('root', 'root'), userAdd('alice'), roleAdd('app'), grantPerm('app', authpb.Permission_Type.READWRITE, '/app/', '/app0'), grantPerm('app', authpb.Permission_Type.READ, '/pub'), grantRole('alice', 'app'), enable]) {
    expect(code(as(h, '', op))).toBe('ok');
  }
}

describe('auth in the applier', () => {
  it('enables only with root holding the root role', () => {
    const h = harness();
    expect(code(as(h, '', enable))).toBe('RootUserNotExist');
    as(h, '', userAdd('root'));
    expect(code(as(h, '', enable))).toBe('RootRoleNotExist');
    as(h, '', grantRole('root', 'root'));
    expect(code(as(h, '', enable))).toBe('ok');
    expect(h.applier.auth.isEnabled()).toBe(true);
  });

  it('moves the auth revision as etcd does', () => {
    const h = harness();
    expect(h.applier.auth.revision()).toBe(1);
    as(h, '', userAdd('root'));
    as(h, '', grantRole('root', 'root'));
    expect(h.applier.auth.revision()).toBe(3);
    as(h, '', grantRole('root', 'root'));
    as(h, '', enable);
    expect(h.applier.auth.revision()).toBe(3);
    as(h, 'root', disable);
    expect(h.applier.auth.revision()).toBe(4);
  });

  it('leaves auth management to root once enabled', () => {
    const h = harness();
    withUsers(h);
    expect(code(as(h, '', roleAdd('x')))).toBe('AuthUserEmpty');
    expect(code(as(h, 'alice', roleAdd('x')))).toBe('PermissionDenied');
    expect(code(as(h, 'ghost', roleAdd('x')))).toBe('UserNotFound');
    expect(code(as(h, 'root', roleAdd('x')))).toBe('ok');
    expect(code(as(h, 'root', { $case: 'authUserDelete', value: { name: 'root' } }))).toBe('InvalidAuthMgmt');
    expect(code(as(h, 'root', { $case: 'authRoleDelete', value: { role: 'root' } }))).toBe('InvalidAuthMgmt');
    expect(code(as(h, 'root', { $case: 'authUserRevokeRole', value: { name: 'root', role: 'root' } }))).toBe('InvalidAuthMgmt');
  });

  it("checks the caller's permissions on writes, both txn branches, and lease revokes", () => {
    const h = harness();
    h.ok({ $case: 'leaseGrant', value: { ID: 9n, TTL: 600n } });
    withUsers(h);
    expect(code(as(h, 'alice', putOp('/app/a', '1')))).toBe('ok');
    expect(code(as(h, 'alice', putOp('/pub', '1')))).toBe('PermissionDenied');
    expect(code(as(h, '', putOp('/app/a', '1'), 0))).toBe('AuthUserEmpty');
    expect(code(as(h, 'alice', putOp('/app/a', '1'), 1))).toBe('AuthOldRevision');
    expect(code(as(h, 'alice', putOp('/app/b', '1', { prevKv: true })))).toBe('ok');
    const txn = (t: etcdserverpb.DeepPartial<etcdserverpb.TxnRequest>): Op => ({ $case: 'txn', value: etcdserverpb.TxnRequest.fromPartial(t) });
    expect(code(as(h, 'alice', txn({ success: [rPut('/app/c', '1')], failure: [rPut('/pub', '1')] })))).toBe('PermissionDenied');
    expect(code(as(h, 'alice', txn({ compare: [{ key: b('/secret'), target: 3, targetUnion: { $case: 'value', value: b('x') } }], success: [rPut('/app/c', '1')] })))).toBe('PermissionDenied');
    expect(code(as(h, 'alice', txn({ success: [rPut('/app/c', '1'), rRange('/pub')] })))).toBe('ok');
    // A lease holding a key alice may not write: she may neither revoke it nor attach more keys to it.
    expect(code(as(h, 'root', putOp('/other', 'x', { lease: 9n })))).toBe('ok');
    expect(code(as(h, 'alice', putOp('/app/l', 'x', { lease: 9n })))).toBe('PermissionDenied');
    expect(code(as(h, 'alice', { $case: 'leaseRevoke', value: { ID: 9n } }))).toBe('PermissionDenied');
    expect(code(as(h, 'root', { $case: 'leaseRevoke', value: { ID: 9n } }))).toBe('ok');
    // Checked before the request's own checks: a missing lease is not revealed to a caller who may not write.
    expect(code(as(h, 'alice', putOp('/pub', 'x', { lease: 12345n })))).toBe('PermissionDenied');
  });

  it('takes a deleted role from its users and replaces a grant on the same range', () => {
    const h = harness();
    withUsers(h);
    as(h, 'root', grantPerm('app', authpb.Permission_Type.READ, '/app/', '/app0'));
    as(h, 'root', grantPerm('app', authpb.Permission_Type.WRITE, '/a'));
    const perms = h.applier.auth.getRole('app')?.keyPermission.map((p) => `${p.permType} ${p.key.toString()} ${p.rangeEnd.toString()}`);
    expect(perms).toEqual([`${authpb.Permission_Type.WRITE} /a `, `${authpb.Permission_Type.READ} /app/ /app0`, `${authpb.Permission_Type.READ} /pub `]);
    expect(code(as(h, 'root', { $case: 'authRoleDelete', value: { role: 'app' } }))).toBe('ok');
    expect(h.applier.auth.getUser('alice')?.roles).toEqual([]);
  });

  it('keeps everything across a reopen', async () => {
    const h = harness();
    withUsers(h);
    const revision = h.applier.auth.revision();
    await h.reopen();
    const again = h;
    expect(again.applier.auth.isEnabled()).toBe(true);
    expect(again.applier.auth.revision()).toBe(revision);
    expect(again.applier.auth.userNames()).toEqual(['alice', 'root']);
    expect(code(as(again, 'alice', putOp('/app/z', '1')))).toBe('ok');
    expect(code(as(again, 'alice', putOp('/z', '1')))).toBe('PermissionDenied');
  });
});
