/**
 * Goal: the Watch service answers exactly as etcd 3.4 does — every field of every WatchResponse — for creates (single
 * key, prefix, from-key, past/future/compacted/negative start revisions, prev_kv, filters, client watch ids and
 * their refusals), cancels, progress requests, events of puts/deletes/txns, and fragmentation.
 * Method: run WATCH_SCRIPT against a fresh etcd, then a fresh subject, over raw gRPC streams. Each step says how many
 * responses it produces (proven on etcd with CORVID_TEST_SUBJECT=etcd); the test waits for that many (deadline, no
 * sleeps), then renders them as JSON with ids and term masked. Responses of one step are ordered by stream and watch
 * id (etcd sends different watchers' responses for one revision in Go map order); each watcher's own order is kept.
 * Extra responses show up in the next step's list, so they fail the comparison too; the script ends with a barrier.
 * GROUPING_SCRIPT checks how a long catch-up is split into responses.
 * ETCDCTL_CASES run `etcdctl watch` (prefix, range, --rev, --prev-kv, -w json, interactive, compacted) and compare
 * its stdout, stderr and exit code; a running watch is read until its case's sentinel value has been printed.
 */
import { spawn } from 'node:child_process';
import { etcdserverpb } from '@corvid/proto';
import { ETCDCTL_BIN } from '../harness/etcdctl.js';
import { SideBySide } from '../harness/differential.js';
import { kvClient, type KvApi } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { renderWatch, WatchStreamClient } from './watch-client.js';

const b = (s: string): Buffer => Buffer.from(s);
const { NOPUT, NODELETE } = etcdserverpb.WatchCreateRequest_FilterType;

interface Ctx {
  readonly kv: KvApi;
  readonly streams: WatchStreamClient[];
  readonly endpoint: string;
}

interface Step {
  readonly name: string;
  /** Responses this step produces, over all streams. */
  readonly expect: number;
  run(ctx: Ctx): Promise<void> | void;
}

const s0 = (ctx: Ctx): WatchStreamClient => ctx.streams[0] as WatchStreamClient;
const put = (key: string, value: string) => async (ctx: Ctx): Promise<void> => {
  await ctx.kv.put({ key: b(key), value: b(value) });
};
const create = (c: etcdserverpb.DeepPartial<etcdserverpb.WatchCreateRequest>, stream = 0) => (ctx: Ctx): void => {
  (ctx.streams[stream] as WatchStreamClient).create(c);
};

/** History before the script: a=1 (2), b=1 (3), a=2 (4), delete b (5), c/x=1 (6), c/y=1 (7). */
async function setup(kv: KvApi): Promise<void> {
  await kv.put({ key: b('a'), value: b('1') });
  await kv.put({ key: b('b'), value: b('1') });
  await kv.put({ key: b('a'), value: b('2') });
  await kv.deleteRange({ key: b('b') });
  await kv.put({ key: b('c/x'), value: b('1') });
  await kv.put({ key: b('c/y'), value: b('1') });
}

