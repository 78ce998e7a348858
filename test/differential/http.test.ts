/**
 * Goal: the HTTP endpoints on the client URL (/health, /version, /metrics) answer as etcd 3.4's do: status codes,
 * the headers a client or a browser reads (content type, CORS, Allow), and bodies — /version by shape (3.4.x),
 * /metrics as Prometheus text with grpc_server_handled_total counting the calls made.
 * Method: start etcd, make one gRPC put and every HTTP request in REQUESTS, stop it; the same against Corvid; compare.
 */
import { kvClient, bytes } from '../harness/grpc.js';
import { SideBySide, type Side } from '../harness/differential.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';

interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'HEAD';
  readonly path: string;
}

interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const REQUESTS: readonly HttpRequest[] = [
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/version' },
  { method: 'GET', path: '/metrics' },
  { method: 'POST', path: '/health' },
  { method: 'HEAD', path: '/health' },
  { method: 'POST', path: '/version' },
  { method: 'POST', path: '/metrics' },
  { method: 'GET', path: '/no-such-path' },
  { method: 'GET', path: '/livez' },
  { method: 'GET', path: '/readyz' },
];

/** The headers a client acts on; Date, Content-Length and Transfer-Encoding are left out. */
const COMPARED_HEADERS = ['content-type', 'access-control-allow-headers', 'access-control-allow-methods', 'access-control-allow-origin', 'allow', 'x-content-type-options'];

const group = new ProcessGroup();
const sides = new SideBySide<HttpAnswer[]>(group);

async function ask(baseUrl: string, req: HttpRequest): Promise<HttpAnswer> {
  const res = await fetch(`${baseUrl}${req.path}`, { method: req.method });
  const headers: Record<string, string> = {};
  for (const name of COMPARED_HEADERS) {
    const value = res.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { status: res.status, headers, body: await res.text() };
}

beforeAll(async () => {
  await sides.run(async (member) => {
    const kv = kvClient(member.endpoint);
    try {
      await kv.put({ key: bytes('k'), value: bytes('v') });
      const list: HttpAnswer[] = [];
      for (const req of REQUESTS) list.push(await ask(member.clientUrl, req));
      return list;
    } finally {
      kv.close();
    }
  });
}, 60_000);

afterAll(async () => group.cleanup());

function answer(side: Side, path: string, method = 'GET'): HttpAnswer {
  const i = REQUESTS.findIndex((r) => r.path === path && r.method === method);
  const a = sides.get(side)[i];
  if (a === undefined) throw new Error(`no request ${method} ${path}`);
  return a;
}

/** Bodies compared as etcd's: /version by shape, /metrics not at all (see its own tests). */
function comparable(req: HttpRequest, a: HttpAnswer): HttpAnswer {
  if (req.path === '/metrics' && a.status === 200) return { ...a, body: '<prometheus text>' };
  if (req.path === '/version' && a.status === 200) return { ...a, body: a.body.replace(/"etcdserver":"3\.4\.\d+"/, '"etcdserver":"3.4.x"') };
  return a;
}

describe(`HTTP endpoints: etcd 3.4 vs ${SUBJECT}`, () => {
  test('etcd answers /health and /version as documented', () => {
    expect(answer('oracle', '/health')).toMatchObject({ status: 200, body: '{"health":"true"}' });
    expect(JSON.parse(answer('oracle', '/version').body)).toEqual({ etcdserver: expect.stringMatching(/^3\.4\.\d+$/), etcdcluster: '3.4.0' });
  });

  test.each(REQUESTS.map((r) => [r.method, r.path, r] as const))('%s %s', (_m, _p, req) => {
    expect(comparable(req, answer('subject', req.path, req.method))).toEqual(comparable(req, answer('oracle', req.path, req.method)));
  });

  test.each([['oracle'], ['subject']] as const)('/metrics of %s is Prometheus text counting the put in grpc_server_handled_total', (side) => {
    const body = answer(side, '/metrics').body;
    expect(body).toMatch(/^# HELP grpc_server_handled_total /m);
    expect(body).toMatch(/^# TYPE grpc_server_handled_total counter$/m);
    const line = body.split('\n').find((l) => l.startsWith('grpc_server_handled_total{') && l.includes('grpc_code="OK"') && l.includes('grpc_method="Put"'));
    expect(line).toBeDefined();
    expect(line).toContain('grpc_service="etcdserverpb.KV"');
    expect(line).toContain('grpc_type="unary"');
    expect(Number(line?.split(' ').pop())).toBeGreaterThanOrEqual(1);
  });

  test('the grpc_server_* families etcd exports are all there', () => {
    const families = (side: Side): string[] =>
      [...answer(side, '/metrics').body.matchAll(/^# TYPE (grpc_server_\w+) (\w+)$/gm)].map((m) => `${m[1] ?? ''} ${m[2] ?? ''}`).sort();
    // Extra families are allowed (etcd itself adds grpc_server_handling_seconds with --metrics=extensive).
    expect(families('subject')).toEqual(expect.arrayContaining(families('oracle')));
  });
});
