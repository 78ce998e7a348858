/**
 * Users, roles and the auth switch, as etcd 3.4's auth.authStore: persisted in `authUsers`,
 * `authRoles` and two meta keys (storage/schema.ts), changed only by the applier (the methods
 * taking a WriteTxn), and read by the API to check requests. Every change bumps the auth revision,
 * except enable and a grant of a role already granted, as in etcd. The checks follow etcd's
 * isOpPermitted and IsAdminPermitted, in etcd's order, so the errors are etcd's.
 *
 * The user `root` with the role `root` may do anything; the role `root` needs no definition.
 */
import { authpb, type corvidpb, type etcdserverpb } from '@corvid/proto';
import { CorvidError } from '../errors/index.js';
import type { Backend, WriteTxn } from '../storage/index.js';
import { MAX_LMDB_KEY_BYTES, META_AUTH_ENABLED, META_AUTH_REVISION, decodeMetaInt, encodeMetaInt } from '../storage/schema.js';
import { verifyPassword } from './password.js';
import { mergePerms, permits, type MergedPerms } from './range-perms.js';
import type { AuthInfo, TokenProvider } from './tokens.js';

export const ROOT_USER = 'root';
export const ROOT_ROLE = 'root';

const nameKey = (name: string): Buffer => Buffer.from(name, 'utf8');

/**
 * A name's key, or undefined when LMDB cannot hold it as one (empty, or over its key size limit): bolt's Get
 * finds nothing under such a name, and a lookup must not throw inside an apply, where it would stop the member.
 */
function lookupKey(name: string): Buffer | undefined {
  const key = nameKey(name);
  return key.length > 0 && key.length <= MAX_LMDB_KEY_BYTES ? key : undefined;
}

export class AuthStore {
  private enabled = false;
  private rev = 1;
  /** username → merged permissions; cleared by every change (etcd's rangePermCache). */
  private readonly permCache = new Map<string, MergedPerms>();
  /**
   * The member's token provider, told of authentications and invalidations as they apply (tokens
   * are member memory, never state). Given once by the composition root before the log is applied;
   * without one, Authenticate hands back the proposed token as it is.
   */
  private tokens: TokenProvider | undefined;

  constructor(private readonly backend: Backend) {
    this.reload();
  }

  /** Wiring only (server/member.ts), before the raft driver starts. */
  useTokenProvider(tokens: TokenProvider): void {
    this.tokens = tokens;
  }

  /** Reads the switch and the revision from disk (at start, after a snapshot, after an aborted batch). */
  reload(): void {
    const flag = this.backend.meta.get(META_AUTH_ENABLED);
    this.enabled = flag !== undefined && flag.length === 1 && flag[0] === 1;
    // etcd writes revision 1 into a new store at start; an absent key reads as that 1 here.
    this.rev = decodeMetaInt(this.backend.meta.get(META_AUTH_REVISION), 1);
    this.permCache.clear();
  }

  isEnabled(): boolean {
    return this.enabled;
  }

  revision(): number {
    return this.rev;
  }

  getUser(name: string): authpb.User | undefined {
    const key = lookupKey(name);
    const bytes = key === undefined ? undefined : this.backend.authUsers.get(key);
    return bytes === undefined ? undefined : authpb.User.decode(bytes);
  }

  getRole(name: string): authpb.Role | undefined {
    const key = lookupKey(name);
    const bytes = key === undefined ? undefined : this.backend.authRoles.get(key);
    return bytes === undefined ? undefined : authpb.Role.decode(bytes);
  }

  userNames(): string[] {
    return [...this.backend.authUsers.getKeys({})].map((k) => k.toString('utf8'));
  }

  roleNames(): string[] {
    return [...this.backend.authRoles.getKeys({})].map((k) => k.toString('utf8'));
  }

  // ---- checks (etcd's CheckPassword, IsAdminPermitted, isOpPermitted) ----

  /** Authenticate's check on the member asked: the auth revision it was made at, or AuthNotEnabled / AuthFailed. */
  async checkPassword(name: string, password: string): Promise<number> {
    if (!this.enabled) throw new CorvidError('AuthNotEnabled');
    const user = this.getUser(name);
    if (user === undefined) throw new CorvidError('AuthFailed');
    if (user.options?.noPassword === true) throw new CorvidError('NoPasswordUser');
    const revision = this.rev;
    if (!(await verifyPassword(password, user.password.toString('utf8')))) throw new CorvidError('AuthFailed');
    return revision;
  }

  /** Auth management needs the root role when auth is on. */
  checkAdmin(info: AuthInfo | undefined): void {
    if (!this.enabled) return;
    if (info === undefined || info.username === '') throw new CorvidError('AuthUserEmpty');
    const user = this.getUser(info.username);
    if (user === undefined) throw new CorvidError('UserNotFound');
    if (!hasRootRole(user)) throw new CorvidError('PermissionDenied');
  }