export const WATCH_SCRIPT: readonly Step[] = [
  { name: 'create on one key (id 0, header at the current revision)', expect: 1, run: create({ key: b('a') }) },
  { name: 'put: one event', expect: 1, run: put('a', '3') },
  { name: 'create on a prefix with prev_kv', expect: 1, run: create({ key: b('c/'), rangeEnd: b('c0'), prevKv: true }) },
  {
    name: 'txn of three puts: the prefix watcher gets its two in one response, with prev_kv',
    expect: 1,
    run: async (ctx) => {
      await ctx.kv.txn({ success: [
        { request: { $case: 'requestPut', value: { key: b('c/x'), value: b('2') } } },
        { request: { $case: 'requestPut', value: { key: b('c/z'), value: b('1') } } },
        { request: { $case: 'requestPut', value: { key: b('d'), value: b('1') } } },
      ] });
    },
  },
  { name: 'create on every key from revision 2: created, then the whole history in one response', expect: 2, run: create({ key: b(''), rangeEnd: b('\0'), startRevision: 2n }) },
  { name: 'delete a range: deletes with prev_kv on the prefix watcher, plain on the all-keys one', expect: 2, run: async (ctx) => {
    await ctx.kv.deleteRange({ key: b('c/'), rangeEnd: b('c0') });
  } },
  { name: 'create with NOPUT', expect: 1, run: create({ key: b('a'), filters: [NOPUT] }) },
  { name: 'create with NODELETE and a client id', expect: 1, run: create({ key: b('a'), filters: [NODELETE], watchId: 100n }) },
  { name: 'put: the NOPUT watcher hears nothing', expect: 3, run: put('a', '4') },
  { name: 'delete: the NODELETE watcher hears nothing', expect: 3, run: async (ctx) => {
    await ctx.kv.deleteRange({ key: b('a') });
  } },
  { name: 'duplicate client id: created+canceled, id -1, etcd\'s reason', expect: 1, run: create({ key: b('x'), watchId: 100n }) },
  { name: 'empty range: created+canceled, id -1', expect: 1, run: create({ key: b('b'), rangeEnd: b('a') }) },
  { name: 'client id 5', expect: 1, run: create({ key: b('x'), watchId: 5n }) },
  { name: 'two automatic ids skip the taken 5', expect: 2, run: (ctx) => {
    s0(ctx).create({ key: b('y') });
    s0(ctx).create({ key: b('y') });
  } },
  { name: 'cancel 100', expect: 1, run: (ctx) => s0(ctx).cancel(100n) },
  { name: 'cancel an unknown id: no answer; then a progress request (all synced)', expect: 1, run: (ctx) => {
    s0(ctx).cancel(999n);
    s0(ctx).progress();
  } },
  { name: 'an empty request is ignored', expect: 1, run: (ctx) => {
    s0(ctx).send({});
    s0(ctx).progress();
  } },
  { name: 'create in the future (current + 2)', expect: 1, run: async (ctx) => {
    const { header } = await ctx.kv.range({ key: b('f') });
    s0(ctx).create({ key: b('f'), startRevision: (header?.revision ?? 0n) + 2n });
  } },
  { name: 'put at current + 1: the future watcher hears nothing', expect: 1, run: put('f', '1') },
  { name: 'put at current + 2: it hears this one', expect: 2, run: put('f', '2') },
  { name: 'compact at 5', expect: 0, run: async (ctx) => {
    await ctx.kv.compact({ revision: 5n });
  } },
  { name: 'create from 3 (compacted): created, then canceled with compact_revision', expect: 2, run: create({ key: b('a'), startRevision: 3n }) },
  { name: 'create from 5 (the compact revision itself is allowed): catch-up', expect: 2, run: create({ key: b('a'), startRevision: 5n, prevKv: true }) },
  { name: 'create from -3: created, then canceled as compacted', expect: 2, run: create({ key: b('a'), startRevision: -3n }) },
  { name: 'a compacted watcher keeps its id: cancel answers', expect: 1, run: (ctx) => {
    const compacted = s0(ctx).responses.find((r) => r.compactRevision !== 0n);
    s0(ctx).cancel(compacted?.watchId ?? 12345n);
  } },
  { name: 'a second stream numbers its watchers from 0', expect: 1, run: (ctx) => {
    ctx.streams.push(new WatchStreamClient(ctx.endpoint));
    (ctx.streams[1] as WatchStreamClient).create({ key: b('a') });
  } },
  { name: 'put a: both streams', expect: 4, run: put('a', '5') },
  { name: 'barrier: a new watcher on a fresh key hears its put last', expect: 3, run: async (ctx) => {
    s0(ctx).create({ key: b('zz-barrier') });
    await s0(ctx).waitFor(s0(ctx).responses.length + 1);
    await ctx.kv.put({ key: b('zz-barrier'), value: b('1') });
  } },
];

/**
 * Fragmentation. etcd splits at --max-request-bytes + 512 KiB (its grpcOverheadBytes), so with a 64 KiB limit the
 * threshold is 576 KiB: twelve 60,000-byte values caught up in one response (~720 KB) come in two fragments.
 */
