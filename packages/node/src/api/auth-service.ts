/**
 * etcdserverpb.Auth as etcd 3.4's AuthServer and EtcdServer's auth methods: every call goes
 * through the log with the caller's user (the applier checks the root role and changes the auth
 * store, apply/apply-auth.ts), so all members answer alike. Two things happen here first:
 * - passwords are hashed (auth/password.ts) on this member, and only the hash is proposed;
 * - Authenticate checks the password on this member after a ReadIndex barrier, then proposes the
 *   token (simple: its random prefix, completed by each member's apply with the log index; jwt:
 *   the signed token). If the auth store changed between the check and the apply, it is retried,
 *   as etcd's Authenticate loop does.
 */
import type { etcdserverpb } from '@corvid/proto';
import { hashPassword, type AuthGate, type AuthInfo } from '../auth/index.js';
import type { ProposalBody, Proposer } from '../server/proposer.js';
import { identifyCall, type CallLike } from './auth-caller.js';
import { withHeader, type MemberIdentity } from './header.js';
import { unary, type UnaryContext } from './unary.js';

export interface AuthServiceDeps {
  readonly identity: MemberIdentity;
  readonly proposer: Proposer;
  readonly gate: AuthGate;
  /** Resolves when this member has applied everything committed before the call (ReadIndex). */
  readonly readBarrier: () => Promise<void>;
  /** Wall-clock milliseconds, for a JWT's expiry. */
  readonly nowMs: () => number;
  /** --bcrypt-cost, mapped onto scrypt's work factor by auth/password.ts. */
  readonly bcryptCost?: number;
}

const SERVICE = 'etcdserverpb.Auth';
/** Authenticate is proposed again at most this many times if the auth store keeps changing under it. */
const MAX_AUTHENTICATE_ATTEMPTS = 5;

type WithHeader = { header: etcdserverpb.ResponseHeader | undefined };

export function createAuthService(ctx: UnaryContext, deps: AuthServiceDeps): etcdserverpb.AuthServer {
  const { identity, proposer, gate } = deps;
  const caller = (call: CallLike): AuthInfo | undefined => identifyCall(gate, call);
  /** One auth management call: through the log, as the caller. */
  const manage = <Req, Res extends WithHeader>(method: string, body: (request: Req) => ProposalBody) =>
    unary<Req, Res>(ctx, SERVICE, method, async (request, call) => {
      const who = caller(call);
      return withHeader(identity, (await proposer.propose(body(request), who)) as Res);
    });
  return {
    authEnable: manage('AuthEnable', (r: etcdserverpb.AuthEnableRequest) => ({ $case: 'authEnable', value: r })),
    authDisable: manage('AuthDisable', (r: etcdserverpb.AuthDisableRequest) => ({ $case: 'authDisable', value: r })),
    authenticate: unary(ctx, SERVICE, 'Authenticate', async (request: etcdserverpb.AuthenticateRequest) => {
      await deps.readBarrier();
      let response: etcdserverpb.AuthenticateResponse | undefined;
      for (let attempt = 0; attempt < MAX_AUTHENTICATE_ATTEMPTS; attempt++) {
        const checkedAt = await gate.checkPassword(request.name, request.password);
        const prepared = gate.tokens.prepare(request.name, checkedAt, deps.nowMs());
        const body: ProposalBody = { $case: 'authenticate', value: { name: request.name, ...prepared } };
        response = (await proposer.propose(body)) as etcdserverpb.AuthenticateResponse;
        if (checkedAt === gate.revision()) break;
      }
      return withHeader(identity, response as etcdserverpb.AuthenticateResponse);
    }),
    userAdd: unary(ctx, SERVICE, 'UserAdd', async (request: etcdserverpb.AuthUserAddRequest, call) => {
      const who = caller(call);
      // Hashing is slow on purpose: refuse a caller who may not add users before doing it.
      gate.checkAdmin(who);
      // A user without options has a password, as one with options that do not say otherwise.
      const hasOptions = request.options !== undefined;
      const hashed = request.options?.noPassword === true ? '' : await hashPassword(request.password, deps.bcryptCost);
      const body: ProposalBody = { $case: 'authUserAdd', value: { name: request.name, hashedPassword: hashed, options: request.options, hasOptions } };
      return withHeader(identity, (await proposer.propose(body, who)) as etcdserverpb.AuthUserAddResponse);
    }),
    userChangePassword: unary(ctx, SERVICE, 'UserChangePassword', async (request: etcdserverpb.AuthUserChangePasswordRequest, call) => {
      const who = caller(call);
      gate.checkAdmin(who);
      const body: ProposalBody = { $case: 'authUserChangePassword', value: { name: request.name, hashedPassword: await hashPassword(request.password, deps.bcryptCost) } };
      return withHeader(identity, (await proposer.propose(body, who)) as etcdserverpb.AuthUserChangePasswordResponse);
    }),
    userGet: manage('UserGet', (r: etcdserverpb.AuthUserGetRequest) => ({ $case: 'authUserGet', value: r })),
    userList: manage('UserList', (r: etcdserverpb.AuthUserListRequest) => ({ $case: 'authUserList', value: r })),
    userDelete: manage('UserDelete', (r: etcdserverpb.AuthUserDeleteRequest) => ({ $case: 'authUserDelete', value: r })),
    userGrantRole: manage('UserGrantRole', (r: etcdserverpb.AuthUserGrantRoleRequest) => ({ $case: 'authUserGrantRole', value: r })),
    userRevokeRole: manage('UserRevokeRole', (r: etcdserverpb.AuthUserRevokeRoleRequest) => ({ $case: 'authUserRevokeRole', value: r })),
    roleAdd: manage('RoleAdd', (r: etcdserverpb.AuthRoleAddRequest) => ({ $case: 'authRoleAdd', value: r })),
    roleGet: manage('RoleGet', (r: etcdserverpb.AuthRoleGetRequest) => ({ $case: 'authRoleGet', value: r })),
    roleList: manage('RoleList', (r: etcdserverpb.AuthRoleListRequest) => ({ $case: 'authRoleList', value: r })),
    roleDelete: manage('RoleDelete', (r: etcdserverpb.AuthRoleDeleteRequest) => ({ $case: 'authRoleDelete', value: r })),
    roleGrantPermission: manage('RoleGrantPermission', (r: etcdserverpb.AuthRoleGrantPermissionRequest) => ({ $case: 'authRoleGrantPermission', value: r })),
    roleRevokePermission: manage('RoleRevokePermission', (r: etcdserverpb.AuthRoleRevokePermissionRequest) => ({ $case: 'authRoleRevokePermission', value: r })),
  };
}
