/**
 * Generators for the robustness fuzz test (test/e2e/fuzz.test.ts): a seeded PRNG, protobuf mutators, gRPC framing
 * and header abuse, and raw HTTP/2 frames. Pure functions of the PRNG, so a seed reproduces a run's inputs (their
 * interleaving with the member's timing is not reproducible, their content is).
 */
import { etcdserverpb } from '@corvid/proto';

/** mulberry32: small, fast, and good enough to pick fuzz inputs. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uint32. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, below). */
  int(below: number): number {
    return this.next() % below;
  }

  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** `subscription`: a server stream that stays open by design (gRPC health Watch). */
export type CallShape = 'unary' | 'client-stream' | 'server-stream' | 'subscription' | 'bidi';

export interface FuzzMethod {
  /** The gRPC path, `/package.Service/Method`. */
  readonly path: string;
  readonly shape: CallShape;
  /** Valid encoded requests that mutations start from. */
  readonly seeds: readonly Buffer[];
  /** Rewrites every message sent, to pin a field whatever the mutation did. */
  readonly pin?: (message: Buffer) => Buffer;
}

const b = (text: string): Buffer => Buffer.from(text, 'utf8');
const FUZZ_PREFIX = b('fuzz/');
const FUZZ_PREFIX_END = b('fuzz0');

/** A MemberAddRequest that decodes is re-encoded as a learner's; one that does not is sent as it is. */
function asLearner(message: Buffer): Buffer {
  try {
    const request = etcdserverpb.MemberAddRequest.decode(message);
    return Buffer.from(etcdserverpb.MemberAddRequest.encode({ ...request, isLearner: true }).finish());
  } catch {
    return message;
  }
}

/**
 * Every method of etcd's client services (and gRPC health), with valid seed requests. No seed names the user
 * `root`, the role `root` or a member id, so a mutated request can hardly enable auth or change the membership of
 * the member under test by accident — the test is about the member surviving, not about what a client may do.
 */