  checkRead(info: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    this.checkOp(info, key, rangeEnd, 'read');
  }

  checkWrite(info: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    this.checkOp(info, key, rangeEnd, 'write');
  }

  private checkOp(info: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array, op: 'read' | 'write'): void {
    if (!this.enabled) return;
    // Only "no user" has revision 0.
    if (info === undefined || info.revision === 0) throw new CorvidError('AuthUserEmpty');
    if (info.revision < this.rev) throw new CorvidError('AuthOldRevision');
    const user = this.getUser(info.username);
    if (user === undefined) throw new CorvidError('PermissionDenied');
    if (hasRootRole(user)) return;
    let perms = this.permCache.get(info.username);
    if (perms === undefined) {
      perms = mergePerms(user.roles.map((r) => this.getRole(r)).filter((r): r is authpb.Role => r !== undefined));
      this.permCache.set(info.username, perms);
    }
    if (!permits(op === 'read' ? perms.read : perms.write, key, rangeEnd)) throw new CorvidError('PermissionDenied');
  }

  // ---- changes, applied from the log (etcd's authStore methods, same checks and order) ----

  enable(_txn: WriteTxn): void {
    if (this.enabled) return;
    const root = this.getUser(ROOT_USER);
    if (root === undefined) throw new CorvidError('RootUserNotExist');
    if (!hasRootRole(root)) throw new CorvidError('RootRoleNotExist');
    this.backend.meta.put(META_AUTH_ENABLED, Buffer.from([1]));
    this.enabled = true;
    this.permCache.clear();
  }

  disable(txn: WriteTxn): void {
    if (!this.enabled) return;
    this.backend.meta.put(META_AUTH_ENABLED, Buffer.from([0]));
    this.commitRevision(txn);
    this.enabled = false;
    this.tokens?.invalidateAll();
  }

  /** Apply of Authenticate: the user must still exist and have a password. */
  authenticate(_txn: WriteTxn, r: corvidpb.InternalAuthenticateRequest, index: number): string {
    if (!this.enabled) throw new CorvidError('AuthNotEnabled');
    const user = this.getUser(r.name);
    if (user === undefined) throw new CorvidError('AuthFailed');
    if (user.options?.noPassword === true) throw new CorvidError('NoPasswordUser');
    if (this.tokens === undefined) return r.token;
    return this.tokens.assign(r.name, { simpleToken: r.simpleToken, token: r.token }, index);
  }

  userAdd(txn: WriteTxn, r: corvidpb.AuthUserAdd): void {
    if (r.name.length === 0) throw new CorvidError('AuthUserEmpty');
    if (this.getUser(r.name) !== undefined) throw new CorvidError('UserAlreadyExist');
    const options = r.hasOptions ? (r.options ?? { noPassword: false }) : { noPassword: false };
    this.putUser(txn, { name: nameKey(r.name), password: Buffer.from(r.hashedPassword, 'utf8'), roles: [], options });
  }

  userDelete(txn: WriteTxn, r: etcdserverpb.AuthUserDeleteRequest): void {
    if (this.enabled && r.name === ROOT_USER) throw new CorvidError('InvalidAuthMgmt');
    if (this.getUser(r.name) === undefined) throw new CorvidError('UserNotFound');
    this.backend.authUsers.removeSync(nameKey(r.name));
    this.commitRevision(txn);
    this.tokens?.invalidateUser(r.name);
  }

  userChangePassword(txn: WriteTxn, r: corvidpb.AuthUserChangePassword): void {
    const user = this.getUser(r.name);
    if (user === undefined) throw new CorvidError('UserNotFound');
    this.putUser(txn, { ...user, password: Buffer.from(r.hashedPassword, 'utf8') });
    this.tokens?.invalidateUser(r.name);
  }

  userGrantRole(txn: WriteTxn, r: etcdserverpb.AuthUserGrantRoleRequest): void {
    const user = this.getUser(r.user);
    if (user === undefined) throw new CorvidError('UserNotFound');
    if (r.role !== ROOT_ROLE && this.getRole(r.role) === undefined) throw new CorvidError('RoleNotFound');
    if (user.roles.includes(r.role)) return; // etcd: granted already, no change and no new revision
    this.putUser(txn, { ...user, roles: [...user.roles, r.role].sort(compareStrings) });
  }

  userGet(r: etcdserverpb.AuthUserGetRequest): string[] {
    const user = this.getUser(r.name);
    if (user === undefined) throw new CorvidError('UserNotFound');
    return user.roles;
  }

