/**
 * Goal: the KV service answers raw gRPC requests exactly as etcd 3.4 does — every field of every response, for the
 * range/put/delete/txn/compact options etcdctl cannot send.
 * Method: run KV_SCRIPT (kv-script.ts) after its setup against a fresh etcd, then a fresh subject (one at a time);
 * each response (or {code, details}) is rendered as JSON text with int64 as strings and bytes as text, non-zero
 * cluster/member ids masked and the raft term masked (etcdctl.test.ts compares raft_term); one test per step.
 */
import { SideBySide } from '../harness/differential.js';
import { kvClient, outcome } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { KV_SCRIPT, setup } from './kv-script.js';

const group = new ProcessGroup();
const sides = new SideBySide<string[]>(group);
/** A member that hangs on every call stops the run after this long (each call has a 5 s deadline). */
const SCRIPT_DEADLINE_MS = 45_000;

/** Stable JSON: bigint and Buffer as text, header ids and term masked when set (nested txn headers hold 0s). */
function render(value: unknown): string {
  return JSON.stringify(
    value,
    (key, v: unknown) => {
      if (typeof v === 'bigint') {
        if ((key === 'clusterId' || key === 'memberId') && v !== 0n) return '<id>';
        if (key === 'raftTerm' && v !== 0n) return '<term>';
        return v.toString();
      }
      if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer') {
        return Buffer.from((v as { data: number[] }).data).toString('utf8');
      }
      return v;
    },
    2,
  );
}

beforeAll(async () => {
  await sides.run(async (member) => {
    const kv = kvClient(member.endpoint);
    try {
      await setup(kv);
      const list: string[] = [];
      const deadline = performance.now() + SCRIPT_DEADLINE_MS;
      for (const step of KV_SCRIPT) {
        if (performance.now() > deadline) throw new Error(`the script ran past ${SCRIPT_DEADLINE_MS} ms (a hung member?)`);
        const result = await outcome(step.call(kv));
        list.push(render(result.ok ? result.value : { code: result.code, details: result.details }));
      }
      return list;
    } finally {
      kv.close();
    }
  });
}, 120_000);

afterAll(async () => group.cleanup());

describe(`raw KV requests: etcd 3.4 vs ${SUBJECT}`, () => {
  test.each(KV_SCRIPT.map((step, i) => [i, step.name] as const))('step %i: %s', (i) => {
    expect(sides.get('subject')[i]).toEqual(sides.get('oracle')[i]);
  });
});
