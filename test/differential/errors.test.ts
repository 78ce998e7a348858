/**
 * Goal: every bad request gets the same gRPC status code and the same details text from Corvid as from etcd 3.4,
 * and etcd's answer is the one in Corvid's error catalogue (so the catalogue itself is proven against etcd).
 * Method: start etcd, then Corvid (one at a time), both with --max-txn-ops 4 --max-request-bytes 1024; send each
 * raw request of ERROR_CASES (error-cases.ts) with a grpc-js KV client, record {code, details} or 'ok', compare.
 */
import { CATALOGUE } from '@corvid/node';
import { bytes, errorOf, kvClient, outcome } from '../harness/grpc.js';
import { SideBySide, type Side } from '../harness/differential.js';
import { ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { ERROR_CASES, MAX_REQUEST_BYTES, MAX_TXN_OPS, ORACLE_CRASH_CASE, setup } from './error-cases.js';

type Answer = ReturnType<typeof errorOf>;
interface Result {
  readonly answers: Answer[];
  /** The answer to ORACLE_CRASH_CASE, whether the member then exited, and a range sent after it. */
  readonly crash: { answer: Answer; exited: boolean; after: Answer };
}

const group = new ProcessGroup();
const sides = new SideBySide<Result>(group, { maxTxnOps: MAX_TXN_OPS, maxRequestBytes: MAX_REQUEST_BYTES });
const EXIT_DEADLINE_MS = 3_000;
/** Each call has a 5 s deadline; a member that hangs on every call stops the run after this long. */
const CASES_DEADLINE_MS = 45_000;

async function sendCases(member: Member): Promise<Result> {
  const kv = kvClient(member.endpoint);
  try {
    await setup(kv);
    const answers: Answer[] = [];
    const deadline = performance.now() + CASES_DEADLINE_MS;
    for (const c of ERROR_CASES) {
      if (performance.now() > deadline) throw new Error(`the cases ran past ${CASES_DEADLINE_MS} ms (a hung member?)`);
      answers.push(errorOf(await outcome(c.call(kv))));
    }
    const answer = errorOf(await outcome(ORACLE_CRASH_CASE.call(kv)));
    const exited = await waitFor(() => member.hasExited(), EXIT_DEADLINE_MS, 'exit').then(() => true, () => false);
    const after = exited ? answer : errorOf(await outcome(kv.range({ key: bytes('a') })));
    return { answers, crash: { answer, exited, after } };
  } finally {
    kv.close();
  }
}

beforeAll(async () => sides.run(sendCases), 120_000);

afterAll(async () => group.cleanup());

function answerOf(side: Side, i: number): Answer {
  const answer = sides.get(side).answers[i];
  if (answer === undefined) throw new Error(`no case ${i}`);
  return answer;
}

const cases = ERROR_CASES.map((c, i) => [c.name, i] as const);

describe('etcd 3.4 answers as the catalogue says', () => {
  test.each(cases.filter(([, i]) => ERROR_CASES[i]?.expected !== null))('%s', (_name, i) => {
    const expected = ERROR_CASES[i]?.expected;
    const want = expected === 'ok' || expected === undefined || expected === null ? 'ok' : { code: CATALOGUE[expected].code, details: CATALOGUE[expected].text };
    expect(answerOf('oracle', i)).toEqual(want);
  });
});

describe(`${SUBJECT} answers as etcd 3.4 does`, () => {
  test('setup and every request ran', () => {
    expect(sides.failure('subject')?.message).toBeUndefined();
  });

  test.each(cases)('%s', (_name, i) => {
    expect(answerOf('subject', i)).toEqual(answerOf('oracle', i));
  });
});

describe(`${ORACLE_CRASH_CASE.name}: etcd 3.4 crashes, ${SUBJECT} answers as etcd 3.5`, () => {
  test('etcd 3.4.23 panics (apply.go Range: nil sorter in sort.Sort) and the call fails UNAVAILABLE', () => {
    const oracle = sides.get('oracle').crash;
    expect(oracle.exited).toBe(true);
    expect(oracle.answer).toMatchObject({ code: 14 });
  });

  (SUBJECT === 'corvid' ? test : test.skip)('Corvid answers InvalidSortOption and keeps serving', () => {
    const entry = CATALOGUE.InvalidSortOption;
    expect(sides.get('subject').crash).toEqual({ answer: { code: entry.code, details: entry.text }, exited: false, after: 'ok' });
  });
});
