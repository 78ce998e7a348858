/**
 * etcd's JSON gateway (grpc-gateway v1 as etcd 3.4 runs it) on the client URLs: `POST /v3/<path>`
 * (and the deprecated `/v3beta/`) with a JSON body, answered by the same gRPC handlers a gRPC
 * client reaches, so validation, errors and metrics are shared. JSON as etcd writes it: .proto
 * field names (`cluster_id`, `dbSize`), int64 as strings, bytes as base64, enums by name, default
 * values left out; requests accept .proto or lowerCamelCase names. Errors become
 * `{"error","message","code"}` with grpc-gateway's HTTP status for the gRPC code.
 * Streaming methods (Watch, LeaseKeepAlive, Snapshot) are not served here yet.
 */
import type http from 'node:http';
import { status, type ServiceError } from '@grpc/grpc-js';
import { etcdserverpb, PROTO_MESSAGE_FIELDS } from '@corvid/proto';

interface JsonCodec {
  fromJSON(object: unknown): unknown;
  toJSON(message: never): unknown;
}

interface Route {
  /** The gRPC method path this HTTP path stands for, e.g. /etcdserverpb.KV/Range. */
  readonly grpcPath: string;
  readonly request: JsonCodec;
  readonly response: JsonCodec;
  /** Message names, to find .proto field names and base64 fields. */
  readonly requestType: string;
  readonly responseType: string;
}

/** Calls the unary gRPC handler registered for `grpcPath`; rejects with a ServiceError. */
/** `headers`: what the HTTP request carries that the service reads (the `authorization` token). */
export type UnaryInvoker = (grpcPath: string, request: unknown, headers?: Readonly<Record<string, string>>) => Promise<unknown>;

const pb = etcdserverpb;

/** Message name stems that are not the method name (`Compact` takes a CompactionRequest). */
const MESSAGE_STEMS: Readonly<Record<string, string>> = {
  Compact: 'Compaction',
  UserAdd: 'AuthUserAdd',
  UserGet: 'AuthUserGet',
  UserList: 'AuthUserList',
  UserDelete: 'AuthUserDelete',
  UserChangePassword: 'AuthUserChangePassword',
  UserGrantRole: 'AuthUserGrantRole',
  UserRevokeRole: 'AuthUserRevokeRole',
  RoleAdd: 'AuthRoleAdd',
  RoleGet: 'AuthRoleGet',
  RoleList: 'AuthRoleList',
  RoleDelete: 'AuthRoleDelete',
  RoleGrantPermission: 'AuthRoleGrantPermission',
  RoleRevokePermission: 'AuthRoleRevokePermission',
};

const r = (grpcPath: string, request: JsonCodec, response: JsonCodec): Route => {
  const method = /\/(\w+)$/.exec(grpcPath)?.[1] ?? '';
  const stem = MESSAGE_STEMS[method] ?? method;
  return { grpcPath, request, response, requestType: `${stem}Request`, responseType: `${stem}Response` };
};