export function clientMethods(): FuzzMethod[] {
  const e = etcdserverpb;
  const m = (service: string, method: string, shape: CallShape, ...seeds: Uint8Array[]): FuzzMethod => ({
    path: `/etcdserverpb.${service}/${method}`,
    shape,
    seeds: seeds.map((s) => Buffer.from(s)),
  });
  const nestedTxn = e.RequestOp.fromPartial({ request: { $case: 'requestTxn', value: e.TxnRequest.fromPartial({ success: [e.RequestOp.fromPartial({ request: { $case: 'requestDeleteRange', value: { key: b('fuzz/t') } } })] }) } });
  return [
    m('KV', 'Range', 'unary', e.RangeRequest.encode(e.RangeRequest.fromPartial({ key: FUZZ_PREFIX, rangeEnd: FUZZ_PREFIX_END, limit: 10n })).finish(), e.RangeRequest.encode(e.RangeRequest.fromPartial({ key: b('fuzz/a'), serializable: true, revision: 2n, sortOrder: 1, sortTarget: 3 })).finish()),
    m('KV', 'Put', 'unary', e.PutRequest.encode(e.PutRequest.fromPartial({ key: b('fuzz/k'), value: b('v'), prevKv: true })).finish(), e.PutRequest.encode(e.PutRequest.fromPartial({ key: b('fuzz/k2'), ignoreValue: true })).finish()),
    m('KV', 'DeleteRange', 'unary', e.DeleteRangeRequest.encode(e.DeleteRangeRequest.fromPartial({ key: b('fuzz/k'), prevKv: true })).finish()),
    m(
      'KV',
      'Txn',
      'unary',
      e.TxnRequest.encode(
        e.TxnRequest.fromPartial({
          compare: [{ key: b('fuzz/k'), result: 0, target: 1, targetUnion: { $case: 'createRevision', value: 0n } }],
          success: [{ request: { $case: 'requestPut', value: { key: b('fuzz/t'), value: b('1') } } }],
          failure: [e.RequestOp.fromPartial({ request: { $case: 'requestRange', value: { key: b('fuzz/t') } } }), nestedTxn],
        }),
      ).finish(),
    ),
    m('KV', 'Compact', 'unary', e.CompactionRequest.encode(e.CompactionRequest.fromPartial({ revision: 1n })).finish()),
    m(
      'Watch',
      'Watch',
      'bidi',
      e.WatchRequest.encode(e.WatchRequest.fromPartial({ requestUnion: { $case: 'createRequest', value: { key: FUZZ_PREFIX, rangeEnd: FUZZ_PREFIX_END, prevKv: true, progressNotify: true, filters: [0], watchId: 7n, fragment: true } } })).finish(),
      e.WatchRequest.encode(e.WatchRequest.fromPartial({ requestUnion: { $case: 'cancelRequest', value: { watchId: 7n } } })).finish(),
      e.WatchRequest.encode(e.WatchRequest.fromPartial({ requestUnion: { $case: 'progressRequest', value: {} } })).finish(),
    ),
    m('Lease', 'LeaseGrant', 'unary', e.LeaseGrantRequest.encode(e.LeaseGrantRequest.fromPartial({ TTL: 5n, ID: 0n })).finish()),
    m('Lease', 'LeaseRevoke', 'unary', e.LeaseRevokeRequest.encode(e.LeaseRevokeRequest.fromPartial({ ID: 12345n })).finish()),
    m('Lease', 'LeaseKeepAlive', 'bidi', e.LeaseKeepAliveRequest.encode(e.LeaseKeepAliveRequest.fromPartial({ ID: 12345n })).finish()),
    m('Lease', 'LeaseTimeToLive', 'unary', e.LeaseTimeToLiveRequest.encode(e.LeaseTimeToLiveRequest.fromPartial({ ID: 12345n, keys: true })).finish()),
    m('Lease', 'LeaseLeases', 'unary', e.LeaseLeasesRequest.encode(e.LeaseLeasesRequest.fromPartial({})).finish()),
    // is_learner pinned to true: a 1-member etcd cluster accepts a voting MemberAdd (etcd's restore case) and then
    // has no quorum until the new member starts — right behaviour, but it would stop the writer, not test robustness.
    { ...m('Cluster', 'MemberAdd', 'unary', e.MemberAddRequest.encode(e.MemberAddRequest.fromPartial({ peerURLs: ['http://127.0.0.1:9'], isLearner: true })).finish()), pin: asLearner },
    m('Cluster', 'MemberRemove', 'unary', e.MemberRemoveRequest.encode(e.MemberRemoveRequest.fromPartial({ ID: 99n })).finish()),
    m('Cluster', 'MemberUpdate', 'unary', e.MemberUpdateRequest.encode(e.MemberUpdateRequest.fromPartial({ ID: 99n, peerURLs: ['http://127.0.0.1:9'] })).finish()),
    m('Cluster', 'MemberList', 'unary', e.MemberListRequest.encode(e.MemberListRequest.fromPartial({})).finish()),
    m('Cluster', 'MemberPromote', 'unary', e.MemberPromoteRequest.encode(e.MemberPromoteRequest.fromPartial({ ID: 99n })).finish()),
    m('Maintenance', 'Alarm', 'unary', e.AlarmRequest.encode(e.AlarmRequest.fromPartial({ action: 0, alarm: 0 })).finish()),
    m('Maintenance', 'Status', 'unary', e.StatusRequest.encode(e.StatusRequest.fromPartial({})).finish()),
    m('Maintenance', 'Defragment', 'unary', e.DefragmentRequest.encode(e.DefragmentRequest.fromPartial({})).finish()),
    m('Maintenance', 'Hash', 'unary', e.HashRequest.encode(e.HashRequest.fromPartial({})).finish()),
    m('Maintenance', 'HashKV', 'unary', e.HashKVRequest.encode(e.HashKVRequest.fromPartial({ revision: 0n })).finish()),
    m('Maintenance', 'Snapshot', 'server-stream', e.SnapshotRequest.encode(e.SnapshotRequest.fromPartial({})).finish()),
    m('Maintenance', 'MoveLeader', 'unary', e.MoveLeaderRequest.encode(e.MoveLeaderRequest.fromPartial({ targetID: 99n })).finish()),
    m('Auth', 'AuthEnable', 'unary', e.AuthEnableRequest.encode(e.AuthEnableRequest.fromPartial({})).finish()),
    m('Auth', 'AuthDisable', 'unary', e.AuthDisableRequest.encode(e.AuthDisableRequest.fromPartial({})).finish()),
    m('Auth', 'Authenticate', 'unary', e.AuthenticateRequest.encode(e.AuthenticateRequest.fromPartial({ name: 'fuzz-user', password: 'pw' })).finish()),
    m('Auth', 'UserAdd', 'unary', e.AuthUserAddRequest.encode(e.AuthUserAddRequest.fromPartial({ name: 'fuzz-user', password: 'pw' })).finish()),
    m('Auth', 'UserGet', 'unary', e.AuthUserGetRequest.encode(e.AuthUserGetRequest.fromPartial({ name: 'fuzz-user' })).finish()),
    m('Auth', 'UserList', 'unary', e.AuthUserListRequest.encode(e.AuthUserListRequest.fromPartial({})).finish()),
    m('Auth', 'UserDelete', 'unary', e.AuthUserDeleteRequest.encode(e.AuthUserDeleteRequest.fromPartial({ name: 'fuzz-user' })).finish()),
    m('Auth', 'UserChangePassword', 'unary', e.AuthUserChangePasswordRequest.encode(e.AuthUserChangePasswordRequest.fromPartial({ name: 'fuzz-user', password: 'pw2' })).finish()),
    m('Auth', 'UserGrantRole', 'unary', e.AuthUserGrantRoleRequest.encode(e.AuthUserGrantRoleRequest.fromPartial({ user: 'fuzz-user', role: 'fuzz-role' })).finish()),
    m('Auth', 'UserRevokeRole', 'unary', e.AuthUserRevokeRoleRequest.encode(e.AuthUserRevokeRoleRequest.fromPartial({ name: 'fuzz-user', role: 'fuzz-role' })).finish()),
    m('Auth', 'RoleAdd', 'unary', e.AuthRoleAddRequest.encode(e.AuthRoleAddRequest.fromPartial({ name: 'fuzz-role' })).finish()),
    m('Auth', 'RoleGet', 'unary', e.AuthRoleGetRequest.encode(e.AuthRoleGetRequest.fromPartial({ role: 'fuzz-role' })).finish()),
    m('Auth', 'RoleList', 'unary', e.AuthRoleListRequest.encode(e.AuthRoleListRequest.fromPartial({})).finish()),
    m('Auth', 'RoleDelete', 'unary', e.AuthRoleDeleteRequest.encode(e.AuthRoleDeleteRequest.fromPartial({ role: 'fuzz-role' })).finish()),
    m('Auth', 'RoleGrantPermission', 'unary', e.AuthRoleGrantPermissionRequest.encode(e.AuthRoleGrantPermissionRequest.fromPartial({ name: 'fuzz-role', perm: { permType: 2, key: FUZZ_PREFIX, rangeEnd: FUZZ_PREFIX_END } })).finish()),
    m('Auth', 'RoleRevokePermission', 'unary', e.AuthRoleRevokePermissionRequest.encode(e.AuthRoleRevokePermissionRequest.fromPartial({ role: 'fuzz-role', key: FUZZ_PREFIX, rangeEnd: FUZZ_PREFIX_END })).finish()),
    { path: '/grpc.health.v1.Health/Check', shape: 'unary', seeds: [Buffer.from([0x0a, 0x00])] },
    { path: '/grpc.health.v1.Health/Watch', shape: 'subscription', seeds: [Buffer.alloc(0)] },
  ];
}

