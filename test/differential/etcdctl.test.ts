/**
 * Goal: etcdctl 3.4 sees no difference between etcd 3.4 and Corvid.
 * Method: run SCRIPT (etcdctl-script.ts) step by step against a fresh real etcd, then against a fresh Corvid (one
 * member at a time, to stay light on two cores); each step is a test that compares the masked {exit code, stdout,
 * stderr} of both, so a mismatch is reported per command with jest's line diff (JSON output is pretty-printed).
 */
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
import { maskResult } from '../harness/mask.js';
import { SideBySide } from '../harness/differential.js';
import { splitKnown } from '../harness/known-differences.js';
import { ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';
import { EXTRA_SCRIPT, SCRIPT, type ScriptStep } from './etcdctl-script.js';

const group = new ProcessGroup();
const sides = new SideBySide<EtcdctlResult[]>(group);
const ALL_STEPS: readonly ScriptStep[] = [...SCRIPT, ...EXTRA_SCRIPT];
/** A hung member makes every etcdctl wait for its 5 s timeout; stop running steps after this long. */
const SCRIPT_DEADLINE_MS = 60_000;

async function runScript(member: Member): Promise<EtcdctlResult[]> {
  const outputs: EtcdctlResult[] = [];
  const deadline = performance.now() + SCRIPT_DEADLINE_MS;
  for (const step of ALL_STEPS) {
    if (member.hasExited() || performance.now() > deadline) {
      const why = member.hasExited() ? `the member exited:\n${member.outputTail(20)}` : `the script ran past ${SCRIPT_DEADLINE_MS} ms`;
      outputs.push({ code: -1, stdout: '', stderr: `not run: ${why}` });
      continue;
    }
    const endpoint = step.urlEndpoint === true ? member.clientUrl : member.endpoint;
    outputs.push(maskResult(await etcdctl(endpoint, step.args, step.stdin), step.masks ?? []));
  }
  return outputs;
}

function compareStep(i: number): void {
  expect(render(sides.get('subject')[i])).toEqual(render(sides.get('oracle')[i]));
}

/** One text per result, so jest's diff is line by line with no escaping. */
function render(result: EtcdctlResult | undefined): string {
  if (result === undefined) return 'no such step';
  return `exit code ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

beforeAll(async () => sides.run(runScript), 180_000);

afterAll(async () => group.cleanup());

describe(`etcdctl script: etcd 3.4 vs ${SUBJECT}`, () => {
  test('both members start', () => {
    expect(sides.failure('oracle')?.message).toBeUndefined();
    expect(sides.failure('subject')?.message).toBeUndefined();
  });

  test.each(SCRIPT.map((step, i) => [i, `etcdctl ${step.args.join(' ')}`] as const))('step %i: %s', (i) => compareStep(i));
});

describe(`etcdctl beyond issue 2 (maintenance, cluster, URL endpoints): etcd 3.4 vs ${SUBJECT}`, () => {
  const offset = SCRIPT.length;
  const rows = EXTRA_SCRIPT.map((step, i) => [offset + i, `etcdctl ${step.args.join(' ')}${step.urlEndpoint === true ? ' (URL endpoint)' : ''}`] as const);
  const { matching, known } = splitKnown(rows, ([, name]) => name);
  test.each(matching)('step %i: %s', (i) => compareStep(i));
  if (known.length > 0) test.failing.each(known)('step %i: %s (known difference, harness/known-differences.ts)', (i) => compareStep(i));
});
