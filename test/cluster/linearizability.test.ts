/**
 * Goal: the cluster is linearizable under faults. Property: the history of every put, get (linearizable Range) and
 * compare-and-swap (Txn on the value) that concurrent clients ran on a handful of keys, while members were killed
 * and restarted (and, on Corvid, partitioned), has a linearization: checkHistory (harness/linearizability.ts, a
 * Wing–Gong–Lowe search split per key, as Porcupine does it) finds zero violations. A put or CAS that failed may
 * still have happened, so it is kept as possibly applied (returns at +Infinity, output unchecked); a failed get is
 * dropped (reads change nothing).
 * Method: a 3-member cluster; CLIENTS clients, each with connections to every member, moving to the next member on
 * an error; a nemesis cycles through faults (SIGKILL the leader, SIGKILL a follower, and on Corvid isolate the
 * leader or a follower) and undoes each one after the workload has made progress; ops are timed with
 * performance.now(). Runs CORVID_LINEARIZABILITY_SECONDS seconds (default 15); CORVID_LINEARIZABILITY_SEED fixes the
 * clients' choices. The checker itself is tested first on hand-made histories, and then shown to reject the real
 * history with one stale read appended.
 */
import { etcdserverpb } from '@corvid/proto';
import { Cluster, withCluster, type Slot } from '../harness/cluster.js';
import { bytes, kvClient, outcome, type KvApi } from '../harness/grpc.js';
import { checkHistory, type KvInput, type KvOutput, type Operation } from '../harness/linearizability.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const SECONDS = Number(process.env['CORVID_LINEARIZABILITY_SECONDS'] ?? 15);
const SEED = Number(process.env['CORVID_LINEARIZABILITY_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const KEYS = ['lin/a', 'lin/b', 'lin/c', 'lin/d'];
const CLIENTS = 6;
/** Completed operations to wait for while a fault is on, and again after it is undone, before the next one. */
const OPS_PER_PHASE = 150;
const PHASE_DEADLINE_MS = 4_000;
const RECOVER_DEADLINE_MS = 20_000;
const CHECK_DEADLINE_MS_PER_KEY = 20_000;
/** The client id of the final reads, after the faults. */
const FINAL_READER = 99;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

describe('the checker (Wing–Gong–Lowe search over put/get/cas, split per key)', () => {
  const op = (client: number, input: KvInput, invokedMs: number, returnedMs: number, output?: KvOutput): Operation => ({ client, input, invokedMs, returnedMs, output });
  const put = (c: number, key: string, value: string, t0: number, t1: number): Operation => op(c, { kind: 'put', key, value }, t0, t1, { kind: 'put' });
  const get = (c: number, key: string, value: string | null, t0: number, t1: number): Operation => op(c, { kind: 'get', key }, t0, t1, { kind: 'get', value });
  const cas = (c: number, key: string, expected: string | null, value: string, succeeded: boolean, t0: number, t1: number): Operation =>
    op(c, { kind: 'cas', key, expected, value }, t0, t1, { kind: 'cas', succeeded });
  const unknownPut = (c: number, key: string, value: string, t0: number): Operation => op(c, { kind: 'put', key, value }, t0, Infinity);

  test.each<[string, Operation[]]>([
    ['overlapping writes read in either order', [put(0, 'k', 'a', 0, 10), put(1, 'k', 'b', 5, 15), get(2, 'k', 'b', 11, 12), get(3, 'k', 'a', 6, 13)]],
    ['a read of the initial absence, then CASes from it', [get(0, 'k', null, 0, 1), cas(1, 'k', null, 'x', true, 2, 5), cas(2, 'k', null, 'y', false, 3, 6), get(0, 'k', 'x', 7, 8)]],
    ['a possibly-applied put that took effect late', [unknownPut(0, 'k', 'a', 0), get(1, 'k', null, 5, 6), get(1, 'k', 'a', 50, 51)]],
    ['a possibly-applied put that never took effect', [unknownPut(0, 'k', 'a', 0), put(1, 'k', 'b', 5, 6), get(1, 'k', 'b', 50, 51)]],
    ['two keys, each linearizable', [put(0, 'a', '1', 0, 1), put(0, 'b', '2', 2, 3), get(1, 'a', '1', 4, 5), get(1, 'b', '2', 4, 5)]],
    ['a failed CAS explained only by a possibly-applied put nobody read', [put(0, 'k', 'a', 0, 1), unknownPut(1, 'k', 'x', 2), cas(2, 'k', 'a', 'c', false, 5, 6)]],
    ['a possibly-applied CAS that took effect', [put(0, 'k', 'a', 0, 1), op(1, { kind: 'cas', key: 'k', expected: 'a', value: 'b' }, 2, Infinity), get(2, 'k', 'b', 5, 6)]],
  ])('accepts %s', (_name, history) => {
    expect(checkHistory(history)).toEqual([]);
  });

  test.each<[string, Operation[]]>([
    ['a stale read after an acknowledged write', [put(0, 'k', 'a', 0, 1), put(0, 'k', 'b', 2, 3), get(1, 'k', 'a', 4, 5)]],
    ['a read from the future', [get(1, 'k', 'a', 0, 1), put(0, 'k', 'a', 2, 3)]],
    ['two CASes from the same value both succeeding', [put(0, 'k', 'a', 0, 1), cas(1, 'k', 'a', 'b', true, 2, 5), cas(2, 'k', 'a', 'c', true, 3, 6)]],
    ['a CAS that failed although its expected value was there', [put(0, 'k', 'a', 0, 1), cas(1, 'k', 'a', 'b', false, 2, 3), get(2, 'k', 'a', 4, 5)]],
    ['a possibly-applied put seen, then unseen with no other write', [put(0, 'k', 'a', 0, 1), unknownPut(1, 'k', 'b', 2), get(2, 'k', 'b', 5, 6), get(2, 'k', 'a', 7, 8)]],
  ])('rejects %s', (_name, history) => {
    const verdicts = checkHistory(history);
    expect(verdicts.map((v) => v.result)).toEqual(['violation']);
    expect(verdicts[0]?.detail).toMatch(/cannot linearize c\d/);
  });

  test('splits by key: only the broken key is reported', () => {
    const history = [put(0, 'a', '1', 0, 1), get(1, 'a', '1', 2, 3), put(0, 'b', '1', 0, 1), put(0, 'b', '2', 2, 3), get(1, 'b', '1', 4, 5)];
    expect(checkHistory(history).map((v) => v.key)).toEqual(['b']);
  });

  test('a violation after many possibly-applied puts nobody read is found quickly (not 2^n)', () => {
    const history: Operation[] = [];
    for (let i = 0; i < 200; i++) {
      const t = i * 10;
      history.push(put(0, 'k', `v${i}`, t, t + 2), unknownPut(1 + (i % 7), 'k', `lost${i}`, t + 3), get(9, 'k', i % 3 === 0 ? `v${i}` : null, t + 4, t + 5));
    }
    const reads = history.filter((o) => !(o.output?.kind === 'get' && o.output.value === null));
    expect(checkHistory(reads)).toEqual([]);
    const started = performance.now();
    expect(checkHistory([...reads, get(9, 'k', 'v3', 5_000, 5_001)]).map((v) => v.result)).toEqual(['violation']);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test('a long history with many possibly-applied operations is checked quickly', () => {
    const history: Operation[] = [];
    for (let i = 0; i < 3_000; i++) {
      const t = i * 10;
      if (i % 50 === 7) history.push(unknownPut(i % 5, 'k', `lost${i}`, t));
      else history.push(put(i % 5, 'k', `v${i}`, t, t + 4), get(5, 'k', `v${i}`, t + 5, t + 6));
    }
    const started = performance.now();
    expect(checkHistory(history)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

/** xorshift32: the clients' choices, reproducible from the seed. */
function prng(seed: number): (below: number) => number {
  let x = seed >>> 0 || 1;
  return (below) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % below;
  };
}

/** Runs one operation and records it (a failed get is dropped; a failed put or CAS is possibly applied). */
async function runOp(kv: KvApi, client: number, input: KvInput, history: Operation[]): Promise<boolean> {
  const invokedMs = performance.now();
  let output: KvOutput | undefined;
  if (input.kind === 'get') {
    const res = await outcome(kv.range({ key: bytes(input.key) }));
    if (res.ok) output = { kind: 'get', value: res.value.kvs[0]?.value.toString() ?? null };
  } else if (input.kind === 'put') {
    const res = await outcome(kv.put({ key: bytes(input.key), value: bytes(input.value) }));
    if (res.ok) output = { kind: 'put' };
  } else {
    const { EQUAL } = etcdserverpb.Compare_CompareResult;
    const compare = input.expected === null
      ? { key: bytes(input.key), result: EQUAL, target: etcdserverpb.Compare_CompareTarget.VERSION, targetUnion: { $case: 'version' as const, value: 0n } }
      : { key: bytes(input.key), result: EQUAL, target: etcdserverpb.Compare_CompareTarget.VALUE, targetUnion: { $case: 'value' as const, value: bytes(input.expected) } };
    const res = await outcome(kv.txn({ compare: [compare], success: [{ request: { $case: 'requestPut', value: { key: bytes(input.key), value: bytes(input.value) } } }] }));
    if (res.ok) output = { kind: 'cas', succeeded: res.value.succeeded };
  }
  if (output !== undefined) history.push({ client, input, invokedMs, returnedMs: performance.now(), output });
  else if (input.kind !== 'get') history.push({ client, input, invokedMs, returnedMs: Infinity, output: undefined });
  return output !== undefined;
}

/** One client: random ops on KEYS; CAS expects the value this client last read for the key. */
async function client(id: number, endpoints: readonly string[], history: Operation[], stopped: () => boolean): Promise<void> {
  const random = prng(SEED + id);
  const kvs = endpoints.map((e) => kvClient(e, { 'grpc.use_local_subchannel_pool': 1 }));
  const lastRead = new Map<string, string | null>();
  let member = id % kvs.length;
  try {
    for (let n = 0; !stopped(); n++) {
      const key = KEYS[random(KEYS.length)] as string;
      const dice = random(10);
      const value = `c${id}.${n}`;
      const input: KvInput = dice < 4 ? { kind: 'get', key } : dice < 7 ? { kind: 'put', key, value } : { kind: 'cas', key, expected: lastRead.get(key) ?? null, value };
      const ok = await runOp(kvs[member] as KvApi, id, input, history);
      const last = history[history.length - 1];
      if (ok && last?.output?.kind === 'get') lastRead.set(key, last.output.value);
      if (!ok) member = (member + 1) % kvs.length;
    }
  } finally {
    for (const kv of kvs) kv.close();
  }
}

/**
 * The check has teeth on this very history: appending one read, after everything, of a value an acknowledged put
 * wrote but that the final reads no longer show, must make the key non-linearizable (values are unique per write).
 */
function staleReadIsCaught(history: readonly Operation[]): string {
  const key = KEYS[0] as string;
  const ops = history.filter((o) => o.input.key === key);
  const final = ops.filter((o) => o.client === FINAL_READER).pop()?.output;
  const finalValue = final?.kind === 'get' ? final.value : undefined;
  const overwritten = ops.find((o) => o.input.kind === 'put' && o.output !== undefined && o.input.value !== finalValue);
  if (overwritten?.input.kind !== 'put') return 'no overwritten put to read';
  const end = Math.max(...ops.map((o) => (o.returnedMs === Infinity ? o.invokedMs : o.returnedMs))) + 1;
  const stale: Operation = { client: FINAL_READER + 1, input: { kind: 'get', key }, invokedMs: end, returnedMs: end + 1, output: { kind: 'get', value: overwritten.input.value } };
  return checkHistory([...ops, stale], CHECK_DEADLINE_MS_PER_KEY).map((v) => v.result).join(',') || 'accepted';
}

type Fault = 'kill the leader' | 'kill a follower' | 'isolate the leader' | 'isolate a follower';
const FAULTS: readonly Fault[] = SUBJECT === 'corvid'
  ? ['kill the leader', 'isolate a follower', 'kill a follower', 'isolate the leader']
  : ['kill the leader', 'kill a follower'];

/** Applies a fault (noted in `log` with the victim and the time); returns how to undo it. */
async function inject(cluster: Cluster, fault: Fault, log: string[]): Promise<() => Promise<void>> {
  const leader = await cluster.leader(RECOVER_DEADLINE_MS);
  const victim = fault.endsWith('leader') ? leader : (cluster.slots.find((s) => s !== leader) as Slot);
  log.push(`${performance.now().toFixed(0)} ms: ${fault} (${victim.name})`);
  if (fault.startsWith('kill')) {
    await cluster.kill(victim);
    return async () => cluster.restart(victim);
  }
  await cluster.partition([victim]);
  return async () => cluster.heal();
}

test(`${SUBJECT}: put/get/cas on ${KEYS.length} keys from ${CLIENTS} clients under ${FAULTS.join(', ')} for ${SECONDS} s is linearizable (seed ${SEED})`, async () => {
  await withCluster(group, { kind: SUBJECT, size: 3, faultInjection: true }, async (cluster) => {
    const history: Operation[] = [];
    let stopped = false;
    const clients = Array.from({ length: CLIENTS }, async (_, i) => client(i, cluster.endpoints(), history, () => stopped));
    const progress = async (what: string): Promise<void> => {
      const target = history.filter((o) => o.returnedMs !== Infinity).length + OPS_PER_PHASE;
      // Progress paces the nemesis; a fault under which little completes still ends at the deadline.
      await waitFor(() => history.filter((o) => o.returnedMs !== Infinity).length >= target, PHASE_DEADLINE_MS, what).catch(() => undefined);
    };
    const faultsRun: string[] = [];
    try {
      const endMs = performance.now() + SECONDS * 1_000;
      await progress('warm-up');
      for (let round = 0; performance.now() < endMs; round++) {
        const fault = FAULTS[round % FAULTS.length] as Fault;
        const undo = await inject(cluster, fault, faultsRun);
        await progress(`progress under "${fault}"`);
        await undo();
        faultsRun.push(`${performance.now().toFixed(0)} ms: undone`);
        await cluster.waitReady(RECOVER_DEADLINE_MS);
        await progress(`progress after "${fault}"`);
      }
    } finally {
      stopped = true;
      await Promise.all(clients);
    }
    // A final linearizable read of every key through every member joins the history.
    await cluster.waitReady(RECOVER_DEADLINE_MS);
    expect(cluster.running()).toHaveLength(cluster.slots.length);
    for (const slot of cluster.slots) {
      const kv = kvClient(slot.endpoint);
      for (const key of KEYS) expect(await runOp(kv, FINAL_READER, { kind: 'get', key }, history)).toBe(true);
      kv.close();
    }

    const completed = history.filter((o) => o.returnedMs !== Infinity);
    const unknown = history.length - completed.length;
    expect(faultsRun.length).toBeGreaterThanOrEqual(1);
    expect(completed.filter((o) => o.input.kind === 'put').length).toBeGreaterThan(50);
    expect(completed.filter((o) => o.output?.kind === 'cas' && o.output.succeeded).length).toBeGreaterThan(0);
    const verdicts = checkHistory(history, CHECK_DEADLINE_MS_PER_KEY);
    const summary = `${history.length} operations (${unknown} possibly applied), seed ${SEED}, faults: ${faultsRun.join('; ')}`;
    expect({ summary, verdicts }).toEqual({ summary, verdicts: [] });
    expect(staleReadIsCaught(history)).toBe('violation');
  }, Math.max(50_000, SECONDS * 1_000 + 35_000));
}, Math.max(60_000, SECONDS * 1_000 + 45_000));
