/**
 * Goal: big and binary data go through Corvid as through etcd 3.4 with default limits: 1 MiB values (one sent by
 * etcdctl from stdin), a 6 MiB range answer (above gRPC's usual 4 MiB receive default, which etcdctl lifts),
 * requests around the default --max-request-bytes (1.5 MiB), long keys, and keys and values with every byte value.
 * Method: the same steps against etcd, then the subject (one at a time); large outputs are compared by length and
 * SHA-256, everything else as text.
 */
import { createHash } from 'node:crypto';
import { SideBySide } from '../harness/differential.js';
import { splitKnown } from '../harness/known-differences.js';
import { etcdctl } from '../harness/etcdctl.js';
import { maskText } from '../harness/mask.js';
import { errorOf, kvClient, outcome, type KvApi } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';

const MIB = 1024 * 1024;
const DEFAULT_MAX_REQUEST_BYTES = 1.5 * MIB;
const BIG_VALUES = 6;
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const digest = (text: string | Buffer): string => `${text.length} bytes, sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
const bigValue = (i: number): Buffer => Buffer.alloc(MIB, String.fromCharCode(97 + i));

interface Step {
  readonly name: string;
  readonly run: (member: Member, kv: KvApi) => Promise<string>;
}

const STEPS: readonly Step[] = [
  {
    name: 'etcdctl put of a 1 MiB value from stdin',
    run: async (m) => {
      const r = await etcdctl(m.endpoint, ['put', 'big/0'], bigValue(0).toString());
      return `${r.code} ${r.stdout}${maskText(r.stderr, [])}`;
    },
  },
  {
    name: `${BIG_VALUES - 1} more 1 MiB puts over gRPC`,
    run: async (_m, kv) => {
      const revisions: string[] = [];
      for (let i = 1; i < BIG_VALUES; i++) revisions.push(String((await kv.put({ key: Buffer.from(`big/${i}`), value: bigValue(i) })).header?.revision));
      return revisions.join(',');
    },
  },
  {
    name: 'etcdctl get of 6 MiB (simple)',
    run: async (m) => {
      const r = await etcdctl(m.endpoint, ['get', 'big/', '--prefix']);
      return `${r.code} ${digest(r.stdout)} ${maskText(r.stderr, [])}`;
    },
  },
  {
    name: 'etcdctl get of 6 MiB (-w json, ids masked)',
    run: async (m) => {
      const r = await etcdctl(m.endpoint, ['get', 'big/', '--prefix', '-w', 'json']);
      return `${r.code} ${digest(maskText(r.stdout, []))} ${maskText(r.stderr, [])}`;
    },
  },
  {
    name: 'gRPC range of 6 MiB with no receive limit',
    run: async (_m, kv) => {
      const r = await kv.range({ key: Buffer.from('big/'), rangeEnd: Buffer.from('big0') });
      return `${r.kvs.length} kvs, ${digest(Buffer.concat(r.kvs.map((k) => k.value)))}, count ${r.count}`;
    },
  },
  { name: 'put just under the default request limit', run: async (_m, kv) => JSON.stringify(errorOf(await outcome(kv.put({ key: Buffer.from('limit/under'), value: Buffer.alloc(DEFAULT_MAX_REQUEST_BYTES - 128, 'u') })))) },
  { name: 'put just over the default request limit', run: async (_m, kv) => JSON.stringify(errorOf(await outcome(kv.put({ key: Buffer.from('limit/over'), value: Buffer.alloc(DEFAULT_MAX_REQUEST_BYTES + 1, 'o') })))) },
  ...[3000, 100_000].map((length): Step => ({
    name: `a ${length}-byte key round-trips`,
    run: async (_m, kv) => {
      const key = Buffer.alloc(length, 'k');
      const put = errorOf(await outcome(kv.put({ key, value: Buffer.from('long') })));
      const r = await kv.range({ key });
      return `put ${JSON.stringify(put)}; range ${r.kvs.length} ${r.kvs[0]?.key.equals(key) === true} ${r.kvs[0]?.value.toString() ?? ''}`;
    },
  })),
  {
    name: 'keys and values with every byte value round-trip',
    run: async (_m, kv) => {
      const keys = [Buffer.concat([Buffer.from('bin/'), ALL_BYTES]), Buffer.from('bin/ключ-🔑'), Buffer.from([0x62, 0x69, 0x6e, 0x2f, 0xff, 0xfe, 0x00])];
      for (const key of keys) await kv.put({ key, value: ALL_BYTES });
      const r = await kv.range({ key: Buffer.from('bin/'), rangeEnd: Buffer.from('bin0') });
      return r.kvs.map((k) => `${k.key.toString('hex')}=${k.value.equals(ALL_BYTES)}`).join('\n');
    },
  },
  {
    name: 'etcdctl get --hex of binary keys',
    run: async (m) => {
      const r = await etcdctl(m.endpoint, ['get', 'bin/', '--prefix', '--keys-only', '--hex']);
      return `${r.code}\n${r.stdout}${maskText(r.stderr, [])}`;
    },
  },
];

const group = new ProcessGroup();
const sides = new SideBySide<string[]>(group);

beforeAll(async () => {
  await sides.run(async (member) => {
    const kv = kvClient(member.endpoint, { 'grpc.max_receive_message_length': -1 });
    try {
      const list: string[] = [];
      for (const step of STEPS) list.push(await step.run(member, kv).catch((err: unknown) => `threw: ${(err as Error).message}`));
      return list;
    } finally {
      kv.close();
    }
  });
}, 120_000);

afterAll(async () => group.cleanup());

describe(`large and binary data: etcd 3.4 vs ${SUBJECT}`, () => {
  const { matching, known } = splitKnown(STEPS.map((s, i) => [s.name, i] as const), ([name]) => name);
  const compare = (_name: string, i: number): void => expect(sides.get('subject')[i]).toEqual(sides.get('oracle')[i]);
  test.each(matching)('%s', compare);
  if (known.length > 0) test.failing.each(known)('%s (known difference, harness/known-differences.ts)', compare);
});
