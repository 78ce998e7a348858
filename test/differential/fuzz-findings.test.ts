/**
 * Goal: each input the fuzz test (test/e2e/fuzz.test.ts) found that stopped or wedged a Corvid member, pinned as a
 * plain request whose answer must equal etcd 3.4's: the same gRPC code and text, and the member still serving.
 * - UserGrantRole/UserGet/UserDelete/RoleGet with an empty name: LMDB refuses an empty key, and the throw inside
 *   the apply stopped the member (and the entry, in the log, stopped it again at every restart).
 * - MemberAdd with no peer URLs: accepted, it added a member with no address — as a voter of a one-member
 *   cluster, one that took its quorum away for good. etcd refuses it (types.NewURLs: "no valid URLs given").
 * Method: each request against etcd 3.4 and Corvid (MEMBER_KINDS), answers compared as {code, details} or 'ok'.
 */
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

const FINDINGS: readonly Finding[] = [
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
