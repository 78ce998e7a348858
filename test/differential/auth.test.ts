/**
 * Goal: with authentication and RBAC, etcdctl 3.4 sees no difference between etcd 3.4 and the subject.
 * Method: run AUTH_SCRIPT (auth-script.ts) step by step against a fresh etcd, then against a fresh subject (one
 * member at a time); each step is a test comparing the masked {exit code, stdout, stderr} of both.
 */
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
import { maskResult } from '../harness/mask.js';
import { SideBySide } from '../harness/differential.js';
import { ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';
import { AUTH_SCRIPT } from './auth-script.js';

const group = new ProcessGroup();
const sides = new SideBySide<EtcdctlResult[]>(group);
/** A hung member makes every etcdctl wait for its 5 s timeout; stop running steps after this long. */
const SCRIPT_DEADLINE_MS = 90_000;

async function runScript(member: Member): Promise<EtcdctlResult[]> {
  const outputs: EtcdctlResult[] = [];
  const deadline = performance.now() + SCRIPT_DEADLINE_MS;
  for (const step of AUTH_SCRIPT) {
    if (member.hasExited() || performance.now() > deadline) {
      const why = member.hasExited() ? `the member exited:\n${member.outputTail(20)}` : `the script ran past ${SCRIPT_DEADLINE_MS} ms`;
      outputs.push({ code: -1, stdout: '', stderr: `not run: ${why}` });
      continue;
    }
    outputs.push(maskResult(await etcdctl(member.endpoint, step.args, step.stdin), step.masks ?? []));
  }
  return outputs;
}

/** One text per result, so jest's diff is line by line with no escaping. */
function render(result: EtcdctlResult | undefined): string {
  if (result === undefined) return 'no such step';
  return `exit code ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

beforeAll(async () => sides.run(runScript), 240_000);

afterAll(async () => group.cleanup());

describe(`etcdctl auth script: etcd 3.4 vs ${SUBJECT}`, () => {
  test('both members start', () => {
    expect(sides.failure('oracle')?.message).toBeUndefined();
    expect(sides.failure('subject')?.message).toBeUndefined();
  });

  test.each(AUTH_SCRIPT.map((step, i) => [i, `etcdctl ${step.args.join(' ')}`] as const))('step %i: %s', (i) => {
    expect(render(sides.get('subject')[i])).toEqual(render(sides.get('oracle')[i]));
  });
});
