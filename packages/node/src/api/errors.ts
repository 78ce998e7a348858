/**
 * The catalogue: every etcd error Corvid can return, once, as {gRPC status, etcd's exact text}.
 * Clients match on the text (etcd's `rpctypes`), so the strings are copied from etcd 3.4's
 * behaviour verbatim and checked against a real etcd by test/differential/errors.test.ts.
 * This is the only place that builds wire error text.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { CorvidError, isCorvidError, type ErrorCode } from '../errors/index.js';

export interface CatalogueEntry {
  readonly code: status;
  readonly text: string;
  /** How the error's detail joins the text, as grpc-go formats it: `text (detail)` or `text: detail`. */
  readonly withDetail?: 'parens' | 'colon';
}

export const CATALOGUE: Readonly<Record<ErrorCode, CatalogueEntry>> = {
  EmptyKey: { code: status.INVALID_ARGUMENT, text: 'etcdserver: key is not provided' },
  KeyNotFound: { code: status.INVALID_ARGUMENT, text: 'etcdserver: key not found' },
  ValueProvided: { code: status.INVALID_ARGUMENT, text: 'etcdserver: value is provided' },
  LeaseProvided: { code: status.INVALID_ARGUMENT, text: 'etcdserver: lease is provided' },
  TooManyOps: { code: status.INVALID_ARGUMENT, text: 'etcdserver: too many operations in txn request' },
  DuplicateKey: { code: status.INVALID_ARGUMENT, text: 'etcdserver: duplicate key given in txn request' },
  InvalidSortOption: { code: status.INVALID_ARGUMENT, text: 'etcdserver: invalid sort option' },
  RequestTooLarge: { code: status.INVALID_ARGUMENT, text: 'etcdserver: request is too large' },
  // grpc-go's own refusal of a message over the server's receive limit (--max-request-bytes + 512 KiB).
  GrpcMessageTooLarge: { code: status.RESOURCE_EXHAUSTED, text: 'grpc: received message larger than max', withDetail: 'parens' },
  // grpc-go's refusal to send a response over the server's send limit (etcd: math.MaxInt32 bytes).
  GrpcSendTooLarge: { code: status.RESOURCE_EXHAUSTED, text: 'grpc: trying to send message larger than max', withDetail: 'parens' },
  // grpc-go's answer to a request that does not decode; the detail is protobuf-go's reason.
  GrpcUnmarshal: { code: status.INTERNAL, text: 'grpc: error unmarshalling request', withDetail: 'colon' },
  // grpc-go's health server, which etcd runs, for a service name it does not know.
  HealthUnknownService: { code: status.NOT_FOUND, text: 'unknown service' },
  Compacted: { code: status.OUT_OF_RANGE, text: 'etcdserver: mvcc: required revision has been compacted' },
  FutureRev: { code: status.OUT_OF_RANGE, text: 'etcdserver: mvcc: required revision is a future revision' },
  NoSpace: { code: status.RESOURCE_EXHAUSTED, text: 'etcdserver: mvcc: database space exceeded' },
  LeaseNotFound: { code: status.NOT_FOUND, text: 'etcdserver: requested lease not found' },
  LeaseExist: { code: status.FAILED_PRECONDITION, text: 'etcdserver: lease already exists' },
  LeaseTTLTooLarge: { code: status.OUT_OF_RANGE, text: 'etcdserver: too large lease TTL' },
  NoLeader: { code: status.UNAVAILABLE, text: 'etcdserver: no leader' },
  NotLeader: { code: status.FAILED_PRECONDITION, text: 'etcdserver: not leader' },
  LeaderChanged: { code: status.UNAVAILABLE, text: 'etcdserver: leader changed' },
  NotCapable: { code: status.UNAVAILABLE, text: 'etcdserver: not capable' },
  Stopped: { code: status.UNAVAILABLE, text: 'etcdserver: server stopped' },
  Timeout: { code: status.UNAVAILABLE, text: 'etcdserver: request timed out' },
  TimeoutDueToLeaderFail: { code: status.UNAVAILABLE, text: 'etcdserver: request timed out, possibly due to previous leader failure' },
  TimeoutDueToConnectionLost: { code: status.UNAVAILABLE, text: 'etcdserver: request timed out, possibly due to connection lost' },
  Unhealthy: { code: status.UNAVAILABLE, text: 'etcdserver: unhealthy cluster' },
  TooManyRequests: { code: status.RESOURCE_EXHAUSTED, text: 'etcdserver: too many requests' },
  Corrupt: { code: status.DATA_LOSS, text: 'etcdserver: corrupt cluster' },
  MemberExist: { code: status.FAILED_PRECONDITION, text: 'etcdserver: member ID already exist' },
  PeerURLExist: { code: status.FAILED_PRECONDITION, text: 'etcdserver: Peer URLs already exists' },
  MemberNotEnoughStarted: { code: status.FAILED_PRECONDITION, text: 'etcdserver: re-configuration failed due to not enough started members' },
  MemberBadURLs: { code: status.INVALID_ARGUMENT, text: 'etcdserver: given member URLs are invalid' },
  MemberNotFound: { code: status.NOT_FOUND, text: 'etcdserver: member not found' },
  MemberNotLearner: { code: status.FAILED_PRECONDITION, text: 'etcdserver: can only promote a learner member' },
  LearnerNotReady: { code: status.FAILED_PRECONDITION, text: 'etcdserver: can only promote a learner member which is in sync with leader' },
  TooManyLearners: { code: status.FAILED_PRECONDITION, text: 'etcdserver: too many learner members in cluster' },
  BadLeaderTransferee: { code: status.FAILED_PRECONDITION, text: 'etcdserver: bad leader transferee' },
  NotSupportedForLearner: { code: status.UNAVAILABLE, text: 'etcdserver: rpc not supported for learner' },
  TimeoutLeaderTransfer: { code: status.UNAVAILABLE, text: 'etcdserver: request timed out, leader transfer took too long' },
  // auth (etcd 3.4's rpctypes.ErrGRPC*, checked by test/differential/auth-errors.test.ts)
  AuthUserEmpty: { code: status.INVALID_ARGUMENT, text: 'etcdserver: user name is empty' },
  AuthRoleEmpty: { code: status.INVALID_ARGUMENT, text: 'etcdserver: role name is empty' },
  AuthFailed: { code: status.INVALID_ARGUMENT, text: 'etcdserver: authentication failed, invalid user ID or password' },
  // etcd 3.4 has no gRPC error for auth.ErrNoPasswordUser: it reaches the client as Unknown with the auth package's text.
  NoPasswordUser: { code: status.UNKNOWN, text: 'auth: authentication failed, password was given for no password user' },
  PermissionDenied: { code: status.PERMISSION_DENIED, text: 'etcdserver: permission denied' },
  InvalidAuthToken: { code: status.UNAUTHENTICATED, text: 'etcdserver: invalid auth token' },
  RootUserNotExist: { code: status.FAILED_PRECONDITION, text: 'etcdserver: root user does not exist' },
  RootRoleNotExist: { code: status.FAILED_PRECONDITION, text: 'etcdserver: root user does not have root role' },
  UserAlreadyExist: { code: status.FAILED_PRECONDITION, text: 'etcdserver: user name already exists' },
  RoleAlreadyExist: { code: status.FAILED_PRECONDITION, text: 'etcdserver: role name already exists' },
  UserNotFound: { code: status.FAILED_PRECONDITION, text: 'etcdserver: user name not found' },
  RoleNotFound: { code: status.FAILED_PRECONDITION, text: 'etcdserver: role name not found' },
  RoleNotGranted: { code: status.FAILED_PRECONDITION, text: 'etcdserver: role is not granted to the user' },
  PermissionNotGranted: { code: status.FAILED_PRECONDITION, text: 'etcdserver: permission is not granted to the role' },
  AuthNotEnabled: { code: status.FAILED_PRECONDITION, text: 'etcdserver: authentication is not enabled' },
  InvalidAuthMgmt: { code: status.INVALID_ARGUMENT, text: 'etcdserver: invalid auth management' },
  AuthOldRevision: { code: status.INVALID_ARGUMENT, text: 'etcdserver: revision of auth store is old' },
  // etcd 3.4's maintenance server returns the auth package's errors untranslated: Unknown, with their own texts.
  RawAuthUserEmpty: { code: status.UNKNOWN, text: 'auth: user name is empty' },
  RawAuthUserNotFound: { code: status.UNKNOWN, text: 'auth: user name not found' },
  RawAuthPermissionDenied: { code: status.UNKNOWN, text: 'auth: permission denied' },
  RawAuthInvalidToken: { code: status.UNKNOWN, text: 'auth: invalid auth token' },
};

