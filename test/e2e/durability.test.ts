/**
 * Goal: an acknowledged write survives a crash. Every put the member acknowledged before SIGKILL is there after a
 * restart on the same data dir, with its value and with the mod_revision the PutResponse header gave; so is the
 * last write of a burst when the kill comes right after its acknowledgement.
 * Method: run against etcd 3.4 (proving the test) and then Corvid. Writers (one per key space, each sequential,
 * several at once) put fresh keys and a hot key until the member is killed with SIGKILL mid-stream once
 * ACK_TARGET puts are acknowledged; restart on the same data dir and read everything back. Then a burst of
 * concurrent puts, SIGKILL as soon as all are acknowledged, restart, read back.
 */
import { bytes, kvClient, outcome, type KvApi } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const WRITERS = 8;
const ACK_TARGET = 2_000;
/** Kill anyway after this long, so a slow member still gets a mid-stream crash (with fewer acknowledged puts). */
const WRITE_PHASE_DEADLINE_MS = 20_000;
const MIN_ACKS = 100;
const BURST = 300;
const CYCLES = 3;
const CYCLE_ACKS = 300;

interface Ack {
  readonly value: string;
  readonly revision: number;
}

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

/** Writes `d/<writer>/<n>` = `v<writer>.<n>` and overwrites `hot/<writer>` until a put fails. */
async function writer(kv: KvApi, id: number, acks: Map<string, Ack>, hot: Map<string, { acked?: Ack; inFlight?: string }>): Promise<void> {
  for (let n = 0; ; n++) {
    const key = `d/${id}/${String(n).padStart(6, '0')}`;
    const value = `v${id}.${n}`;
    const res = await outcome(kv.put({ key: bytes(key), value: bytes(value) }));
    if (!res.ok) return;
    acks.set(key, { value, revision: Number(res.value.header?.revision) });
    const hotKey = `hot/${id}`;
    hot.set(hotKey, { ...hot.get(hotKey), inFlight: value });
    const hotRes = await outcome(kv.put({ key: bytes(hotKey), value: bytes(value) }));
    if (!hotRes.ok) return;
    hot.set(hotKey, { acked: { value, revision: Number(hotRes.value.header?.revision) } });
  }
}

async function readPrefix(kv: KvApi, prefix: string): Promise<Map<string, { value: string; mod: number; create: number }>> {
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  const res = await kv.range({ key: bytes(prefix), rangeEnd: end });
  return new Map(res.kvs.map((kv) => [kv.key.toString(), { value: kv.value.toString(), mod: Number(kv.modRevision), create: Number(kv.createRevision) }]));
}

/** The value writer() puts at `d/<writer>/<n>`; unacknowledged keys that made it must have it too. */
function valueFor(key: string): string {
  const [, id, n] = key.split('/');
  return `v${id ?? '?'}.${Number(n)}`;
}

/** A hot key holds its last acknowledged value at its revision, or the value of the put in flight at the kill. */
function hotProblems(hot: Map<string, { acked?: Ack; inFlight?: string }>, found: Map<string, { value: string; mod: number }>): string[] {
  const problems: string[] = [];
  for (const [key, state] of hot) {
    const got = found.get(key);
    const isAcked = got !== undefined && state.acked !== undefined && got.value === state.acked.value && got.mod === state.acked.revision;
    const isInFlight = got !== undefined && got.value === state.inFlight;
    const neverAcked = got === undefined && state.acked === undefined;
    if (!isAcked && !isInFlight && !neverAcked) {
      problems.push(`${key}: acknowledged ${state.acked?.value ?? '-'}@${state.acked?.revision ?? '-'}, in flight ${state.inFlight ?? '-'}, found ${got === undefined ? 'nothing' : `${got.value}@${got.mod}`}`);
    }
  }
  return problems;
}