/**
 * Corvid's peer-port services (corvidpeer.Peer, corvidpb.Membership, the forwarded Lease calls): fed random bytes
 * only — a valid raft message needs this cluster's id, which no seed carries.
 */
export function corvidPeerMethods(): FuzzMethod[] {
  const none: Buffer[] = [Buffer.alloc(0)];
  return [
    { path: '/corvidpeer.Peer/Stream', shape: 'client-stream', seeds: none },
    { path: '/corvidpeer.Peer/Snapshot', shape: 'client-stream', seeds: none },
    { path: '/corvidpeer.Peer/Ping', shape: 'unary', seeds: none },
    { path: '/corvidpb.Membership/Cluster', shape: 'unary', seeds: none },
    { path: '/corvidpb.Membership/Promote', shape: 'unary', seeds: none },
    { path: '/etcdserverpb.Lease/LeaseGrant', shape: 'unary', seeds: none },
    { path: '/etcdserverpb.Lease/LeaseKeepAlive', shape: 'bidi', seeds: none },
  ];
}

/** One to four edits of a protobuf message: bit flips, special bytes, inserts, cuts, overlong varints, huge lengths. */
export function mutate(rng: Rng, seed: Buffer, others: readonly Buffer[]): Buffer {
  let out = Buffer.from(seed);
  const edits = 1 + rng.int(4);
  for (let i = 0; i < edits; i++) {
    const at = out.length === 0 ? 0 : rng.int(out.length);
    switch (rng.int(8)) {
      case 0:
        if (out.length > 0) out[at] = out[at]! ^ (1 << rng.int(8));
        break;
      case 1:
        if (out.length > 0) out[at] = rng.pick([0x00, 0x7f, 0x80, 0xff]);
        break;
      case 2:
        out = Buffer.concat([out.subarray(0, at), rng.bytes(1 + rng.int(16)), out.subarray(at)]);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + rng.int(8)))]);
        break;
      case 4:
        out = out.subarray(0, at);
        break;
      case 5:
        // Repeated fields and merged messages: protobuf concatenation is a merge.
        out = Buffer.concat([out, rng.pick(others.length > 0 ? others : [out])]);
        break;
      case 6:
        // An overlong varint (11 bytes of continuation) where a tag or length was.
        out = Buffer.concat([out.subarray(0, at), Buffer.alloc(11, 0xff), out.subarray(at)]);
        break;
      default:
        // A length-delimited field (tag of field 1..15) claiming about 4 GiB.
        out = Buffer.concat([out.subarray(0, at), Buffer.from([((1 + rng.int(15)) << 3) | 2, 0xff, 0xff, 0xff, 0xff, 0x0f]), out.subarray(at)]);
    }
  }
  return out;
}

