/**
 * Goal: reading history while it is being compacted never returns a partial or wrong snapshot — a range at an old
 * revision answers either exactly what it answered before the compaction or "required revision has been compacted".
 * Method: against etcd 3.4 (proving the test) and then Corvid. Write KEYS keys VERSIONS times each, record the range
 * of the prefix at SAMPLES revisions, then compact (physical) at a recent revision while readers keep ranging at the
 * sampled revisions; every answer must be its recorded snapshot or the compacted error. Afterwards revisions below
 * the compaction point are compacted and the others still give their snapshots.
 */
import { etcdserverpb } from '@corvid/proto';
import { bytes, kvClient, outcome, type KvApi } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';

const KEYS = 100;
const VERSIONS = 30;
const SAMPLES = 24;
const READERS = 4;
const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

const view = (r: etcdserverpb.RangeResponse): string => r.kvs.map((k) => `${k.key.toString()}=${k.value.toString()}@${k.modRevision}/${k.version}`).join(',');

async function rangeAt(kv: KvApi, revision: number): Promise<string> {
  const res = await outcome(kv.range({ key: bytes('h/'), rangeEnd: bytes('h0'), revision: BigInt(revision) }));
  return res.ok ? view(res.value) : res.details;
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('reads during compaction on %s', (kind: MemberKind) => {
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

  test('every answer is the recorded snapshot or "compacted"', async () => {
    let last = 0;
    for (let v = 0; v < VERSIONS; v++) {
      await Promise.all(Array.from({ length: KEYS }, async (_, k) => {
        const res = await kv.put({ key: bytes(`h/${String(k).padStart(3, '0')}`), value: bytes(`v${v}`) });
        last = Math.max(last, Number(res.header?.revision));
      }));
    }
    const revisions = Array.from({ length: SAMPLES }, (_, i) => 2 + Math.floor(((last - 2) * i) / (SAMPLES - 1)));
    const snapshots = new Map<number, string>();
    for (const r of revisions) snapshots.set(r, await rangeAt(kv, r));
    const compactAt = last - KEYS;

    let compacting = true;
    const seen: Array<{ revision: number; answer: string }> = [];
    const readers = Array.from({ length: READERS }, async (_, id) => {
      for (let i = id; compacting; i++) {
        const revision = revisions[i % revisions.length] ?? 2;
        seen.push({ revision, answer: await rangeAt(kv, revision) });
      }
    });
    const compaction = await outcome(kv.compact({ revision: BigInt(compactAt), physical: true }));
    compacting = false;
    await Promise.all(readers);

    expect(compaction.ok).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
    const wrong = seen.filter((s) => s.answer !== snapshots.get(s.revision) && s.answer !== COMPACTED);
    expect(wrong.map((s) => `rev ${s.revision}: ${s.answer.slice(0, 120)}`)).toEqual([]);
    for (const r of revisions) {
      expect({ r, answer: await rangeAt(kv, r) }).toEqual({ r, answer: r < compactAt ? COMPACTED : snapshots.get(r) });
    }
  }, 60_000);
});
