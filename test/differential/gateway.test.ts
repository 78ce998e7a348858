/**
 * Goal: the JSON gateway on the client URL (/v3/..., DESIGN §1 "HTTP") answers as etcd 3.4's grpc-gateway: the same
 * status codes and the same JSON (int64 as strings, bytes as base64, errors as {error, message, code}).
 * Method: send REQUESTS in order with fetch to a fresh etcd, then a fresh subject (one at a time); compare status and
 * body, with ids masked (and the storage/raft fields of maintenance/status, as in the etcdctl differential).
 */
import { SideBySide } from '../harness/differential.js';
import { maskText, type MaskName } from '../harness/mask.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';

interface GatewayRequest {
  readonly method?: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
  readonly masks?: readonly MaskName[];
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

const REQUESTS: readonly GatewayRequest[] = [
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('foo'), value: b64('bar') }) },
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('foo/a'), value: b64('1'), prev_kv: true }) },
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('foo/a'), value: b64('2'), prev_kv: true }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo') }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo/'), range_end: b64('foo0'), keys_only: true }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), range_end: b64('foo0'), limit: 1, sort_order: 'DESCEND', sort_target: 'MOD' }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), revision: 100 }) },
  { path: '/v3beta/kv/range', body: JSON.stringify({ key: b64('foo'), count_only: true }) },
  {
    path: '/v3/kv/txn',
    body: JSON.stringify({
      compare: [{ key: b64('foo'), target: 'VALUE', result: 'EQUAL', value: b64('bar') }],
      success: [{ request_put: { key: b64('foo'), value: b64('baz') } }, { request_range: { key: b64('foo') } }],
      failure: [{ request_range: { key: b64('foo/a') } }],
    }),
  },
  { path: '/v3/kv/deleterange', body: JSON.stringify({ key: b64('foo/a'), prev_kv: true }) },
  { path: '/v3/kv/compaction', body: JSON.stringify({ revision: '3' }) },
  { path: '/v3/kv/compaction', body: JSON.stringify({ revision: '3' }) },
  { path: '/v3/kv/put', body: JSON.stringify({ key: '' }) },
  { path: '/v3/kv/put', body: 'garbage' },
  { method: 'GET', path: '/v3/kv/range' },
  // JSON edge cases a hand-written gateway gets wrong.
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), unknown_field: 1 }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: 'not base64!' }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), revision: '2' }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), sort_order: 2, sort_target: 'KEY', range_end: b64('fop') }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), keysOnly: true }) },
  { path: '/v3/kv/range', body: '' },
  { path: '/v3/kv/range', body: '{}' },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), limit: 'abc' }) },
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('n'), value: b64('v'), lease: '12345' }) },
  { path: '/v3/maintenance/alarm', body: JSON.stringify({ action: 'GET' }) },
  { path: '/v3/maintenance/hash', body: '{}', masks: ['status'] },
  { path: '/v3/nope', body: '{}' },
  { path: '/v3/maintenance/status', body: '{}', masks: ['status'] },
  { path: '/v3/cluster/member/list', body: '{}' },
];

const group = new ProcessGroup();
const sides = new SideBySide<string[]>(group);

beforeAll(async () => {
  await sides.run(async (member) => {
    const list: string[] = [];
    for (const req of REQUESTS) {
      const init: RequestInit = { method: req.method ?? 'POST' };
      if (req.body !== undefined) init.body = req.body;
      const res = await fetch(`${member.clientUrl}${req.path}`, init);
      list.push(`${res.status}\n${maskText(await res.text(), req.masks ?? [])}`);
    }
    return list;
  });
}, 60_000);

afterAll(async () => group.cleanup());

describe(`JSON gateway: etcd 3.4 vs ${SUBJECT}`, () => {
  test.each(REQUESTS.map((r, i) => [i, r.method ?? 'POST', r.path, (r.body ?? '').slice(0, 60)] as const))('%i: %s %s %s', (i) => {
    expect(sides.get('subject')[i]).toEqual(sides.get('oracle')[i]);
  });
});
