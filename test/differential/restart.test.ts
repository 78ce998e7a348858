/**
 * Goal: what a client sees after a member restarts is what etcd 3.4 shows — same data, revisions and compaction
 * point, the raft term moved on by the new election, and the same member and cluster ids as before the restart.
 * Method: for etcd, then the subject (one at a time): write and compact (BEFORE), stop with SIGTERM, restart on the
 * data dir and run AFTER_RESTART; crash with SIGKILL, restart and run AFTER_RESTART again. Outputs are masked and
 * compared step by step; ids are compared raw within each member (before vs after), since they differ across kinds.
 */
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
import { maskResult } from '../harness/mask.js';
import { ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';
import type { ScriptStep } from './etcdctl-script.js';

const BEFORE: readonly ScriptStep[] = [
  { args: ['put', 'a', '1'] },
  { args: ['put', 'b', '2'] },
  { args: ['put', 'a', '3'] },
  { args: ['del', 'b'] },
  { args: ['compaction', '3'] },
];

const AFTER_RESTART: readonly ScriptStep[] = [
  { args: ['get', '', '--prefix', '-w', 'json'] },
  { args: ['get', 'a', '--rev', '2'] },
  { args: ['get', 'a', '--rev', '3', '-w', 'json'] },
  { args: ['compaction', '3'] },
  { args: ['endpoint', 'status', '-w', 'json'], masks: ['status'] },
  { args: ['member', 'list', '-w', 'json'] },
  { args: ['put', 'c', 'after-restart', '-w', 'json'] },
];

const PHASES = ['after SIGTERM and restart', 'after SIGKILL and restart'] as const;
type Side = 'oracle' | 'subject';

const group = new ProcessGroup();
const outputs = new Map<Side, EtcdctlResult[][]>();
const ids = new Map<Side, string[]>();
const failures = new Map<Side, Error>();

/** `cluster_id/member_id` of a get -w json, raw. */
async function idsOf(member: Member): Promise<string> {
  const res = await etcdctl(member.endpoint, ['get', 'a', '-w', 'json']);
  const match = /"cluster_id":(\d+),"member_id":(\d+)/.exec(res.stdout);
  return match === null ? `no ids in ${res.stdout}${res.stderr}` : `${match[1] ?? ''}/${match[2] ?? ''}`;
}

async function runSteps(member: Member, steps: readonly ScriptStep[]): Promise<EtcdctlResult[]> {
  const results: EtcdctlResult[] = [];
  for (const step of steps) results.push(maskResult(await etcdctl(member.endpoint, step.args, step.stdin), step.masks ?? []));
  return results;
}

async function run(side: Side): Promise<void> {
  try {
    let member = await group.start(side === 'oracle' ? 'etcd' : SUBJECT);
    await runSteps(member, BEFORE);
    const seenIds = [await idsOf(member)];
    const phases: EtcdctlResult[][] = [];
    for (const phase of PHASES) {
      if (phase === 'after SIGTERM and restart') await member.stop();
      else await member.kill();
      member = await group.restart(member);
      phases.push(await runSteps(member, AFTER_RESTART));
      seenIds.push(await idsOf(member));
    }
    await member.stop();
    outputs.set(side, phases);
    ids.set(side, seenIds);
  } catch (err) {
    failures.set(side, err as Error);
  }
}

beforeAll(async () => {
  await run('oracle');
  await run('subject');
}, 120_000);

afterAll(async () => group.cleanup());

function render(r: EtcdctlResult | undefined): string {
  return r === undefined ? 'missing' : `exit code ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

describe(`restart: etcd 3.4 vs ${SUBJECT}`, () => {
  test('both members ran every phase', () => {
    expect(failures.get('oracle')?.message).toBeUndefined();
    expect(failures.get('subject')?.message).toBeUndefined();
  });

  test.each([['oracle'], ['subject']] as const)('%s keeps its cluster and member ids across restarts', (side) => {
    const seen = ids.get(side) ?? [];
    expect(seen).toHaveLength(PHASES.length + 1);
    expect(new Set(seen).size).toBe(1);
  });

  const cases = PHASES.flatMap((phase, p) => AFTER_RESTART.map((step, i) => [phase, `etcdctl ${step.args.join(' ')}`, p, i] as const));
  test.each(cases)('%s: %s', (_phase, _command, p, i) => {
    expect(render(outputs.get('subject')?.[p]?.[i])).toEqual(render(outputs.get('oracle')?.[p]?.[i]));
  });
});
