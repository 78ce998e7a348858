/**
 * Auth at the API's edge: the token of a call, from its metadata as etcd 3.4 reads it (`token`, what
 * clientv3 sends, else `authorization`, the JSON gateway's header); the maintenance server's checks,
 * whose refusals etcd returns untranslated (Unknown, with the auth package's own text); and a Go
 * status error's text, which etcd puts in a refused watch's cancel_reason.
 */
import { status, type Metadata } from '@grpc/grpc-js';
import type { AuthGate } from '../auth/index.js';
import { CorvidError, isCorvidError, type ErrorCode } from '../errors/index.js';
import { toServiceError } from './errors.js';

export function tokenOf(metadata: Metadata | undefined): string | undefined {
  if (metadata === undefined) return undefined;
  const value = metadata.get('token')[0] ?? metadata.get('authorization')[0];
  return value === undefined ? undefined : typeof value === 'string' ? value : value.toString('utf8');
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
export function checkMaintenanceCaller(gate: AuthGate | undefined, metadata: Metadata | undefined, admin: boolean): void {
  if (gate === undefined) return;
  try {
    const caller = gate.identify(tokenOf(metadata));
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
