/**
 * Auth in the apply, as etcd 3.4's authApplierV3:
 * - auth management entries (every Auth RPC but Authenticate) need the root role when auth is on
 *   (needAdminPermission + IsAdminPermitted), then change the auth store;
 * - puts, deletes, txns and lease revokes are checked against the caller's permissions, with the
 *   user and auth revision the proposing member put in the entry's header, before anything else
 *   about them is checked. A txn is checked on both branches and every compare, whichever branch
 *   would run (checkTxnAuth); a put with a lease, and a lease revoke, need write permission on
 *   every key the lease holds (checkLeasePuts).
 * The checks read only the replicated auth state, so every member reaches the same verdict.
 */
import type { corvidpb, etcdserverpb } from '@corvid/proto';
import type { AuthInfo, AuthStore } from '../auth/index.js';
import type { Lessor } from '../lease/index.js';
import type { WriteTxn } from '../storage/index.js';
import { revisionHeader } from './header.js';

type Op = NonNullable<corvidpb.InternalRequest['request']>;

export type AuthOp = Extract<
  Op,
  {
    $case:
      | 'authEnable' | 'authDisable' | 'authenticate' | 'authUserAdd' | 'authUserDelete' | 'authUserGet'
      | 'authUserChangePassword' | 'authUserGrantRole' | 'authUserRevokeRole' | 'authUserList' | 'authRoleList'
      | 'authRoleAdd' | 'authRoleDelete' | 'authRoleGet' | 'authRoleGrantPermission' | 'authRoleRevokePermission';
  }
>;

export type AuthResponse =
  | etcdserverpb.AuthEnableResponse
  | etcdserverpb.AuthenticateResponse
  | etcdserverpb.AuthUserGetResponse
  | etcdserverpb.AuthUserListResponse
  | etcdserverpb.AuthRoleGetResponse
  | etcdserverpb.AuthRoleListResponse;

export function isAuthOp(op: Op | undefined): op is AuthOp {
  return op !== undefined && (op.$case.startsWith('authUser') || op.$case.startsWith('authRole') || op.$case === 'authEnable' || op.$case === 'authDisable' || op.$case === 'authenticate');
}

/** The caller named in an entry's header; undefined when the request came without a user. */
export function callerOf(header: corvidpb.RequestHeader | undefined): AuthInfo | undefined {
  if (header === undefined || header.username === '') return undefined;
  return { username: header.username, revision: Number(header.authRevision) };
}

/** Applies one auth entry at log `index`; `revision` is the store's current revision, for the header. */
export function applyAuth(txn: WriteTxn, auth: AuthStore, op: AuthOp, header: corvidpb.RequestHeader | undefined, index: number, revision: number): AuthResponse {
  const done = { header: revisionHeader(revision) };
  if (op.$case === 'authenticate') return { ...done, token: auth.authenticate(txn, op.value, index) };
  auth.checkAdmin(callerOf(header));
  switch (op.$case) {
    case 'authEnable':
      auth.enable(txn);
      return done;
    case 'authDisable':
      auth.disable(txn);
      return done;
    case 'authUserAdd':
      auth.userAdd(txn, op.value);
      return done;
    case 'authUserDelete':
      auth.userDelete(txn, op.value);
      return done;
    case 'authUserGet':
      return { ...done, roles: auth.userGet(op.value) };
    case 'authUserChangePassword':
      auth.userChangePassword(txn, op.value);
      return done;
    case 'authUserGrantRole':
      auth.userGrantRole(txn, op.value);
      return done;
    case 'authUserRevokeRole':
      auth.userRevokeRole(txn, op.value);
      return done;
    case 'authUserList':
      return { ...done, users: auth.userNames() };
    case 'authRoleList':
      return { ...done, roles: auth.roleNames() };
    case 'authRoleAdd':
      auth.roleAdd(txn, op.value);
      return done;
    case 'authRoleDelete':
      auth.roleDelete(txn, op.value);
      return done;
    case 'authRoleGet':
      return { ...done, perm: auth.roleGet(op.value) };
    case 'authRoleGrantPermission':
      auth.roleGrantPermission(txn, op.value);
      return done;
    case 'authRoleRevokePermission':
      auth.roleRevokePermission(txn, op.value);
      return done;
  }
}

/** Throws the caller's refusal of a KV or lease entry (PermissionDenied, AuthUserEmpty, AuthOldRevision); auth off: never. */
export function checkPermission(auth: AuthStore, leases: Lessor, op: Op | undefined, header: corvidpb.RequestHeader | undefined): void {
  if (op === undefined || !auth.isEnabled()) return;
  const who = callerOf(header);
  switch (op.$case) {
    case 'put':
      checkPut(auth, leases, who, op.value);
      return;
    case 'deleteRange':
      checkDelete(auth, who, op.value);
      return;
    case 'txn':
      checkTxn(auth, leases, who, op.value);
      return;
    case 'leaseRevoke':
      checkLeasePuts(auth, leases, who, op.value.ID);
      return;
    default:
      return;
  }
}

const NO_END = Buffer.alloc(0);

function checkPut(auth: AuthStore, leases: Lessor, who: AuthInfo | undefined, p: etcdserverpb.PutRequest): void {
  auth.checkWrite(who, p.key, NO_END);
  // The lease's keys are ones the user could not revoke otherwise (etcd's checkLeasePuts on Put).
  checkLeasePuts(auth, leases, who, p.lease);
  if (p.prevKv) auth.checkRead(who, p.key, NO_END);
}

function checkDelete(auth: AuthStore, who: AuthInfo | undefined, d: etcdserverpb.DeleteRangeRequest): void {
  auth.checkWrite(who, d.key, d.rangeEnd);
  if (d.prevKv) auth.checkRead(who, d.key, d.rangeEnd);
}

function checkLeasePuts(auth: AuthStore, leases: Lessor, who: AuthInfo | undefined, lease: bigint): void {
  if (lease === 0n || !leases.has(lease)) return;
  for (const key of leases.keys(lease)) auth.checkWrite(who, key, NO_END);
}

/** etcd's checkTxnAuth: every compare needs read; both branches are checked, nested txns included. */
function checkTxn(auth: AuthStore, leases: Lessor, who: AuthInfo | undefined, t: etcdserverpb.TxnRequest): void {
  for (const c of t.compare) auth.checkRead(who, c.key, c.rangeEnd);
  for (const op of [...t.success, ...t.failure]) {
    const r = op.request;
    if (r === undefined) continue;
    switch (r.$case) {
      case 'requestRange':
        auth.checkRead(who, r.value.key, r.value.rangeEnd);
        break;
      case 'requestPut':
        auth.checkWrite(who, r.value.key, NO_END);
        break;
      case 'requestDeleteRange':
        if (r.value.prevKv) auth.checkRead(who, r.value.key, r.value.rangeEnd);
        auth.checkWrite(who, r.value.key, r.value.rangeEnd);
        break;
      case 'requestTxn':
        checkTxn(auth, leases, who, r.value);
        break;
    }
  }
}