export const FRAGMENT_SCRIPT: readonly Step[] = [
  { name: 'twelve puts of 60,000 bytes', expect: 0, run: async (ctx) => {
    for (let i = 0; i < 12; i++) await ctx.kv.put({ key: b(`big/${i}`), value: Buffer.alloc(60_000, 65 + i) });
  } },
  { name: 'fragment watcher from revision 2: created, then fragments', expect: 3, run: create({ key: b('big/'), rangeEnd: b('big0'), startRevision: 2n, fragment: true }) },
  { name: 'the same without fragment: one response', expect: 2, run: create({ key: b('big/'), rangeEnd: b('big0'), startRevision: 2n }) },
  { name: 'a small live update: whole on both', expect: 2, run: put('big/0', 'small') },
];

/** Catch-up grouping: etcd sends at most 1,000 of a watcher's own revisions per response (watchBatchMaxRevs). */
export const GROUPING_SCRIPT: readonly Step[] = [
  { name: '2,100 puts, "one" at every 700th', expect: 0, run: async (ctx) => {
    for (let i = 0; i < 2100; i++) await ctx.kv.put({ key: b(i % 700 === 0 ? 'one' : `g/${i % 7}`), value: b(`${i}`) });
  } },
  { name: 'every key from revision 2 (2,106 revisions): created, then 1,000 + 1,000 + 106', expect: 4, run: create({ key: b('\0'), rangeEnd: b('\0'), startRevision: 2n }) },
  { name: '"one" from revision 2: its three events in one response', expect: 2, run: create({ key: b('one'), startRevision: 2n }) },
];

interface EtcdctlCase {
  readonly name: string;
  readonly args: (rev: number) => string[];
  /** A put the watch must print: the case ends once its value is in stdout. Absent: etcdctl exits by itself. */
  readonly sentinel?: string;
  readonly stdin?: string;
  /** Wait for this in stdout before the sentinel put (so -w json's grouping of responses does not race the put). */
  readonly ready?: string;
}

/** After setup: w/a=1 (2), w/b=1 (3), w/a=2 (4), delete w/a (5), x=1 (6); `rev` is the current revision + 1. */
export const ETCDCTL_CASES: readonly EtcdctlCase[] = [
  { name: 'watch --prefix --rev=2 --prev-kv w/', args: () => ['watch', '--prefix', '--rev=2', '--prev-kv', 'w/'], sentinel: 'w/end' },
  { name: 'watch w/a w/c --rev=2 (a range)', args: () => ['watch', '--rev=2', 'w/a', 'w/c'], sentinel: 'w/b' },
  { name: 'watch from now on one key', args: (rev) => ['watch', `--rev=${rev}`, 'w/live'], sentinel: 'w/live' },
  { name: '-w json watch --prefix --rev=2', args: () => ['-w', 'json', 'watch', '--prefix', '--rev=2', 'w/'], sentinel: 'w/end', ready: '"Events"' },
  { name: 'watch -i (interactive)', args: () => ['watch', '-i'], stdin: 'watch --prefix --rev=3 w/\n', sentinel: 'w/end' },
  { name: 'watch --rev=1 after compaction at 3: canceled', args: () => ['watch', '--rev=1', 'w/a'] },
];

