/**
 * Goal: paginated lists at a fixed revision — how kube-apiserver lists (limit + continue key + the first page's
 * revision) — are consistent while other clients write, and fail with "compacted" once that revision is compacted
 * away (the apiserver's 410 Gone).
 * Method: against etcd 3.4 (proving the test) and then Corvid. Put KEYS keys, then page through the prefix with
 * PAGE-sized ranges at the first page's revision while a writer updates, deletes and creates keys in it; the pages
 * joined must equal one range at that revision, `more`/`count` must say what is left; then compact past that revision
 * and ask for the next page.
 */
import { etcdserverpb } from '@corvid/proto';
import { bytes, kvClient, outcome, type KvApi } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';

const KEYS = 250;
const PAGE = 40;
const PREFIX = 'kube/pods/';
const PREFIX_END = 'kube/pods0';

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

const podKey = (i: number): string => `${PREFIX}pod-${String(i).padStart(4, '0')}`;
const view = (kvs: etcdserverpb.RangeResponse['kvs']): string[] => kvs.map((k) => `${k.key.toString()}=${k.value.toString()}@${k.modRevision}`);

/** Writes into the listed prefix until `stop()`: updates, deletes and creations, one at a time. */
function churn(kv: KvApi): { stop: () => Promise<number> } {
  let running = true;
  let writes = 0;
  const task = (async () => {
    for (let i = 0; running; i++) {
      const n = (i * 37) % KEYS;
      if (i % 3 === 0) await kv.deleteRange({ key: bytes(podKey(n)) });
      else await kv.put({ key: bytes(i % 3 === 1 ? podKey(n) : podKey(KEYS + i)), value: bytes(`churn-${i}`) });
      writes++;
    }
  })();
  return { stop: async () => { running = false; await task; return writes; } };
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('paginated lists on %s', (kind: MemberKind) => {
  let member: Member | undefined;
  let kv: KvApi;

  beforeAll(async () => {
    member = await group.start(kind);
    kv = kvClient(member.endpoint);
  }, 30_000);

  afterAll(async () => {
    kv?.close();
    await member?.stop();
  });

  test('pages at one revision under concurrent writes equal one range at it; then compacted', async () => {
    for (let i = 0; i < KEYS; i++) await kv.put({ key: bytes(podKey(i)), value: bytes(`v${i}`) });
    const first = await kv.range({ key: bytes(PREFIX), rangeEnd: bytes(PREFIX_END), limit: BigInt(PAGE) });
    const listRevision = first.header?.revision ?? 0n;
    const writer = churn(kv);
    const pages = [first];
    let next = first;
    while (next.more) {
      const last = next.kvs[next.kvs.length - 1]?.key ?? Buffer.alloc(0);
      next = await kv.range({ key: Buffer.concat([last, Buffer.from([0])]), rangeEnd: bytes(PREFIX_END), limit: BigInt(PAGE), revision: listRevision });
      pages.push(next);
    }
    const writes = await writer.stop();

    const whole = await kv.range({ key: bytes(PREFIX), rangeEnd: bytes(PREFIX_END), revision: listRevision });
    expect(pages.flatMap((p) => view(p.kvs))).toEqual(view(whole.kvs));
    expect(whole.kvs).toHaveLength(KEYS);
    expect(pages).toHaveLength(Math.ceil(KEYS / PAGE));
    expect(pages.map((p) => Number(p.count))).toEqual(pages.map((_, i) => KEYS - i * PAGE));
    expect(pages.slice(1).every((p) => p.header?.revision !== undefined && p.header.revision >= listRevision)).toBe(true);
    expect(writes).toBeGreaterThan(0);

    const now = (await kv.range({ key: bytes(PREFIX) })).header?.revision ?? 0n;
    await kv.compact({ revision: now });
    const stale = await outcome(kv.range({ key: bytes(podKey(100)), rangeEnd: bytes(PREFIX_END), limit: BigInt(PAGE), revision: listRevision }));
    expect(stale.ok ? 'ok' : stale.details).toBe('etcdserver: mvcc: required revision has been compacted');
  }, 60_000);
});