  userRevokeRole(txn: WriteTxn, r: etcdserverpb.AuthUserRevokeRoleRequest): void {
    if (this.enabled && r.name === ROOT_USER && r.role === ROOT_ROLE) throw new CorvidError('InvalidAuthMgmt');
    const user = this.getUser(r.name);
    if (user === undefined) throw new CorvidError('UserNotFound');
    const roles = user.roles.filter((role) => role !== r.role);
    if (roles.length === user.roles.length) throw new CorvidError('RoleNotGranted');
    this.putUser(txn, { ...user, roles });
  }

  roleAdd(txn: WriteTxn, r: etcdserverpb.AuthRoleAddRequest): void {
    if (r.name.length === 0) throw new CorvidError('AuthRoleEmpty');
    if (this.getRole(r.name) !== undefined) throw new CorvidError('RoleAlreadyExist');
    this.putRole(txn, { name: nameKey(r.name), keyPermission: [] });
  }

  roleGet(r: etcdserverpb.AuthRoleGetRequest): authpb.Permission[] {
    const role = this.getRole(r.role);
    if (role === undefined) throw new CorvidError('RoleNotFound');
    return role.keyPermission;
  }

  /** etcd 3.4 also takes the role away from every user that holds it. */
  roleDelete(txn: WriteTxn, r: etcdserverpb.AuthRoleDeleteRequest): void {
    if (this.enabled && r.role === ROOT_ROLE) throw new CorvidError('InvalidAuthMgmt');
    if (this.getRole(r.role) === undefined) throw new CorvidError('RoleNotFound');
    this.backend.authRoles.removeSync(nameKey(r.role));
    for (const name of this.userNames()) {
      const user = this.getUser(name) as authpb.User;
      const roles = user.roles.filter((role) => role !== r.role);
      if (roles.length !== user.roles.length) this.backend.authUsers.put(nameKey(name), Buffer.from(authpb.User.encode({ ...user, roles }).finish()));
    }
    this.commitRevision(txn);
  }

  /** A permission on the same key and range end is replaced; a new one is kept in key order. */
  roleGrantPermission(txn: WriteTxn, r: etcdserverpb.AuthRoleGrantPermissionRequest): void {
    const role = this.getRole(r.name);
    if (role === undefined) throw new CorvidError('RoleNotFound');
    const perm = r.perm ?? { permType: authpb.Permission_Type.READ, key: Buffer.alloc(0), rangeEnd: Buffer.alloc(0) };
    const perms = [...role.keyPermission];
    const at = perms.findIndex((p) => Buffer.compare(p.key, perm.key) >= 0);
    const same = at >= 0 ? perms[at] : undefined;
    if (same !== undefined && same.key.equals(perm.key) && same.rangeEnd.equals(perm.rangeEnd)) {
      perms[at] = { ...same, permType: perm.permType };
    } else {
      perms.push({ permType: perm.permType, key: Buffer.from(perm.key), rangeEnd: Buffer.from(perm.rangeEnd) });
      perms.sort((a, b) => Buffer.compare(a.key, b.key));
    }
    this.putRole(txn, { ...role, keyPermission: perms });
  }

  roleRevokePermission(txn: WriteTxn, r: etcdserverpb.AuthRoleRevokePermissionRequest): void {
    const role = this.getRole(r.role);
    if (role === undefined) throw new CorvidError('RoleNotFound');
    const perms = role.keyPermission.filter((p) => !p.key.equals(r.key) || !p.rangeEnd.equals(r.rangeEnd));
    if (perms.length === role.keyPermission.length) throw new CorvidError('PermissionNotGranted');
    this.putRole(txn, { ...role, keyPermission: perms });
  }

  /** Whether a user of this name exists and holds the root role (for CN-as-user checks and tests). */
  isRoot(name: string): boolean {
    const user = this.getUser(name);
    return user !== undefined && hasRootRole(user);
  }

  // A name LMDB cannot hold as a key is refused like a key that does not fit (docs/auth.md): etcd would store it.
  private putUser(txn: WriteTxn, user: authpb.User): void {
    if (user.name.length > MAX_LMDB_KEY_BYTES) throw new CorvidError('RequestTooLarge');
    this.backend.authUsers.put(Buffer.from(user.name), Buffer.from(authpb.User.encode(user).finish()));
    this.commitRevision(txn);
  }

  private putRole(txn: WriteTxn, role: authpb.Role): void {
    if (role.name.length > MAX_LMDB_KEY_BYTES) throw new CorvidError('RequestTooLarge');
    this.backend.authRoles.put(Buffer.from(role.name), Buffer.from(authpb.Role.encode(role).finish()));
    this.commitRevision(txn);
  }

  private commitRevision(_txn: WriteTxn): void {
    this.rev += 1;
    this.backend.meta.put(META_AUTH_REVISION, encodeMetaInt(this.rev));
    this.permCache.clear();
  }
}

function hasRootRole(user: authpb.User): boolean {
  return user.roles.includes(ROOT_ROLE);
}

/** Go's string order (bytes of UTF-8), which sort.Strings uses. */
function compareStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