/** The HTTP bindings of etcd 3.4's rpc.proto (google.api.http options), unary methods only. */
const ROUTES: ReadonlyMap<string, Route> = new Map([
  ['kv/range', r('/etcdserverpb.KV/Range', pb.RangeRequest, pb.RangeResponse)],
  ['kv/put', r('/etcdserverpb.KV/Put', pb.PutRequest, pb.PutResponse)],
  ['kv/deleterange', r('/etcdserverpb.KV/DeleteRange', pb.DeleteRangeRequest, pb.DeleteRangeResponse)],
  ['kv/txn', r('/etcdserverpb.KV/Txn', pb.TxnRequest, pb.TxnResponse)],
  ['kv/compaction', r('/etcdserverpb.KV/Compact', pb.CompactionRequest, pb.CompactionResponse)],
  ['lease/grant', r('/etcdserverpb.Lease/LeaseGrant', pb.LeaseGrantRequest, pb.LeaseGrantResponse)],
  ['lease/revoke', r('/etcdserverpb.Lease/LeaseRevoke', pb.LeaseRevokeRequest, pb.LeaseRevokeResponse)],
  ['kv/lease/revoke', r('/etcdserverpb.Lease/LeaseRevoke', pb.LeaseRevokeRequest, pb.LeaseRevokeResponse)],
  ['lease/timetolive', r('/etcdserverpb.Lease/LeaseTimeToLive', pb.LeaseTimeToLiveRequest, pb.LeaseTimeToLiveResponse)],
  ['kv/lease/timetolive', r('/etcdserverpb.Lease/LeaseTimeToLive', pb.LeaseTimeToLiveRequest, pb.LeaseTimeToLiveResponse)],
  ['lease/leases', r('/etcdserverpb.Lease/LeaseLeases', pb.LeaseLeasesRequest, pb.LeaseLeasesResponse)],
  ['kv/lease/leases', r('/etcdserverpb.Lease/LeaseLeases', pb.LeaseLeasesRequest, pb.LeaseLeasesResponse)],
  ['cluster/member/add', r('/etcdserverpb.Cluster/MemberAdd', pb.MemberAddRequest, pb.MemberAddResponse)],
  ['cluster/member/remove', r('/etcdserverpb.Cluster/MemberRemove', pb.MemberRemoveRequest, pb.MemberRemoveResponse)],
  ['cluster/member/update', r('/etcdserverpb.Cluster/MemberUpdate', pb.MemberUpdateRequest, pb.MemberUpdateResponse)],
  ['cluster/member/list', r('/etcdserverpb.Cluster/MemberList', pb.MemberListRequest, pb.MemberListResponse)],
  ['cluster/member/promote', r('/etcdserverpb.Cluster/MemberPromote', pb.MemberPromoteRequest, pb.MemberPromoteResponse)],
  ['maintenance/alarm', r('/etcdserverpb.Maintenance/Alarm', pb.AlarmRequest, pb.AlarmResponse)],
  ['maintenance/status', r('/etcdserverpb.Maintenance/Status', pb.StatusRequest, pb.StatusResponse)],
  ['maintenance/defragment', r('/etcdserverpb.Maintenance/Defragment', pb.DefragmentRequest, pb.DefragmentResponse)],
  // etcd binds Hash and HashKV to the same path; grpc-gateway serves the first registered, Hash.
  ['maintenance/hash', r('/etcdserverpb.Maintenance/Hash', pb.HashRequest, pb.HashResponse)],
  ['maintenance/transfer-leadership', r('/etcdserverpb.Maintenance/MoveLeader', pb.MoveLeaderRequest, pb.MoveLeaderResponse)],
  ['auth/enable', r('/etcdserverpb.Auth/AuthEnable', pb.AuthEnableRequest, pb.AuthEnableResponse)],
  ['auth/disable', r('/etcdserverpb.Auth/AuthDisable', pb.AuthDisableRequest, pb.AuthDisableResponse)],
  ['auth/authenticate', r('/etcdserverpb.Auth/Authenticate', pb.AuthenticateRequest, pb.AuthenticateResponse)],
  ['auth/user/add', r('/etcdserverpb.Auth/UserAdd', pb.AuthUserAddRequest, pb.AuthUserAddResponse)],
  ['auth/user/get', r('/etcdserverpb.Auth/UserGet', pb.AuthUserGetRequest, pb.AuthUserGetResponse)],
  ['auth/user/list', r('/etcdserverpb.Auth/UserList', pb.AuthUserListRequest, pb.AuthUserListResponse)],
  ['auth/user/delete', r('/etcdserverpb.Auth/UserDelete', pb.AuthUserDeleteRequest, pb.AuthUserDeleteResponse)],
  ['auth/user/changepw', r('/etcdserverpb.Auth/UserChangePassword', pb.AuthUserChangePasswordRequest, pb.AuthUserChangePasswordResponse)],
  ['auth/user/grant', r('/etcdserverpb.Auth/UserGrantRole', pb.AuthUserGrantRoleRequest, pb.AuthUserGrantRoleResponse)],
  ['auth/user/revoke', r('/etcdserverpb.Auth/UserRevokeRole', pb.AuthUserRevokeRoleRequest, pb.AuthUserRevokeRoleResponse)],
  ['auth/role/add', r('/etcdserverpb.Auth/RoleAdd', pb.AuthRoleAddRequest, pb.AuthRoleAddResponse)],
  ['auth/role/get', r('/etcdserverpb.Auth/RoleGet', pb.AuthRoleGetRequest, pb.AuthRoleGetResponse)],
  ['auth/role/list', r('/etcdserverpb.Auth/RoleList', pb.AuthRoleListRequest, pb.AuthRoleListResponse)],
  ['auth/role/delete', r('/etcdserverpb.Auth/RoleDelete', pb.AuthRoleDeleteRequest, pb.AuthRoleDeleteResponse)],
  ['auth/role/grant', r('/etcdserverpb.Auth/RoleGrantPermission', pb.AuthRoleGrantPermissionRequest, pb.AuthRoleGrantPermissionResponse)],
  ['auth/role/revoke', r('/etcdserverpb.Auth/RoleRevokePermission', pb.AuthRoleRevokePermissionRequest, pb.AuthRoleRevokePermissionResponse)],
]);

