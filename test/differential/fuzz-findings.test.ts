/**
 * Goal: each input the fuzz test (test/e2e/fuzz.test.ts) found that stopped or wedged a Corvid member, pinned as a
 * plain request whose answer must equal etcd 3.4's: the same gRPC code and text, and the member still serving.
 * - UserGrantRole/UserGet/UserDelete/RoleGet with an empty name: LMDB refuses an empty key, and the throw inside
 *   the apply stopped the member (and the entry, in the log, stopped it again at every restart).
 * - MemberAdd with no peer URLs: accepted, it added a member with no address — as a voter of a one-member
 *   cluster, one that took its quorum away for good. etcd refuses it (types.NewURLs: "no valid URLs given").
 * - A stream whose HEADERS (a wrong content type) and RST_STREAM arrive together: Node emits the server's 'stream'
 *   event a tick late, grpc-js answered the already destroyed stream, and the throw ended the process.
 * Method: each request against etcd 3.4 and Corvid (MEMBER_KINDS), answers compared as {code, details} or 'ok'.
 */
import { connect } from 'node:net';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { etcdserverpb } from '@corvid/proto';
import { errorOf, kvClient, outcome, bytes } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

type Callback<R> = (error: ServiceError | null, response: R) => void;
function call<Q, R>(method: (req: Q, meta: Metadata, opts: { deadline: Date }, cb: Callback<R>) => unknown, req: Q): Promise<R> {
  return new Promise((resolve, reject) => {
    method(req, new Metadata(), { deadline: new Date(Date.now() + 5_000) }, (err, res) => (err === null ? resolve(res) : reject(err)));
  });
}

interface Finding {
  readonly name: string;
  readonly run: (endpoint: string) => Promise<unknown>;
}

const auth = (endpoint: string): etcdserverpb.AuthClient => new etcdserverpb.AuthClient(endpoint, credentials.createInsecure());
const cluster = (endpoint: string): etcdserverpb.ClusterClient => new etcdserverpb.ClusterClient(endpoint, credentials.createInsecure());

/** An HPACK literal with incremental indexing whose name is static-table entry `nameIndex` (< 63; value < 127 bytes). */
const literal = (nameIndex: number, value: string): Buffer => Buffer.concat([Buffer.from([0x40 | nameIndex, value.length]), Buffer.from(value, 'latin1')]);
const frame = (type: number, flags: number, stream: number, payload: Buffer): Buffer => {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
};

/** One TCP write: preface, SETTINGS, a HEADERS with content-type text/plain on stream 1, its RST_STREAM; then wait. */
function headersAndResetTogether(endpoint: string): Promise<string> {
  const [host, port] = endpoint.split(':') as [string, string];
  // :method POST (2 → 3), :scheme http (6), :path (4), :authority (1), content-type (31).
  const block = Buffer.concat([Buffer.from([0x83, 0x86]), literal(4, '/etcdserverpb.KV/Range'), literal(1, endpoint), literal(31, 'text/plain')]);
  const bytes = Buffer.concat([
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
    frame(0x4, 0, 0, Buffer.alloc(0)),
    frame(0x1, 0x4, 1, block),
    frame(0x3, 0, 1, Buffer.from([0, 0, 0, 0x8])),
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host);
    socket.on('error', reject);
    socket.on('data', () => undefined);
    socket.on('connect', () => socket.write(bytes));
    setTimeout(() => {
      socket.destroy();
      resolve('sent');
    }, 300);
  });
}

const FINDINGS: readonly Finding[] = [
  { name: 'a wrong-content-type stream reset in the same packet as its HEADERS', run: headersAndResetTogether },
  { name: 'UserGrantRole with an empty user name', run: (e) => { const a = auth(e); return call(a.userGrantRole.bind(a), etcdserverpb.AuthUserGrantRoleRequest.fromPartial({ user: '', role: 'r' })).finally(() => a.close()); } },
  { name: 'UserGet with an empty name', run: (e) => { const a = auth(e); return call(a.userGet.bind(a), etcdserverpb.AuthUserGetRequest.fromPartial({ name: '' })).finally(() => a.close()); } },
  { name: 'UserDelete with an empty name', run: (e) => { const a = auth(e); return call(a.userDelete.bind(a), etcdserverpb.AuthUserDeleteRequest.fromPartial({ name: '' })).finally(() => a.close()); } },
  { name: 'UserRevokeRole with an empty name', run: (e) => { const a = auth(e); return call(a.userRevokeRole.bind(a), etcdserverpb.AuthUserRevokeRoleRequest.fromPartial({ name: '', role: 'r' })).finally(() => a.close()); } },
  { name: 'RoleGet with an empty role', run: (e) => { const a = auth(e); return call(a.roleGet.bind(a), etcdserverpb.AuthRoleGetRequest.fromPartial({ role: '' })).finally(() => a.close()); } },
  { name: 'RoleDelete with an empty role', run: (e) => { const a = auth(e); return call(a.roleDelete.bind(a), etcdserverpb.AuthRoleDeleteRequest.fromPartial({ role: '' })).finally(() => a.close()); } },
  { name: 'RoleGrantPermission to an empty role', run: (e) => { const a = auth(e); return call(a.roleGrantPermission.bind(a), etcdserverpb.AuthRoleGrantPermissionRequest.fromPartial({ name: '', perm: { permType: 0, key: bytes('k') } })).finally(() => a.close()); } },
  { name: 'MemberAdd with no peer URLs', run: (e) => { const c = cluster(e); return call(c.memberAdd.bind(c), etcdserverpb.MemberAddRequest.fromPartial({ peerURLs: [] })).finally(() => c.close()); } },
  { name: 'MemberAdd of a learner with no peer URLs', run: (e) => { const c = cluster(e); return call(c.memberAdd.bind(c), etcdserverpb.MemberAddRequest.fromPartial({ peerURLs: [], isLearner: true })).finally(() => c.close()); } },
];

const answers = new Map<MemberKind, Map<string, unknown>>();

describe.each(MEMBER_KINDS.map((kind) => [kind]))('inputs the fuzz found, on %s', (kind: MemberKind) => {
  let member: Member;

  beforeAll(async () => {
    member = await group.start(kind);
    const got = new Map<string, unknown>();
    for (const f of FINDINGS) got.set(f.name, errorOf(await outcome(f.run(member.endpoint))));
    answers.set(kind, got);
  }, 60_000);

  afterAll(async () => member?.stop());

  test('the member is still up and serving writes after all of them', async () => {
    const kv = kvClient(member.endpoint);
    const put = await kv.put({ key: bytes('still-serving'), value: bytes('yes') });
    kv.close();
    expect({ exited: member.hasExited(), revision: put.header!.revision > 0n }).toEqual({ exited: false, revision: true });
  });
});

describe('answers match etcd 3.4', () => {
  test.each(FINDINGS.map((f) => [f.name]))('%s', (name) => {
    const etcd = answers.get('etcd')?.get(name);
    const subject = answers.get(MEMBER_KINDS[MEMBER_KINDS.length - 1]!)?.get(name);
    expect(etcd).toBeDefined();
    expect(subject).toEqual(etcd);
  });
});
