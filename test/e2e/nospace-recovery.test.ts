/**
 * Goal: a Corvid member that ran out of its space quota recovers the way an operator expects:
 * the NOSPACE alarm is raised and survives a restart, /health says false while it stands, and
 * once the keys are deleted and the history compacted, `alarm disarm` lets writes in again. (etcd
 * also needs a defragmentation here, because bolt's file shrinks only then; Corvid measures the
 * quota by LMDB pages in use, which compaction gives back.)
 * Method: one real member on 127.0.0.1 with a 256 KiB quota, driven over gRPC and HTTP; etcdctl
 * for the disarm, as an operator would.
 */
import { etcdserverpb } from '@corvid/proto';
import { CATALOGUE } from '@corvid/node';
import { etcdctl } from '../harness/etcdctl.js';
import { bytes, errorOf, kvClient, maintenanceClient, outcome } from '../harness/grpc.js';
import { ProcessGroup } from '../harness/processes.js';

const QUOTA_BYTES = 256 * 1024;
const VALUE_BYTES = 10_000;
const MAX_PUTS = 200;
const NO_SPACE = { code: CATALOGUE.NoSpace.code, details: CATALOGUE.NoSpace.text };

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

async function health(clientUrl: string): Promise<string> {
  const res = await fetch(`${clientUrl}/health`);
  return ((await res.json()) as { health: string }).health;
}

test('NOSPACE is raised, kept across a restart, and cleared after delete, compaction and disarm', async () => {
  let member = await group.start('corvid', { quotaBackendBytes: QUOTA_BYTES });
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
  member = await group.restart(member);
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