/** Acknowledged keys that are missing or differ after the restart, as readable lines (empty when durable). */
function lost(acks: Map<string, Ack>, found: Map<string, { value: string; mod: number }>): string[] {
  const problems: string[] = [];
  for (const [key, ack] of acks) {
    const got = found.get(key);
    if (got === undefined) problems.push(`${key}: acknowledged at revision ${ack.revision}, missing`);
    else if (got.value !== ack.value || got.mod !== ack.revision) {
      problems.push(`${key}: acknowledged ${ack.value}@${ack.revision}, found ${got.value}@${got.mod}`);
    }
  }
  return problems;
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('durability of %s', (kind: MemberKind) => {
  let member: Member;
  let kv: KvApi;

  beforeAll(async () => {
    member = await group.start(kind);
    kv = kvClient(member.endpoint);
  }, 30_000);

  afterAll(async () => {
    kv?.close();
    await member?.stop();
  });

  async function restart(): Promise<void> {
    kv.close();
    member = await group.restart(member);
    kv = kvClient(member.endpoint);
  }

  test('every put acknowledged before a SIGKILL mid-stream is there after restart, at its revision', async () => {
    const acks = new Map<string, Ack>();
    const hot = new Map<string, { acked?: Ack; inFlight?: string }>();
    const writers = Array.from({ length: WRITERS }, async (_, id) => writer(kv, id, acks, hot));
    await waitFor(() => acks.size >= ACK_TARGET, WRITE_PHASE_DEADLINE_MS, `${ACK_TARGET} acknowledged puts`).catch(() => undefined);
    await member.kill();
    await Promise.all(writers);
    expect(acks.size).toBeGreaterThanOrEqual(MIN_ACKS);
    const revisions = [...acks.values()].map((a) => a.revision);
    expect(new Set(revisions).size).toBe(revisions.length);

    await restart();
    const found = await readPrefix(kv, 'd/');
    expect(lost(acks, found)).toEqual([]);
    expect([...found].filter(([key, got]) => got.value !== valueFor(key))).toEqual([]);
    expect(hotProblems(hot, await readPrefix(kv, 'hot/'))).toEqual([]);
    const header = (await kv.range({ key: bytes('d/') })).header;
    expect(Number(header?.revision)).toBeGreaterThanOrEqual(Math.max(...revisions));
  }, 60_000);

  test('the last put of a burst survives a SIGKILL right after it is acknowledged', async () => {
    const acks = new Map<string, Ack>();
    await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const key = `b/${String(i).padStart(4, '0')}`;
        const res = await kv.put({ key: bytes(key), value: bytes(`burst-${i}`) });
        acks.set(key, { value: `burst-${i}`, revision: Number(res.header?.revision) });
      }),
    );
    const last = await kv.put({ key: bytes('last'), value: bytes('written just before the kill') });
    await member.kill();
    acks.set('last', { value: 'written just before the kill', revision: Number(last.header?.revision) });

    await restart();
    const found = new Map([...(await readPrefix(kv, 'b/')), ...(await readPrefix(kv, 'last'))]);
    expect(lost(acks, found)).toEqual([]);
    expect(Number((await kv.range({ key: bytes('last') })).header?.revision)).toBe(Number(last.header?.revision));
  }, 60_000);

  test('compaction survives a SIGKILL: the compacted revision stays compacted, the data at it stays readable', async () => {
    const first = await kv.put({ key: bytes('c/key'), value: bytes('old') });
    const compactAt = Number(first.header?.revision) + 1;
    await kv.put({ key: bytes('c/key'), value: bytes('new') });
    await kv.put({ key: bytes('c/other'), value: bytes('x') });
    await kv.compact({ revision: BigInt(compactAt), physical: true });
    await member.kill();

    await restart();
    const before = await outcome(kv.range({ key: bytes('c/key'), revision: BigInt(compactAt - 1) }));
    expect(before.ok ? 'ok' : before.details).toBe('etcdserver: mvcc: required revision has been compacted');
    const at = await kv.range({ key: bytes('c/key'), revision: BigInt(compactAt) });
    expect(at.kvs.map((k) => k.value.toString())).toEqual(['new']);
    const again = await outcome(kv.compact({ revision: BigInt(compactAt) }));
    expect(again.ok ? 'ok' : again.details).toBe('etcdserver: mvcc: required revision has been compacted');
  }, 60_000);

  test('SIGTERM stops the member cleanly; a restart has every key and the same revision', async () => {
    const last = await kv.put({ key: bytes('term/key'), value: bytes('before SIGTERM') });
    // Exit status is not compared: etcd re-raises SIGTERM after its cleanup (dies by the signal), Corvid exits 0.
    expect(await member.stop()).toBe(true);

    await restart();
    const res = await kv.range({ key: bytes('term/key') });
    expect(res.kvs.map((k) => [k.value.toString(), Number(k.modRevision)])).toEqual([['before SIGTERM', Number(last.header?.revision)]]);
    expect(Number(res.header?.revision)).toBe(Number(last.header?.revision));
  }, 60_000);

  test(`${CYCLES} crash/restart cycles under load: every acknowledged put of every cycle survives, revisions only grow`, async () => {
    const acks = new Map<string, Ack>();
    let lastRevision = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const cycleAcks = new Map<string, Ack>();
      const writers = Array.from({ length: WRITERS }, async (_, id) => {
        for (let n = 0; ; n++) {
          const key = `cycle/${cycle}/${id}/${n}`;
          const res = await outcome(kv.put({ key: bytes(key), value: bytes(key) }));
          if (!res.ok) return;
          cycleAcks.set(key, { value: key, revision: Number(res.value.header?.revision) });
        }
      });
      await waitFor(() => cycleAcks.size >= CYCLE_ACKS, WRITE_PHASE_DEADLINE_MS, `${CYCLE_ACKS} puts in cycle ${cycle}`).catch(() => undefined);
      await member.kill();
      await Promise.all(writers);
      const revisions = [...cycleAcks.values()].map((a) => a.revision);
      expect(Math.min(...revisions)).toBeGreaterThan(lastRevision);
      lastRevision = Math.max(...revisions);
      for (const [key, ack] of cycleAcks) acks.set(key, ack);
      await restart();
      expect(lost(acks, await readPrefix(kv, 'cycle/'))).toEqual([]);
    }
  }, 90_000);
});

