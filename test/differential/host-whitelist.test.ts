/**
 * Goal: --host-whitelist answers a plain-HTTP request naming another host as etcd 3.4 does (421 and etcd's
 * CVE-2018-5702 text, on /health and on the JSON gateway), serves the listed hosts, and by default ('*') serves any.
 * Method: raw HTTP requests with a chosen Host header to etcd 3.4 and Corvid started with the same flags; the
 * answers (status, content type, body) are compared.
 */
import http from 'node:http';
import { MEMBER_KINDS, ProcessGroup, type MemberKind } from '../harness/processes.js';

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

function request(port: number, host: string, method: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{"key":"YQ=="}' : undefined);
  });
}

async function answers(kind: MemberKind, flags: readonly string[]): Promise<Record<string, unknown>> {
  const member = await group.start(kind, { extraArgs: flags });
  try {
    return {
      listed: (await request(member.port, `127.0.0.1:${member.port}`, 'GET', '/health')).status,
      other: await request(member.port, 'evil.example:2379', 'GET', '/health'),
      gateway: await request(member.port, 'evil.example', 'POST', '/v3/kv/range'),
    };
  } finally {
    await member.stop();
  }
}

test.each([
  ['--host-whitelist example.com,127.0.0.1', ['--host-whitelist', 'example.com,127.0.0.1']],
  ["the default '*'", []],
])('%s: etcd 3.4 and Corvid answer alike', async (_name, flags) => {
  const [etcd, subject] = await Promise.all(MEMBER_KINDS.map((kind) => answers(kind, flags)));
  expect(etcd?.['listed']).toBe(200);
  expect((etcd?.['other'] as { status: number }).status).toBe(flags.length > 0 ? 421 : 200);
  if (flags.length > 0) expect(subject).toEqual(etcd);
  else expect([(subject?.['other'] as { status: number }).status, (subject?.['gateway'] as { status: number }).status]).toEqual([200, 200]);
}, 60_000);