function etcdctlWatch(endpoint: string, c: EtcdctlCase, rev: number, value: string): { stdout: () => string; finished: Promise<string> } {
  const args = c.args(rev);
  const child = spawn(ETCDCTL_BIN, ['--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let code: number | null = null;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.on('exit', (exitCode) => (code = exitCode));
  if (c.stdin !== undefined) child.stdin.write(c.stdin);
  const done = (): boolean => code !== null || stdout.includes(value) || stdout.includes(Buffer.from(value).toString('base64'));
  const finished = (async (): Promise<string> => {
    try {
      await waitFor(done, 10_000, `etcdctl ${args.join(' ')}`);
    } finally {
      if (code === null) child.kill('SIGKILL');
    }
    const masked = stdout.replace(/"(cluster_id|member_id)":\d+/g, '"$1":"<id>"').replace(/"raft_term":\d+/g, '"raft_term":"<term>"');
    return `exit ${code ?? 'running'}\nstdout:\n${masked}\nstderr:\n${stderr}`;
  })();
  return { stdout: () => stdout, finished };
}

async function runEtcdctl(endpoint: string): Promise<string[]> {
  const kv = kvClient(endpoint);
  try {
    for (const [k, v] of [['w/a', '1'], ['w/b', '1'], ['w/a', '2']] as const) await kv.put({ key: b(k), value: b(v) });
    await kv.deleteRange({ key: b('w/a') });
    await kv.put({ key: b('x'), value: b('1') });
    const out: string[] = [];
    for (const c of ETCDCTL_CASES) {
      const rev = Number((await kv.range({ key: b('x') })).header?.revision) + 1;
      if (c.sentinel === undefined) await kv.compact({ revision: 3n });
      const value = `END-${out.length}`;
      const running = etcdctlWatch(endpoint, c, rev, value);
      const ready = c.ready;
      if (ready !== undefined) await waitFor(() => running.stdout().includes(ready), 10_000, `etcdctl to print ${ready}`);
      if (c.sentinel !== undefined) await kv.put({ key: b(c.sentinel), value: b(value) });
      out.push(await running.finished);
    }
    return out;
  } finally {
    kv.close();
  }
}

async function runScript(endpoint: string, steps: readonly Step[]): Promise<string[]> {
  const kv = kvClient(endpoint);
  const ctx: Ctx = { kv, streams: [new WatchStreamClient(endpoint)], endpoint };
  const total = (): number => ctx.streams.reduce((n, s) => n + s.responses.length, 0);
  try {
    await setup(kv);
    const out: string[] = [];
    let seen = 0;
    for (const step of steps) {
      const before = ctx.streams.map((s) => s.responses.length);
      await step.run(ctx);
      seen += step.expect;
      await waitForTotal(total, seen);
      const got = ctx.streams.flatMap((s, i) => s.responses.slice(before[i] ?? 0).map((r) => ({ stream: i, r })));
      got.sort((x, y) => x.stream - y.stream || Number(x.r.watchId - y.r.watchId));
      out.push(got.map(({ stream, r }) => `s${stream} ${renderWatch(r)}`).join('\n'));
    }
    return out;
  } finally {
    for (const s of ctx.streams) s.close();
    kv.close();
  }
}

async function waitForTotal(total: () => number, count: number): Promise<void> {
    await waitFor(() => total() >= count, 10_000, `${count} watch responses (have ${total()})`);
}

const group = new ProcessGroup();
const main = new SideBySide<string[]>(group);
const fragments = new SideBySide<string[]>(group, { maxRequestBytes: 65536 });
const etcdctlSides = new SideBySide<string[]>(group);
const grouping = new SideBySide<string[]>(group);

beforeAll(async () => {
  await main.run((member) => runScript(member.endpoint, WATCH_SCRIPT));
  await fragments.run((member) => runScript(member.endpoint, FRAGMENT_SCRIPT));
  await etcdctlSides.run((member) => runEtcdctl(member.endpoint));
  await grouping.run((member) => runScript(member.endpoint, GROUPING_SCRIPT));
}, 300_000);

afterAll(async () => group.cleanup());

describe(`Watch over raw gRPC: etcd 3.4 vs ${SUBJECT}`, () => {
  test.each(WATCH_SCRIPT.map((step, i) => [i, step.name] as const))('step %i: %s', (i) => {
    expect(main.get('subject')[i]).toEqual(main.get('oracle')[i]);
  });
});

describe(`Watch fragments (--max-request-bytes 65536): etcd 3.4 vs ${SUBJECT}`, () => {
  test.each(FRAGMENT_SCRIPT.map((step, i) => [i, step.name] as const))('step %i: %s', (i) => {
    expect(fragments.get('subject')[i]).toEqual(fragments.get('oracle')[i]);
  });
});

describe(`Watch catch-up grouping: etcd 3.4 vs ${SUBJECT}`, () => {
  test.each(GROUPING_SCRIPT.map((step, i) => [i, step.name] as const))('step %i: %s', (i) => {
    expect(grouping.get('subject')[i]).toEqual(grouping.get('oracle')[i]);
  });
});

describe(`etcdctl watch: etcd 3.4 vs ${SUBJECT}`, () => {
  test.each(ETCDCTL_CASES.map((c, i) => [i, c.name] as const))('case %i: %s', (i) => {
    expect(etcdctlSides.get('subject')[i]).toEqual(etcdctlSides.get('oracle')[i]);
  });
});
