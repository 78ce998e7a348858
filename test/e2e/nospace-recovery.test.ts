/**
 * Goal: a member that ran out of its space quota recovers the way etcd's maintenance guide tells
 * an operator to: the NOSPACE alarm is raised and survives a restart, /health says false while it
 * stands, and after deleting keys, compacting the history, defragmenting (the file shrinks) and
 * `alarm disarm`, writes succeed again. (etcd needs the defragmentation, because its quota counts
 * bolt's file, which shrinks only then; Corvid counts LMDB pages in use, which compaction gives
 * back, but runs the same sequence.)
 * Method: one real member on 127.0.0.1 with a 256 KiB quota (CORVID_TEST_SUBJECT=etcd runs the
 * same on etcd 3.4), driven over gRPC and HTTP; etcdctl for the defrag and the disarm, as an
 * operator would.
 */
import { etcdserverpb } from '@corvid/proto';
import { CATALOGUE } from '@corvid/node';
import { etcdctl } from '../harness/etcdctl.js';
import { bytes, errorOf, kvClient, maintenanceClient, outcome } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const QUOTA_BYTES = 256 * 1024;
const VALUE_BYTES = 10_000;
const MAX_PUTS = 200;
const NO_SPACE = { code: CATALOGUE.NoSpace.code, details: CATALOGUE.NoSpace.text };
const RESTART_DEADLINE_MS = 20_000;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

async function health(clientUrl: string): Promise<string> {
  const res = await fetch(`${clientUrl}/health`);
  return ((await res.json()) as { health: string }).health;
}

/**
 * Restarts `member` on its data dir. The harness waits for etcd's /health, which stays false under
 * the alarm, so etcd (on its old ports) is waited for by its answer to Alarm instead.
 */
async function restartUnderAlarm(member: Member): Promise<Member> {
  if (member.kind !== 'etcd') return group.restart(member);
  await member.stop();
  const again = await group.start('etcd', { ...member.options, name: member.name, dataDir: member.dataDir, clientPort: member.port, peerPort: member.peerPort, awaitReady: false });
  const maintenance = maintenanceClient(again.endpoint);
  try {
    await waitFor(async () => (await outcome(maintenance.alarm({ action: etcdserverpb.AlarmRequest_AlarmAction.GET }))).ok, RESTART_DEADLINE_MS, 'etcd to answer Alarm after its restart');
  } finally {
    maintenance.close();
  }
  return again;
}

test(`${SUBJECT}: NOSPACE is raised, kept across a restart, and cleared after delete, compaction, defrag and disarm`, async () => {
  let member = await group.start(SUBJECT, { quotaBackendBytes: QUOTA_BYTES });
  let kv = kvClient(member.endpoint);
  let puts = 0;
  let firstError: ReturnType<typeof errorOf> = 'ok';
  for (; puts < MAX_PUTS && firstError === 'ok'; puts++) {
    firstError = errorOf(await outcome(kv.put({ key: bytes(`fill/${String(puts).padStart(4, '0')}`), value: Buffer.alloc(VALUE_BYTES, 'x') })));
  }
  expect(firstError).toEqual(NO_SPACE);
  expect(puts).toBeGreaterThan(1);
  expect(await health(member.clientUrl)).toBe('false');

  kv.close();
  member = await restartUnderAlarm(member);
  kv = kvClient(member.endpoint);
  const maintenance = maintenanceClient(member.endpoint);
  try {
    const listed = await maintenance.alarm({ action: etcdserverpb.AlarmRequest_AlarmAction.GET });
    expect(listed.alarms.map((a) => a.alarm)).toEqual([etcdserverpb.AlarmType.NOSPACE]);
    expect(errorOf(await outcome(kv.put({ key: bytes('small'), value: bytes('v') })))).toEqual(NO_SPACE);

    const deleted = await kv.deleteRange({ key: bytes('fill/'), rangeEnd: bytes('fill0') });
    expect(Number(deleted.deleted)).toBe(puts - 1);
    await kv.compact({ revision: deleted.header?.revision ?? 0n, physical: true });
    // Still refused: the alarm stands until an operator disarms it.
    expect(errorOf(await outcome(kv.put({ key: bytes('small'), value: bytes('v') })))).toEqual(NO_SPACE);

    const sizeBefore = (await maintenance.status()).dbSize;
    const defrag = await etcdctl(member.endpoint, ['defrag']);
    expect(defrag).toEqual({ code: 0, stdout: `Finished defragmenting etcd member[${member.endpoint}]\n`, stderr: '' });
    expect((await maintenance.status()).dbSize).toBeLessThan(sizeBefore);
    // Defragmenting does not clear the alarm either.
    expect(errorOf(await outcome(kv.put({ key: bytes('small'), value: bytes('v') })))).toEqual(NO_SPACE);

    const disarm = await etcdctl(member.endpoint, ['alarm', 'disarm']);
    expect(disarm.code).toBe(0);
    expect(disarm.stdout).toContain('alarm:NOSPACE');
    expect((await maintenance.alarm({ action: etcdserverpb.AlarmRequest_AlarmAction.GET })).alarms).toEqual([]);
    expect(errorOf(await outcome(kv.put({ key: bytes('small'), value: bytes('v') })))).toBe('ok');
    expect(await health(member.clientUrl)).toBe('true');
  } finally {
    kv.close();
    maintenance.close();
  }
}, 60_000);
