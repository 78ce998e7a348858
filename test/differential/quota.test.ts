/**
 * Goal: --quota-backend-bytes behaves as etcd 3.4's: once the backend is over quota, writes fail with
 * RESOURCE_EXHAUSTED "etcdserver: mvcc: database space exceeded" (the catalogue's NoSpace), a NOSPACE alarm is
 * raised, and reads, read-only txns and deletes still work.
 * Method: start etcd, then the subject (one at a time), with a 256 KiB quota; put 10 KB values until the first
 * error (how many fit depends on the storage engine and is not compared, only that some fit and the quota is hit),
 * then send a fixed list of probes and compare their outcomes, and the alarm list's alarm types.
 */
import { etcdserverpb } from '@corvid/proto';
import { CATALOGUE } from '@corvid/node';
import { bytes, errorOf, kvClient, maintenanceClient, outcome, type KvApi } from '../harness/grpc.js';
import { SideBySide } from '../harness/differential.js';
import { ProcessGroup, SUBJECT, type Member } from '../harness/processes.js';

const QUOTA_BYTES = 256 * 1024;
const VALUE_BYTES = 10_000;
/** 2 MB of values: far over the quota for any engine. */
const MAX_PUTS = 200;

type Answer = ReturnType<typeof errorOf>;

interface Probe {
  readonly name: string;
  readonly call: (kv: KvApi) => Promise<unknown>;
}

const putOp = (key: string): etcdserverpb.DeepPartial<etcdserverpb.RequestOp> => ({ request: { $case: 'requestPut', value: { key: bytes(key), value: bytes('v') } } });

const PROBES: readonly Probe[] = [
  { name: 'a small put', call: (kv) => kv.put({ key: bytes('small'), value: bytes('v') }) },
  { name: 'a txn with a put', call: (kv) => kv.txn({ success: [putOp('txn-put')] }) },
  { name: 'a txn with a put only in the failure branch', call: (kv) => kv.txn({ failure: [putOp('txn-put')] }) },
  { name: 'a read-only txn', call: (kv) => kv.txn({ success: [{ request: { $case: 'requestRange', value: { key: bytes('q/0000') } } }] }) },
  { name: 'a range', call: (kv) => kv.range({ key: bytes('q/'), rangeEnd: bytes('q0'), countOnly: true }) },
  { name: 'a delete', call: (kv) => kv.deleteRange({ key: bytes('q/0000') }) },
  { name: 'a put after the delete', call: (kv) => kv.put({ key: bytes('small'), value: bytes('v') }) },
];

interface Result {
  readonly firstError: Answer;
  readonly putsBeforeError: number;
  readonly probes: Answer[];
  readonly alarms: string[];
}

const group = new ProcessGroup();
const sides = new SideBySide<Result>(group, { quotaBackendBytes: QUOTA_BYTES });

async function fillAndProbe(member: Member): Promise<Result> {
  const kv = kvClient(member.endpoint);
  const maintenance = maintenanceClient(member.endpoint);
  try {
    let firstError: Answer = 'ok';
    let puts = 0;
    for (; puts < MAX_PUTS && firstError === 'ok'; puts++) {
      firstError = errorOf(await outcome(kv.put({ key: bytes(`q/${String(puts).padStart(4, '0')}`), value: Buffer.alloc(VALUE_BYTES, 'x') })));
    }
    const probes: Answer[] = [];
    for (const probe of PROBES) probes.push(errorOf(await outcome(probe.call(kv))));
    const alarmResult = await outcome(maintenance.alarm({ action: etcdserverpb.AlarmRequest_AlarmAction.GET }));
    const alarms = alarmResult.ok ? alarmResult.value.alarms.map((a) => etcdserverpb.alarmTypeToJSON(a.alarm)) : [`error ${alarmResult.code}: ${alarmResult.details}`];
    return { firstError, putsBeforeError: puts - 1, probes, alarms };
  } finally {
    kv.close();
    maintenance.close();
  }
}

beforeAll(async () => sides.run(fillAndProbe), 120_000);

afterAll(async () => group.cleanup());

// The space quota is issue #8's deliverable; until then the subject's side is red by design (see the mismatch log).
describe(`--quota-backend-bytes ${QUOTA_BYTES} (issue #8): etcd 3.4 vs ${SUBJECT}`, () => {
  test('etcd refuses writes over quota with the catalogue NoSpace', () => {
    const entry = CATALOGUE.NoSpace;
    expect(sides.get('oracle').firstError).toEqual({ code: entry.code, details: entry.text });
    expect(sides.get('oracle').putsBeforeError).toBeGreaterThan(0);
  });

  test(`${SUBJECT} hits the quota after some puts, with etcd's error`, () => {
    expect(sides.get('subject').firstError).toEqual(sides.get('oracle').firstError);
    expect(sides.get('subject').putsBeforeError).toBeGreaterThan(0);
  });

  test.each(PROBES.map((p, i) => [p.name, i] as const))('over quota: %s', (_name, i) => {
    expect(sides.get('subject').probes[i]).toEqual(sides.get('oracle').probes[i]);
  });

  test('the alarm list holds NOSPACE', () => {
    expect(sides.get('oracle').alarms).toEqual(['NOSPACE']);
    expect(sides.get('subject').alarms).toEqual(sides.get('oracle').alarms);
  });
});
