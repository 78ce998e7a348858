/**
 * Goal: no read observes a write that a crash then loses. A member may apply a batch before it is durable only if
 * nobody can see it: once any client has read a key at a revision, that key and that revision survive SIGKILL.
 * Method: against etcd 3.4 (proving the test) and then Corvid. Writers put fresh keys; readers keep reading the
 * key each writer has in flight (sent, not yet acknowledged) and record what they see and each answer's header
 * revision. SIGKILL mid-stream, restart on the same data dir: every observed key is there with the observed
 * mod_revision and value, and the store's revision is at least the highest revision any read reported.
 * (SIGKILL keeps the OS page cache, so this catches acknowledging or exposing data before the member has written
 * it, not a missing fsync.)
 */
import { bytes, kvClient, outcome, type KvApi } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const WRITERS = 4;
const READERS = 4;
const OBSERVED_TARGET = 300;
const PHASE_DEADLINE_MS = 20_000;

interface Seen {
  readonly value: string;
  readonly mod: number;
}

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

const keyOf = (writer: number, n: number): string => `w/${writer}/${String(n).padStart(6, '0')}`;

describe.each(MEMBER_KINDS.map((kind) => [kind]))('reads across a crash on %s', (kind: MemberKind) => {
  let member: Member | undefined;

  afterAll(async () => member?.stop());

  test('every key a read observed survives SIGKILL at the observed revision', async () => {
    member = await group.start(kind);
    // Readers on their own connections (a local subchannel pool stops grpc-js from sharing one with the writers).
    const kv = kvClient(member.endpoint);
    const readerKv = kvClient(member.endpoint, { 'grpc.use_local_subchannel_pool': 1 });
    const inFlight = new Array<number>(WRITERS).fill(-1);
    const seen = new Map<string, Seen>();
    let maxReadRevision = 0;
    let stopped = false;

    const write = async (id: number): Promise<void> => {
      for (let n = 0; !stopped; n++) {
        inFlight[id] = n;
        if (!(await outcome(kv.put({ key: bytes(keyOf(id, n)), value: bytes(`${id}:${n}`) }))).ok) return;
      }
    };
    const read = async (id: number): Promise<void> => {
      for (let i = 0; !stopped; i++) {
        const writer = (id + i) % WRITERS;
        const res = await outcome(readerKv.range({ key: bytes(keyOf(writer, inFlight[writer] ?? 0)) }));
        if (!res.ok) return;
        maxReadRevision = Math.max(maxReadRevision, Number(res.value.header?.revision));
        for (const found of res.value.kvs) seen.set(found.key.toString(), { value: found.value.toString(), mod: Number(found.modRevision) });
      }
    };

    const tasks = [...Array.from({ length: WRITERS }, async (_, id) => write(id)), ...Array.from({ length: READERS }, async (_, id) => read(id))];
    await waitFor(() => seen.size >= OBSERVED_TARGET, PHASE_DEADLINE_MS, `${OBSERVED_TARGET} observed keys`).catch(() => undefined);
    await member.kill();
    stopped = true;
    await Promise.all(tasks);
    kv.close();
    readerKv.close();
    expect(seen.size).toBeGreaterThan(0);

    member = await group.restart(member);
    const after = kvClient(member.endpoint);
    try {
      const res = await after.range({ key: bytes('w/'), rangeEnd: bytes('w0') });
      const found = new Map(res.kvs.map((k) => [k.key.toString(), { value: k.value.toString(), mod: Number(k.modRevision) }]));
      const lost = [...seen].filter(([key, s]) => found.get(key)?.value !== s.value || found.get(key)?.mod !== s.mod);
      expect(lost.map(([key, s]) => `${key} read as ${s.value}@${s.mod}, after restart ${JSON.stringify(found.get(key) ?? null)}`)).toEqual([]);
      expect(Number(res.header?.revision)).toBeGreaterThanOrEqual(maxReadRevision);
    } finally {
      after.close();
    }
  }, 60_000);
});