/** A message body for `method`: random bytes, or a mutated seed. */
export function fuzzMessage(rng: Rng, method: FuzzMethod): Buffer {
  const message = rng.chance(0.3) ? rng.bytes(rng.int(rng.chance(0.9) ? 64 : 4096)) : mutate(rng, rng.pick(method.seeds), method.seeds);
  return method.pin === undefined ? message : method.pin(message);
}

/** gRPC length-prefixed framing: flag byte, uint32 big-endian length, message. */
export function grpcFrame(message: Buffer, flag = 0, declaredLength = message.length): Buffer {
  const header = Buffer.alloc(5);
  header[0] = flag;
  header.writeUInt32BE(declaredLength >>> 0, 1);
  return Buffer.concat([header, message]);
}

export type FramingKind = 'proper' | 'declared-longer' | 'declared-huge' | 'compressed-flag' | 'two-messages' | 'empty-body' | 'trailing-garbage' | 'unframed';

/** The body of one call: one message framed right, or a framing error of some kind. */
export function fuzzBody(rng: Rng, message: Buffer): { kind: FramingKind; body: Buffer } {
  const kind: FramingKind = rng.chance(0.6) ? 'proper' : rng.pick(['declared-longer', 'declared-huge', 'compressed-flag', 'two-messages', 'empty-body', 'trailing-garbage', 'unframed'] as const);
  switch (kind) {
    case 'proper':
      return { kind, body: grpcFrame(message) };
    case 'declared-longer':
      return { kind, body: grpcFrame(message, 0, message.length + 1 + rng.int(100)) };
    case 'declared-huge':
      return { kind, body: grpcFrame(rng.bytes(1024), 0, 0x7fff_ffff + rng.int(0x8000_0000)) };
    case 'compressed-flag':
      return { kind, body: grpcFrame(message, 1) };
    case 'two-messages':
      return { kind, body: Buffer.concat([grpcFrame(message), grpcFrame(message)]) };
    case 'empty-body':
      return { kind, body: Buffer.alloc(0) };
    case 'trailing-garbage':
      return { kind, body: Buffer.concat([grpcFrame(message), rng.bytes(1 + rng.int(4))]) };
    case 'unframed':
      return { kind, body: message };
  }
}

export type HeaderKind = 'normal' | 'json-content-type' | 'no-te' | 'gzip-encoding' | 'bad-timeout' | 'unknown-path' | 'get-method' | 'huge-metadata' | 'bad-token';