const GATEWAY_PREFIX = /^\/(v3|v3beta)\/(.+)$/;

/** grpc-gateway v1's HTTPStatusFromCode. */
const HTTP_STATUS: Readonly<Record<number, number>> = {
  [status.OK]: 200,
  [status.CANCELLED]: 408,
  [status.UNKNOWN]: 500,
  [status.INVALID_ARGUMENT]: 400,
  [status.DEADLINE_EXCEEDED]: 504,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.PERMISSION_DENIED]: 403,
  [status.UNAUTHENTICATED]: 401,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.FAILED_PRECONDITION]: 400,
  [status.ABORTED]: 409,
  [status.OUT_OF_RANGE]: 400,
  [status.UNIMPLEMENTED]: 501,
  [status.INTERNAL]: 500,
  [status.UNAVAILABLE]: 503,
  [status.DATA_LOSS]: 500,
};

/** True if `path` belongs to the gateway (whether or not a route exists for it). */
export function isGatewayPath(path: string): boolean {
  return GATEWAY_PREFIX.test(path);
}

export interface GatewayDeps {
  readonly invoke: UnaryInvoker;
  /** The largest body read; a longer one is refused before it is buffered whole. */
  readonly maxBodyBytes: number;
}

export async function serveGateway(deps: GatewayDeps, req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
  const route = ROUTES.get(GATEWAY_PREFIX.exec(path)?.[2] ?? '');
  if (route === undefined) return sendText(res, 404, 'Not Found');
  if (req.method !== 'POST') return sendText(res, 405, 'Method Not Allowed');
  const body = await readBody(req, deps.maxBodyBytes);
  if (body === null) {
    return sendError(res, status.RESOURCE_EXHAUSTED, `grpc: received message larger than max (${req.headers['content-length'] ?? 'more'} vs. ${deps.maxBodyBytes})`);
  }
  let request: unknown;
  try {
    const json: unknown = body.trim() === '' ? {} : JSON.parse(body);
    const badBase64 = firstBadBase64(json, route.requestType);
    if (badBase64 !== null) return sendError(res, status.INVALID_ARGUMENT, `illegal base64 data at input byte ${badBase64}`);
    request = route.request.fromJSON(json);
  } catch (err) {
    return sendError(res, status.INVALID_ARGUMENT, goJsonError(body, err));
  }
  let response: unknown;
  try {
    const token = req.headers.authorization;
    response = await deps.invoke(route.grpcPath, request, token === undefined ? {} : { authorization: token });
  } catch (err) {
    const { code = status.UNKNOWN, details = String(err) } = err as Partial<ServiceError>;
    return sendError(res, code, details);
  }
  sendJson(res, 200, toProtoNames(route.response.toJSON(response as never), route.responseType));
}