/** What an unexpected failure looks like on the wire; the caller logs and counts it. */
export const UNKNOWN_ERROR_TEXT = 'etcdserver: unknown error';

/**
 * Maps anything thrown while serving a request to a gRPC ServiceError. Known operating errors get
 * their catalogue entry; anything else becomes UNKNOWN (and `known` is false so it is logged).
 */
export function toServiceError(err: unknown): { error: Partial<ServiceError>; known: boolean } {
  if (isCorvidError(err)) {
    const entry = CATALOGUE[err.code];
    let details = entry.text;
    if (entry.withDetail === 'parens' && err.detail !== undefined) details = `${entry.text} (${err.detail})`;
    if (entry.withDetail === 'colon' && err.detail !== undefined) details = `${entry.text}: ${err.detail}`;
    return { error: { code: entry.code, details, metadata: new Metadata() }, known: true };
  }
  return { error: { code: status.UNKNOWN, details: UNKNOWN_ERROR_TEXT, metadata: new Metadata() }, known: false };
}

/**
 * The CorvidError a peer's answer stands for (a call forwarded to the leader): found by its exact
 * text, so the caller answers its own client as the leader would have; anything else is Unknown.
 */
export function fromServiceError(err: Partial<ServiceError>): CorvidError {
  const text = err.details ?? '';
  for (const [code, entry] of Object.entries(CATALOGUE) as Array<[ErrorCode, CatalogueEntry]>) {
    if (entry.text === text) return new CorvidError(code);
  }
  if (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED) return new CorvidError('Timeout', { detail: text });
  return new CorvidError('Corrupt', { detail: `unexpected answer from a peer: ${text}` });
}
