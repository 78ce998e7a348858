/**
 * Goal: what a client sees after a member restarts is what etcd 3.4 shows — same data, revisions and compaction
 * point, the raft term moved on by the new election, and the same member and cluster ids as before the restart.
 * Method: for etcd, then the subject (one at a time): write and compact (BEFORE), stop with SIGTERM, restart on the
 * data dir and run AFTER_RESTART; crash with SIGKILL, restart and run AFTER_RESTART again. Outputs are masked and
 * compared step by step; ids are compared raw within each member (before vs after), since they differ across kinds.
 */
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
import { maskResult } from '../harness/mask.js';
import { SideBySide } from '../harness/differential.js';
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

interface Result {
  /** Per phase, the masked result of each AFTER_RESTART step. */
  readonly phases: EtcdctlResult[][];
  /** Raw `cluster/member` ids before the first restart and after each. */
  readonly ids: string[];
}

const group = new ProcessGroup();
const sides = new SideBySide<Result>(group);

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

/** BEFORE, then each phase's stop or crash, restart and AFTER_RESTART; the last restarted member is stopped here. */
async function restartTwice(first: Member): Promise<Result> {
  let member = first;
  await runSteps(member, BEFORE);
  const ids = [await idsOf(member)];
  const phases: EtcdctlResult[][] = [];
  for (const phase of PHASES) {
    if (phase === 'after SIGTERM and restart') await member.stop();
    else await member.kill();
    member = await group.restart(member);
    phases.push(await runSteps(member, AFTER_RESTART));
    ids.push(await idsOf(member));
  }
  await member.stop();
  return { phases, ids };
}

beforeAll(async () => sides.run(restartTwice), 120_000);

afterAll(async () => group.cleanup());

function render(r: EtcdctlResult | undefined): string {
  return r === undefined ? 'missing' : `exit code ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

describe(`restart: etcd 3.4 vs ${SUBJECT}`, () => {
  test('both members ran every phase', () => {
    expect(sides.failure('oracle')?.message).toBeUndefined();
    expect(sides.failure('subject')?.message).toBeUndefined();
  });

  test.each([['oracle'], ['subject']] as const)('%s keeps its cluster and member ids across restarts', (side) => {
    const seen = sides.get(side).ids;
    expect(seen).toHaveLength(PHASES.length + 1);
    expect(new Set(seen).size).toBe(1);
  });

  const cases = PHASES.flatMap((phase, p) => AFTER_RESTART.map((step, i) => [phase, `etcdctl ${step.args.join(' ')}`, p, i] as const));
  test.each(cases)('%s: %s', (_phase, _command, p, i) => {
    expect(render(sides.get('subject').phases[p]?.[i])).toEqual(render(sides.get('oracle').phases[p]?.[i]));
  });
});
