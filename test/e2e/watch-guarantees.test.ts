/**
 * Goal: per watcher, events arrive in revision order with no gaps and no duplicates, all events of one revision in
 * one response, under concurrent writers; a watcher resumes from its last revision + 1 after the member is killed
 * and restarted; a watcher 10,000 revisions behind catches up completely, in responses of at most 1,000 revisions
 * (etcd's watchBatchMaxRevs). Proven on etcd 3.4, then run on the subject.
 * Method: watchers of every shape (all keys, prefix, one key, from-key with prev_kv, catch-up from the past) on one
 * stream while writers put, delete and txn; once the all-keys watcher has reached the last acknowledged revision,
 * each watcher's events are compared with the all-keys watcher's, filtered by its interval, and the all-keys
 * watcher's revisions with every acknowledged write (each write is one revision, so they must be contiguous).
 */
import { etcdserverpb, mvccpb } from '@corvid/proto';
import { bytes, kvClient, type KvApi } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { WatchStreamClient } from '../differential/watch-client.js';

const WRITERS = 4;
const OPS_PER_WRITER = 150;
const CATCH_UP_PUTS = 10_000;
const PUT_CONCURRENCY = 64;

interface Ev {
  readonly type: mvccpb.Event_EventType;
  readonly key: string;
  readonly rev: number;
  readonly value: string;
  readonly prev?: string;
}

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

/** The events of `watchId`, in arrival order, and the revisions of each response. */
function eventsOf(stream: WatchStreamClient, watchId: bigint): { events: Ev[]; responses: number[][] } {
  const events: Ev[] = [];
  const responses: number[][] = [];
  for (const r of stream.responses) {
    if (r.watchId !== watchId || r.events.length === 0) continue;
    responses.push(r.events.map((e) => Number(e.kv?.modRevision)));
    for (const e of r.events) {
      const ev: Ev = { type: e.type, key: Buffer.from(e.kv?.key ?? []).toString(), rev: Number(e.kv?.modRevision), value: Buffer.from(e.kv?.value ?? []).toString() };
      events.push(e.prevKv === undefined ? ev : { ...ev, prev: Buffer.from(e.prevKv.value).toString() });
    }
  }
  return { events, responses };
}

/** Order, no duplicates, and each revision inside one response. */
function orderProblems(events: readonly Ev[], responses: readonly number[][]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as Ev;
    const id = `${e.key}@${e.rev}`;
    if (seen.has(id)) problems.push(`duplicate ${id}`);
    seen.add(id);
    if (i > 0 && e.rev < (events[i - 1] as Ev).rev) problems.push(`out of order: ${id} after rev ${(events[i - 1] as Ev).rev}`);
  }
  const revResponse = new Map<number, number>();
  responses.forEach((revs, i) => {
    for (const rev of revs) {
      const at = revResponse.get(rev);
      if (at !== undefined && at !== i) problems.push(`revision ${rev} split across responses ${at} and ${i}`);
      revResponse.set(rev, i);
    }
  });
  return problems;
}

async function currentRevision(kv: KvApi): Promise<number> {
  return Number((await kv.range({ key: bytes('\0') })).header?.revision);
}

async function writer(kv: KvApi, id: number, acked: number[]): Promise<void> {
  for (let n = 0; n < OPS_PER_WRITER; n++) {
    const key = bytes(`p/${id}/${n % 20}`);
    let header: etcdserverpb.ResponseHeader | undefined;
    if (n % 7 === 3) header = (await kv.deleteRange({ key })).header;
    else if (n % 5 === 0) {
      header = (await kv.txn({ success: [
        { request: { $case: 'requestPut', value: { key, value: bytes(`t${id}.${n}`) } } },
        { request: { $case: 'requestPut', value: { key: bytes(`hot/${id}`), value: bytes(`t${id}.${n}`) } } },
      ] })).header;
    } else header = (await kv.put({ key, value: bytes(`v${id}.${n}`) })).header;
    acked.push(Number(header?.revision));
  }
}

const within = (ev: Ev, start: string, end: string | null): boolean => ev.key >= start && (end === null || ev.key < end);

