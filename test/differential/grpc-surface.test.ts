/**
 * Goal: the gRPC surface around the etcd services matches etcd 3.4's: the standard health service that load
 * balancers and grpc-go clients probe (grpc.health.v1.Health/Check → SERVING), and the status code and text for
 * unknown services, unknown methods and undecodable requests.
 * Method: raw unary calls with hand-encoded bytes (grpc-js generic client) to etcd, then the subject (one at a
 * time); compare the response bytes (hex) or {code, details}.
 */
import { Client, credentials } from '@grpc/grpc-js';
import { SideBySide } from '../harness/differential.js';
import { splitKnown } from '../harness/known-differences.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';

interface RawCall {
  readonly name: string;
  readonly path: string;
  readonly request: Buffer;
}

/** HealthCheckRequest{service} is field 1 (string); the empty message asks about the whole server. */
const healthRequest = (service: string): Buffer => (service === '' ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, service.length]), Buffer.from(service)]));

const CALLS: readonly RawCall[] = [
  { name: 'health check of the server (SERVING = 08 01)', path: '/grpc.health.v1.Health/Check', request: healthRequest('') },
  { name: 'health check of a named service', path: '/grpc.health.v1.Health/Check', request: healthRequest('etcdserverpb.KV') },
  { name: 'unknown method of a known service', path: '/etcdserverpb.KV/Nope', request: Buffer.alloc(0) },
  { name: 'unknown service', path: '/nope.Nope/Nope', request: Buffer.alloc(0) },
  { name: 'undecodable request', path: '/etcdserverpb.KV/Range', request: Buffer.from([0xff, 0xff, 0xff]) },
];

const CALL_DEADLINE_MS = 5_000;
const group = new ProcessGroup();
const sides = new SideBySide<string[]>(group);

async function rawCall(client: Client, call: RawCall): Promise<string> {
  return new Promise((resolve) => {
    const identity = (b: Buffer): Buffer => b;
    client.makeUnaryRequest(call.path, identity, identity, call.request, { deadline: new Date(Date.now() + CALL_DEADLINE_MS) }, (err, res) => {
      resolve(err ? JSON.stringify({ code: err.code, details: err.details }) : `ok ${res?.toString('hex') ?? ''}`);
    });
  });
}

beforeAll(async () => {
  await sides.run(async (member) => {
    const client = new Client(member.endpoint, credentials.createInsecure());
    try {
      const list: string[] = [];
      for (const call of CALLS) list.push(await rawCall(client, call));
      return list;
    } finally {
      client.close();
    }
  });
}, 60_000);

afterAll(async () => group.cleanup());

describe(`gRPC surface: etcd 3.4 vs ${SUBJECT}`, () => {
  const { matching, known } = splitKnown(CALLS.map((c, i) => [c.name, i] as const), ([name]) => name);
  const compare = (_name: string, i: number): void => expect(sides.get('subject')[i]).toEqual(sides.get('oracle')[i]);
  test.each(matching)('%s', compare);
  if (known.length > 0) test.failing.each(known)('%s (known difference, harness/known-differences.ts)', compare);
});