/** HTTP/2 request headers for a call to `path`, sometimes wrong in one way. */
export function fuzzHeaders(rng: Rng, path: string): { kind: HeaderKind; headers: Record<string, string> } {
  const headers: Record<string, string> = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' };
  const kind: HeaderKind = rng.chance(0.8) ? 'normal' : rng.pick(['json-content-type', 'no-te', 'gzip-encoding', 'bad-timeout', 'unknown-path', 'get-method', 'huge-metadata', 'bad-token'] as const);
  switch (kind) {
    case 'normal':
      break;
    case 'json-content-type':
      headers['content-type'] = 'application/json';
      break;
    case 'no-te':
      delete headers['te'];
      break;
    case 'gzip-encoding':
      headers['grpc-encoding'] = 'gzip';
      break;
    case 'bad-timeout':
      headers['grpc-timeout'] = rng.pick(['x', '1n', '99999999999H', '-1S', '']);
      break;
    case 'unknown-path':
      headers[':path'] = rng.pick(['/', '/etcdserverpb.KV/Nope', '/nope.Service/Range', `${path}/extra`, '/etcdserverpb.KV']);
      break;
    case 'get-method':
      headers[':method'] = 'GET';
      break;
    case 'huge-metadata':
      headers['x-fuzz'] = 'a'.repeat(4096 + rng.int(8192));
      break;
    case 'bad-token':
      headers['token'] = rng.bytes(32).toString('base64');
      break;
  }
  return { kind, headers };
}

/** The HTTP/2 connection preface a client sends first. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** One HTTP/2 frame: 24-bit length, type, flags, 31-bit stream id, payload (its length may lie). */
export function h2Frame(type: number, flags: number, streamId: number, payload: Buffer, declaredLength = payload.length): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(declaredLength & 0xff_ffff, 0, 3);
  header[3] = type & 0xff;
  header[4] = flags & 0xff;
  header.writeUInt32BE(streamId & 0x7fff_ffff, 5);
  return Buffer.concat([header, payload]);
}

/**
 * The bytes of one hostile connection: the preface (usually) then a few frames of any type — SETTINGS, HEADERS
 * with random HPACK, DATA on unopened streams, WINDOW_UPDATE overflows, PING floods, unknown types, lying lengths —
 * or no preface at all (plain garbage, an HTTP/1.1 request, a TLS ClientHello start).
 */
export function hostileConnection(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  const start = rng.int(10);
  if (start === 0) return rng.bytes(1 + rng.int(512));
  if (start === 1) return Buffer.from('POST /etcdserverpb.KV/Range HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n\0\0\0\0\0', 'latin1');
  if (start === 2) return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), rng.bytes(64)]);
  parts.push(H2_PREFACE);
  if (rng.chance(0.7)) parts.push(h2Frame(4, 0, 0, Buffer.alloc(0)));
  const frames = 1 + rng.int(12);
  for (let i = 0; i < frames; i++) {
    const type = rng.chance(0.9) ? rng.int(10) : rng.int(256);
    const stream = rng.chance(0.5) ? 1 + 2 * rng.int(8) : rng.next();
    let payload: Buffer;
    switch (type) {
      case 1: // HEADERS: a random HPACK block, sometimes after a valid-looking indexed :method POST.
        payload = Buffer.concat([rng.chance(0.5) ? Buffer.from([0x83, 0x86]) : Buffer.alloc(0), rng.bytes(rng.int(64))]);
        break;
      case 4: // SETTINGS with random ids and values (e.g. a zero or huge frame size, a huge window).
        payload = rng.bytes(6 * rng.int(6) + (rng.chance(0.1) ? 1 : 0));
        break;
      case 8: // WINDOW_UPDATE, often the overflowing maximum.
        payload = rng.chance(0.5) ? Buffer.from([0x7f, 0xff, 0xff, 0xff]) : rng.bytes(rng.int(8));
        break;
      default:
        payload = rng.bytes(rng.int(rng.chance(0.95) ? 128 : 20_000));
    }
    const lie = rng.chance(0.1) ? rng.int(0x100_0000) : payload.length;
    parts.push(h2Frame(type, rng.int(256), type === 4 || type === 6 || rng.chance(0.1) ? 0 : stream, payload, lie));
  }
  return Buffer.concat(parts);
}