describe.each(MEMBER_KINDS.map((kind) => [kind]))('watch guarantees on %s', (kind: MemberKind) => {
  let member: Member;
  let kv: KvApi;
  beforeAll(async () => {
    member = await group.start(kind);
    kv = kvClient(member.endpoint);
  }, 30_000);
  afterAll(async () => {
    kv.close();
    if (!member.hasExited()) await member.stop();
  });

  test('ordered, gap-free, duplicate-free delivery to every watcher shape under concurrent writers', async () => {
    await kv.put({ key: bytes('p/seed'), value: bytes('0') });
    const start = await currentRevision(kv);
    const stream = new WatchStreamClient(member.endpoint);
    try {
      stream.create({ key: bytes('\0'), rangeEnd: bytes('\0') }); // 0: all keys, from now
      stream.create({ key: bytes('p/'), rangeEnd: bytes('p0') }); // 1: prefix
      stream.create({ key: bytes('hot/2') }); // 2: one key
      stream.create({ key: bytes('p/2'), rangeEnd: bytes('\0'), prevKv: true }); // 3: from-key, prev_kv
      stream.create({ key: bytes('\0'), rangeEnd: bytes('\0'), startRevision: 2n }); // 4: catch-up from the past
      await stream.waitFor(5);
      const acked: number[] = [];
      await Promise.all(Array.from({ length: WRITERS }, (_, id) => writer(kv, id, acked)));
      const last = await currentRevision(kv);
      await waitFor(() => eventsOf(stream, 0n).events.at(-1)?.rev === last && eventsOf(stream, 4n).events.at(-1)?.rev === last, 20_000, 'the all-keys watchers to reach the last revision');
      const all = eventsOf(stream, 0n);
      expect(orderProblems(all.events, all.responses)).toEqual([]);
      const revs = [...new Set(all.events.map((e) => e.rev))];
      expect(revs).toEqual(Array.from({ length: last - start }, (_, i) => start + 1 + i));
      expect(acked.every((rev) => revs.includes(rev))).toBe(true);
      const shapes: Array<[bigint, string, string | null]> = [[1n, 'p/', 'p0'], [2n, 'hot/2', 'hot/2\0'], [3n, 'p/2', null]];
      for (const [id, from, to] of shapes) {
        const mine = eventsOf(stream, id);
        expect(orderProblems(mine.events, mine.responses)).toEqual([]);
        expect(mine.events.map(({ prev: _p, ...e }) => e)).toEqual(all.events.filter((e) => within(e, from, to)));
      }
      // prev_kv: every event on a key that existed before carries its previous value.
      const withPrev = eventsOf(stream, 3n).events;
      expect(withPrev.filter((e) => e.type === mvccpb.Event_EventType.DELETE).every((e) => e.prev !== undefined)).toBe(true);
      const past = eventsOf(stream, 4n);
      expect(orderProblems(past.events, past.responses)).toEqual([]);
      expect(past.events.filter((e) => e.rev > start)).toEqual(all.events);
      expect(new Set(past.events.map((e) => e.rev)).size).toBe(last - 1);
    } finally {
      stream.close();
    }
  }, 90_000);

  test('a watcher resumes from its last revision + 1 after a SIGKILL and restart', async () => {
    const stream = new WatchStreamClient(member.endpoint);
    stream.create({ key: bytes('r/'), rangeEnd: bytes('r0') });
    await stream.waitFor(1);
    for (let i = 0; i < 50; i++) await kv.put({ key: bytes(`r/${i % 10}`), value: bytes(`a${i}`) });
    const before = await currentRevision(kv);
    await waitFor(() => eventsOf(stream, 0n).events.at(-1)?.rev === before, 10_000, 'events before the kill');
    const seen = eventsOf(stream, 0n).events;
    stream.close();
    kv.close();
    await member.kill();
    member = await group.restart(member);
    kv = kvClient(member.endpoint);
    for (let i = 0; i < 30; i++) await kv.put({ key: bytes(`r/${i % 10}`), value: bytes(`b${i}`) });
    const resumed = new WatchStreamClient(member.endpoint);
    const reference = new WatchStreamClient(member.endpoint);
    try {
      const lastSeen = (seen.at(-1) as Ev).rev;
      resumed.create({ key: bytes('r/'), rangeEnd: bytes('r0'), startRevision: BigInt(lastSeen + 1) });
      reference.create({ key: bytes('r/'), rangeEnd: bytes('r0'), startRevision: BigInt((seen[0] as Ev).rev) });
      const after = await currentRevision(kv);
      await waitFor(() => eventsOf(resumed, 0n).events.at(-1)?.rev === after && eventsOf(reference, 0n).events.at(-1)?.rev === after, 10_000, 'resumed events');
      const joined = [...seen, ...eventsOf(resumed, 0n).events];
      expect(orderProblems(joined, [])).toEqual([]);
      expect(joined).toEqual(eventsOf(reference, 0n).events);
      expect(eventsOf(resumed, 0n).events).toHaveLength(30);
    } finally {
      resumed.close();
      reference.close();
    }
  }, 60_000);

  test(`a watcher ${CATCH_UP_PUTS} revisions behind catches up in order, at most 1,000 revisions per response`, async () => {
    const start = await currentRevision(kv);
    let next = 0;
    await Promise.all(Array.from({ length: PUT_CONCURRENCY }, async () => {
      while (next < CATCH_UP_PUTS) {
        const i = next++;
        await kv.put({ key: bytes(`c/${String(i).padStart(5, '0')}`), value: bytes(`v${i}`) });
      }
    }));
    const last = await currentRevision(kv);
    const stream = new WatchStreamClient(member.endpoint, { grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 } });
    try {
      stream.create({ key: bytes('c/'), rangeEnd: bytes('c0'), startRevision: BigInt(start + 1) });
      await waitFor(() => eventsOf(stream, 0n).events.length >= CATCH_UP_PUTS, 30_000, 'the catch-up');
      const got = eventsOf(stream, 0n);
      expect(orderProblems(got.events, got.responses)).toEqual([]);
      expect(got.events.map((e) => e.rev)).toEqual(Array.from({ length: last - start }, (_, i) => start + 1 + i));
      expect(Math.max(...got.responses.map((revs) => new Set(revs).size))).toBeLessThanOrEqual(1000);
      expect(stream.responses.filter((r) => r.events.length > 0).every((r) => Number(r.header?.revision) === last)).toBe(true);
    } finally {
      stream.close();
    }
  }, 120_000);
});
