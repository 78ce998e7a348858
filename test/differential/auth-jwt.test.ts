/**
 * Goal: `--auth-token jwt,pub-key=…,priv-key=…,sign-method=…,ttl=…` behaves as etcd 3.4's: Authenticate hands out a
 * JWT with etcd's header and claims ({exp, revision, username}, exp = now + ttl), which works until it expires or the
 * auth store changes (then "revision of auth store is old", for reads, writes and watches, while auth management
 * only needs the root role); a tampered token or another algorithm is refused; and a token the test signs itself
 * with the same key is accepted, so the format is etcd's and not only self-consistent.
 * Method: keys made by openssl in a temp dir; for RS256 and ES256, one script runs against a fresh etcd and a fresh
 * subject started with the same --auth-token; each step's outcome (tokens reduced to their decoded shape) is
 * compared by name.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { authpb, etcdserverpb } from '@corvid/proto';
import { SideBySide } from '../harness/differential.js';
import { bytes } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';
import { renderWatch, WatchStreamClient } from './watch-client.js';

const TTL_SECONDS = 3;
const keys = mkdtempSync(join(tmpdir(), 'corvid-jwt-keys-'));
const group = new ProcessGroup();
afterAll(async () => {
  await group.cleanup();
  rmSync(keys, { recursive: true, force: true });
});

function makeKeys(alg: 'RS256' | 'ES256'): { pub: string; priv: string } {
  const priv = join(keys, `${alg}.key`);
  const pub = join(keys, `${alg}.pub`);
  if (alg === 'RS256') execFileSync('openssl', ['genrsa', '-out', priv, '2048'], { stdio: 'ignore' });
  else execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', priv], { stdio: 'ignore' });
  execFileSync('openssl', [alg === 'RS256' ? 'rsa' : 'ec', '-in', priv, '-pubout', '-out', pub], { stdio: 'ignore' });
  return { pub, priv };
}

const REQUEST_TYPES: Readonly<Record<string, { fromPartial(p: never): unknown }>> = {
  authenticate: etcdserverpb.AuthenticateRequest, userAdd: etcdserverpb.AuthUserAddRequest, roleAdd: etcdserverpb.AuthRoleAddRequest,
  authEnable: etcdserverpb.AuthEnableRequest, userGrantRole: etcdserverpb.AuthUserGrantRoleRequest,
  roleGrantPermission: etcdserverpb.AuthRoleGrantPermissionRequest, userList: etcdserverpb.AuthUserListRequest,
  range: etcdserverpb.RangeRequest, put: etcdserverpb.PutRequest,
};
type Client = Record<string, (req: unknown, meta: Metadata, opts: { deadline: Date }, cb: (e: ServiceError | null, r: unknown) => void) => unknown>;

async function call(client: Client, method: string, request: unknown, token?: string): Promise<string> {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('token', token);
  const fn = client[method];
  const type = REQUEST_TYPES[method];
  if (fn === undefined || type === undefined) throw new Error(`no method ${method}`);
  return new Promise((resolve) => {
    fn.call(client, type.fromPartial(request as never), metadata, { deadline: new Date(Date.now() + 5_000) }, (err, response) => {
      resolve(err === null ? renderWatch(response) : JSON.stringify({ code: err.code, details: err.details }));
    });
  });
}

const tokenIn = (rendered: string): string => /"token":"([^"]*)"/.exec(rendered)?.[1] ?? '';

/** A JWT as data: its header, its claims' names, user and revision, and whether exp is now + ttl. */
function shapeOf(token: string): string {
  const [head, body] = token.split('.');
  const header = JSON.parse(Buffer.from(head ?? '', 'base64url').toString()) as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(body ?? '', 'base64url').toString()) as { exp: number; revision: number; username: string };
  const expIn = claims.exp - Date.now() / 1000;
  return JSON.stringify({ header, claimNames: Object.keys(claims), username: claims.username, revision: claims.revision, expIsTtl: expIn > TTL_SECONDS - 2 && expIn <= TTL_SECONDS + 1 });
}

