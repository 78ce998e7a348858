/**
 * Auth at the API's edge: the token of a call, from its metadata as etcd 3.4 reads it (`token`, what
 * clientv3 sends, else `authorization`, the JSON gateway's header); the maintenance server's checks,
 * whose refusals etcd returns untranslated (Unknown, with the auth package's own text); and a Go
 * status error's text, which etcd puts in a refused watch's cancel_reason.
 */
import { status, type Metadata } from '@grpc/grpc-js';
import type { AuthGate, AuthInfo } from '../auth/index.js';
import { CorvidError, isCorvidError, type ErrorCode } from '../errors/index.js';
import { PEER_COMMON_NAME } from './client-tls.js';
import { toServiceError } from './errors.js';

/** What a handler has of its call: the metadata, and grpc-js's call object (for the connection). */
export interface CallLike {
  readonly metadata?: Metadata;
}

export function tokenOf(metadata: Metadata | undefined): string | undefined {
  if (metadata === undefined) return undefined;
  const value = metadata.get('token')[0] ?? metadata.get('authorization')[0];
  return value === undefined ? undefined : typeof value === 'string' ? value : value.toString('utf8');
}

/**
 * The verified client certificate's CN of the connection a call came on (client-tls.ts marks it),
 * reached through grpc-js's call, stream and HTTP/2 session (whose socket forwards property reads to
 * the connection, wrapped or not); undefined without TLS client authentication.
 */
export function peerCommonName(call: CallLike): string | undefined {
  let layer: unknown = call;
  for (let depth = 0; depth < 4 && layer !== undefined && layer !== null; depth++) {
    const socket = (layer as { stream?: { session?: { socket?: unknown } } }).stream?.session?.socket as Record<symbol, unknown> | undefined;
    const cn = socket?.[PEER_COMMON_NAME];
    if (typeof cn === 'string') return cn;
    const next = layer as { call?: unknown; nextCall?: unknown };
    layer = next.call ?? next.nextCall;
  }
  return undefined;
}

/** etcd's AuthInfoFromCtx: the token's user, else the client certificate's CN, else no user. */
export function identifyCall(gate: AuthGate | undefined, call: CallLike): AuthInfo | undefined {
  return gate?.identify(tokenOf(call.metadata), peerCommonName(call));
}

const RAW_AUTH_ERRORS: Partial<Record<ErrorCode, ErrorCode>> = {
  AuthUserEmpty: 'RawAuthUserEmpty',
  UserNotFound: 'RawAuthUserNotFound',
  PermissionDenied: 'RawAuthPermissionDenied',
  InvalidAuthToken: 'RawAuthInvalidToken',
};

/**
 * etcd 3.4's authMaintenanceServer: Snapshot, Hash, HashKV and Defragment need the root role
 * (`admin`); Alarm only needs a valid token or none (it goes through the log as the caller).
 */
export function checkMaintenanceCaller(gate: AuthGate | undefined, call: CallLike, admin: boolean): void {
  if (gate === undefined) return;
  try {
    const caller = identifyCall(gate, call);
    if (admin) gate.checkAdmin(caller);
  } catch (err) {
    const raw = isCorvidError(err) ? RAW_AUTH_ERRORS[err.code] : undefined;
    if (raw !== undefined) throw new CorvidError(raw, { cause: err });
    throw err;
  }
}

/** grpc-go's codes.Code.String() for the codes auth refusals carry. */
const GO_CODE_NAMES: Partial<Record<status, string>> = {
  [status.INVALID_ARGUMENT]: 'InvalidArgument',
  [status.PERMISSION_DENIED]: 'PermissionDenied',
  [status.UNAUTHENTICATED]: 'Unauthenticated',
  [status.FAILED_PRECONDITION]: 'FailedPrecondition',
};

/** `rpc error: code = <Code> desc = <text>`: what Go's status error prints (rpctypes.ErrGRPC*.Error()). */
export function goErrorText(err: CorvidError): string {
  const { error } = toServiceError(err);
  const code = error.code ?? status.UNKNOWN;
  return `rpc error: code = ${GO_CODE_NAMES[code] ?? 'Unknown'} desc = ${error.details ?? ''}`;
}
