/**
 * Operating errors every module of a member may raise, named by code. The wire form (gRPC status
 * and etcd's exact text) lives only in `api/errors.ts`, the catalogue: modules never build it.
 * Broken invariants are not CorvidErrors: they go through `assert()` and stop the member.
 */
export type ErrorCode =
  // request validation (api)
  | 'EmptyKey'
  | 'KeyNotFound'
  | 'ValueProvided'
  | 'LeaseProvided'
  | 'TooManyOps'
  | 'DuplicateKey'
  | 'InvalidSortOption'
  | 'RequestTooLarge'
  | 'GrpcMessageTooLarge'
  | 'GrpcSendTooLarge'
  | 'GrpcUnmarshal'
  | 'HealthUnknownService'
  // mvcc
  | 'Compacted'
  | 'FutureRev'
  | 'NoSpace'
  // lease
  | 'LeaseNotFound'
  | 'LeaseExist'
  | 'LeaseTTLTooLarge'
  // server
  | 'NoLeader'
  | 'NotLeader'
  | 'LeaderChanged'
  | 'Stopped'
  | 'Timeout'
  | 'TooManyRequests'
  | 'TimeoutDueToLeaderFail'
  | 'TimeoutDueToConnectionLost'
  | 'Unhealthy'
  | 'NotSupportedForLearner'
  | 'NotCapable'
  | 'Corrupt'
  // cluster membership
  | 'MemberExist'
  | 'PeerURLExist'
  | 'MemberNotEnoughStarted'
  | 'MemberBadURLs'
  | 'MemberNotFound'
  | 'MemberNotLearner'
  | 'LearnerNotReady'
  | 'TooManyLearners'
  // leadership transfer
  | 'BadLeaderTransferee'
  | 'TimeoutLeaderTransfer'
  // auth
  | 'AuthUserEmpty'
  | 'AuthRoleEmpty'
  | 'AuthFailed'
  | 'NoPasswordUser'
  | 'PermissionDenied'
  | 'InvalidAuthToken'
  | 'RootUserNotExist'
  | 'RootRoleNotExist'
  | 'UserAlreadyExist'
  | 'RoleAlreadyExist'
  | 'UserNotFound'
  | 'RoleNotFound'
  | 'RoleNotGranted'
  | 'PermissionNotGranted'
  | 'AuthNotEnabled'
  | 'InvalidAuthMgmt'
  | 'AuthOldRevision'
  | 'RawAuthUserEmpty'
  | 'RawAuthUserNotFound'
  | 'RawAuthPermissionDenied'
  | 'RawAuthInvalidToken';

export class CorvidError extends Error {
  readonly code: ErrorCode;
  /** Values the catalogue appends to the wire text for codes that carry them (sizes, limits). */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, options?: { cause?: unknown; detail?: string }) {
    super(options?.detail ? `${code}: ${options.detail}` : code, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CorvidError';
    this.code = code;
    this.detail = options?.detail;
  }
}

export function isCorvidError(err: unknown, code?: ErrorCode): err is CorvidError {
  return err instanceof CorvidError && (code === undefined || err.code === code);
}

/** Thrown for broken invariants. Never caught: the member logs it and exits. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