/** A token the test signs itself, as jwt-go would. */
function forge(alg: 'RS256' | 'ES256', privPath: string, claims: object): string {
  const head = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const key = createPrivateKey(readFileSync(privPath, 'utf8'));
  const signature = sign('sha256', Buffer.from(`${head}.${body}`), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${head}.${body}.${signature.toString('base64url')}`;
}

async function watchOutcome(endpoint: string, token: string): Promise<string> {
  const stream = new WatchStreamClient(endpoint, { metadata: { token } });
  try {
    stream.create({ key: bytes('/a/x') });
    await stream.waitFor(1);
    return renderWatch(stream.responses[0] ?? stream.status);
  } finally {
    stream.close();
  }
}

function script(alg: 'RS256' | 'ES256', priv: string) {
  return async (member: Member): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    const insecure = credentials.createInsecure();
    const auth = new etcdserverpb.AuthClient(member.endpoint, insecure) as unknown as Client;
    const kv = new etcdserverpb.KVClient(member.endpoint, insecure) as unknown as Client;
    const step = async (name: string, result: Promise<string> | string): Promise<string> => {
      const text = await result;
      out.set(name, text.replace(/"token":"[^"]*"/, '"token":"<jwt>"'));
      return text;
    };
    try {
      await step('user add root', call(auth, 'userAdd', { name: 'root', password: 'rootpw', options: {} }));
      await step('role add root', call(auth, 'roleAdd', { name: 'root' }));
      await step('grant root', call(auth, 'userGrantRole', { user: 'root', role: 'root' }));
      await step('user add u', call(auth, 'userAdd', { name: 'u', password: 'upw', options: {} }));
      await step('role add r', call(auth, 'roleAdd', { name: 'r' }));
      await step('grant r /a/', call(auth, 'roleGrantPermission', { name: 'r', perm: { permType: authpb.Permission_Type.READWRITE, key: bytes('/a/'), rangeEnd: bytes('/a0') } }));
      await step('grant r to u', call(auth, 'userGrantRole', { user: 'u', role: 'r' }));
      await step('enable', call(auth, 'authEnable', {}));
      const root = tokenIn(await step('authenticate root', call(auth, 'authenticate', { name: 'root', password: 'rootpw' })));
      await step('root token shape', shapeOf(root));
      const u = tokenIn(await step('authenticate u', call(auth, 'authenticate', { name: 'u', password: 'upw' })));
      await step('u token shape', shapeOf(u));
      await step('u put /a/x', call(kv, 'put', { key: bytes('/a/x'), value: bytes('1') }, u));
      await step('u range /a/x', call(kv, 'range', { key: bytes('/a/x') }, u));
      await step('u range /b', call(kv, 'range', { key: bytes('/b') }, u));
      await step('u watch /a/x', watchOutcome(member.endpoint, u));
      const tampered = `${u.slice(0, -4)}${u.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      await step('tampered token', call(kv, 'range', { key: bytes('/a/x') }, tampered));
      const now = Math.floor(Date.now() / 1000);
      await step('token signed by the test', call(kv, 'range', { key: bytes('/a/x') }, forge(alg, priv, { exp: now + 60, revision: 8, username: 'u' })));
      await step('token signed by the test, expired', call(kv, 'range', { key: bytes('/a/x') }, forge(alg, priv, { exp: now - 10, revision: 7, username: 'u' })));
      const hs = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${u.split('.')[1] ?? ''}.${u.split('.')[2] ?? ''}`;
      await step('another algorithm', call(kv, 'range', { key: bytes('/a/x') }, hs));
      // Any auth change makes every token issued before it stale.
      await step('root role add r2', call(auth, 'roleAdd', { name: 'r2' }, root));
      await step('stale u range', call(kv, 'range', { key: bytes('/a/x') }, u));
      await step('stale u put', call(kv, 'put', { key: bytes('/a/x'), value: bytes('2') }, u));
      await step('stale u watch', watchOutcome(member.endpoint, u));
      await step('stale root user list', call(auth, 'userList', {}, root));
      const fresh = tokenIn(await step('authenticate u again', call(auth, 'authenticate', { name: 'u', password: 'upw' })));
      await step('fresh u token shape', shapeOf(fresh));
      await step('fresh u range', call(kv, 'range', { key: bytes('/a/x') }, fresh));
      await new Promise((resolve) => setTimeout(resolve, (TTL_SECONDS + 1.5) * 1000));
      await step('expired u range', call(kv, 'range', { key: bytes('/a/x') }, fresh));
    } finally {
      for (const c of [auth, kv]) (c as unknown as { close(): void }).close();
    }
    return out;
  };
}

describe.each(['RS256', 'ES256'] as const)(`--auth-token jwt with %s: etcd 3.4 vs ${SUBJECT}`, (alg) => {
  let sides: SideBySide<Map<string, string>>;

  beforeAll(async () => {
    const { pub, priv } = makeKeys(alg);
    sides = new SideBySide(group, { extraArgs: [`--auth-token=jwt,pub-key=${pub},priv-key=${priv},sign-method=${alg},ttl=${TTL_SECONDS}s`] });
    await sides.run(script(alg, priv));
  }, 120_000);

  test('both members ran the script', () => {
    expect(sides.failure('oracle')?.message).toBeUndefined();
    expect(sides.failure('subject')?.message).toBeUndefined();
  });

  test('every step answers as etcd', () => {
    const render = (m: Map<string, string>): string => [...m].map(([name, text]) => `${name}: ${text}`).join('\n');
    expect(render(sides.get('subject'))).toEqual(render(sides.get('oracle')));
  });
});