/** Renames the keys of `value`, a toJSON result of message `type`, to .proto names, recursively. */
function toProtoNames(value: unknown, type: string | undefined): unknown {
  if (Array.isArray(value)) return value.map((item) => toProtoNames(item, type));
  if (value === null || typeof value !== 'object' || type === undefined || type === 'bytes') return value;
  const fields = PROTO_MESSAGE_FIELDS[type] ?? {};
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const [original, nested] = fields[key] ?? [key];
    out[original] = toProtoNames(inner, nested);
  }
  return out;
}

/** The .proto field of `key` (a JSON or a .proto name) in message `type`. */
function fieldOf(type: string, key: string): readonly [string, string?] | undefined {
  const fields = PROTO_MESSAGE_FIELDS[type] ?? {};
  return fields[key] ?? Object.values(fields).find(([original]) => original === key);
}

/**
 * Where Go's base64.StdEncoding (which decodes etcd's JSON bytes fields) first fails in the
 * request's bytes fields, walking nested messages; null if they all decode.
 */
function firstBadBase64(value: unknown, type: string): number | null {
  if (Array.isArray(value)) {
    for (const item of value) {
      const bad = firstBadBase64(item, type);
      if (bad !== null) return bad;
    }
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  for (const [key, inner] of Object.entries(value)) {
    const nested = fieldOf(type, key)?.[1];
    if (nested === undefined) continue;
    const bad = nested === 'bytes' ? (typeof inner === 'string' ? goBase64ErrorIndex(inner) : null) : firstBadBase64(inner, nested);
    if (bad !== null) return bad;
  }
  return null;
}

const BASE64_ALPHABET = /^[A-Za-z0-9+/]$/;
const isNewline = (c: string | undefined): boolean => c === '\n' || c === '\r';

/** The index Go's base64.StdEncoding.Decode reports as corrupt (padding required, newlines skipped), or null. */
export function goBase64ErrorIndex(s: string): number | null {
  let si = 0;
  while (si < s.length) {
    let j = 0;
    while (j < 4) {
      if (si === s.length) return j === 0 ? null : si - j;
      const c = s[si] as string;
      si++;
      if (isNewline(c)) continue;
      if (c === '=') return paddingError(s, si, j);
      if (!BASE64_ALPHABET.test(c)) return si - 1;
      j++;
    }
  }
  return null;
}

/** After a '=' at si - 1 with j characters of the quantum read: Go's padding rules. */
function paddingError(s: string, si: number, j: number): number | null {
  if (j < 2) return si - 1;
  let at = si;
  if (j === 2) {
    while (at < s.length && isNewline(s[at])) at++;
    if (at === s.length) return s.length;
    if (s[at] !== '=') return at - 1;
    at++;
  }
  while (at < s.length && isNewline(s[at])) at++;
  return at < s.length ? at : null;
}

/**
 * Go's encoding/json wording for the common malformed bodies (etcd answers with it verbatim):
 * a value that cannot start JSON, a number that is not one, a body cut short.
 */
function goJsonError(body: string, err: unknown): string {
  const first = body.trimStart()[0];
  if (first === undefined) return 'unexpected EOF';
  if (!'{["-0123456789tfn'.includes(first)) return `invalid character '${first}' looking for beginning of value`;
  if (err instanceof SyntaxError && /Cannot convert (.)/.test(err.message)) {
    return `invalid character '${/Cannot convert (.)/.exec(err.message)?.[1] ?? ''}' looking for beginning of value`;
  }
  if (err instanceof SyntaxError && /Unexpected end/.test(err.message)) return 'unexpected EOF';
  return err instanceof Error ? err.message : String(err);
}

/** The body as text, or null (and the rest discarded) once it passes `maxBytes`. */
function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= maxBytes) chunks.push(chunk);
    });
    req.once('end', () => resolve(length > maxBytes ? null : Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function sendJson(res: http.ServerResponse, statusCode: number, body: unknown): void {
  res.writeHead(statusCode, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sendError(res: http.ServerResponse, code: number, message: string): void {
  sendJson(res, HTTP_STATUS[code] ?? 500, { error: message, message, code });
}

function sendText(res: http.ServerResponse, statusCode: number, text: string): void {
  res.writeHead(statusCode, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${text}\n`);
}
