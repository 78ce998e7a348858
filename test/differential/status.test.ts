/**
 * Goal: Maintenance.Status tells a user (and etcdctl endpoint status, and the operator) the truth in etcd's terms —
 * the fields the differential masks (leader, raft index, db size) are checked here by their relations instead.
 * Method: against etcd 3.4 and then the subject, one at a time: Status on a fresh member, after PUTS puts and after a
 * delete; each answer is checked against the relations etcd satisfies.
 */
import { bytes, kvClient, maintenanceClient, type KvApi, type MaintenanceApi } from '../harness/grpc.js';
import { MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';

const PUTS = 20;
const group = new ProcessGroup();
afterAll(async () => group.cleanup());

describe.each(MEMBER_KINDS.map((kind) => [kind]))('Maintenance.Status of %s', (kind: MemberKind) => {
  let member: Member | undefined;
  let kv: KvApi;
  let maintenance: MaintenanceApi;

  beforeAll(async () => {
    member = await group.start(kind);
    kv = kvClient(member.endpoint);
    maintenance = maintenanceClient(member.endpoint);
  }, 30_000);

  afterAll(async () => {
    kv?.close();
    maintenance?.close();
    await member?.stop();
  });

  test('a single member is its own leader, up to date, not a learner, with no errors', async () => {
    const s = await maintenance.status();
    expect(s.leader).toBe(s.header?.memberId);
    expect(s.leader).not.toBe(0n);
    expect(s.header?.clusterId).not.toBe(0n);
    expect(s.raftTerm).toBe(s.header?.raftTerm);
    expect(s.raftAppliedIndex).toBe(s.raftIndex);
    expect(s.isLearner).toBe(false);
    expect(s.errors).toEqual([]);
    expect(s.version).toMatch(/^3\.4\.\d+$/);
    expect(s.dbSize).toBeGreaterThan(0n);
    expect(s.dbSizeInUse).toBeGreaterThan(0n);
    expect(s.dbSizeInUse).toBeLessThanOrEqual(s.dbSize);
    expect(s.header?.revision).toBe(1n);
  });

  test(`after ${PUTS} puts: revision and raft index move with them`, async () => {
    const before = await maintenance.status();
    let last = 0n;
    for (let i = 0; i < PUTS; i++) last = (await kv.put({ key: bytes(`s/${i}`), value: bytes('v'.repeat(100)) })).header?.revision ?? 0n;
    const after = await maintenance.status();
    expect(after.header?.revision).toBe(last);
    expect(after.raftIndex - before.raftIndex).toBeGreaterThanOrEqual(BigInt(PUTS));
    expect(after.raftAppliedIndex).toBe(after.raftIndex);
    expect(after.leader).toBe(before.leader);
  });

  test('a delete moves the revision; Status and Range agree on it', async () => {
    const del = await kv.deleteRange({ key: bytes('s/'), rangeEnd: bytes('s0') });
    expect(del.deleted).toBe(BigInt(PUTS));
    const status = await maintenance.status();
    const range = await kv.range({ key: bytes('s/0') });
    expect(status.header?.revision).toBe(del.header?.revision);
    expect(range.header?.revision).toBe(del.header?.revision);
    expect(range.header?.memberId).toBe(status.header?.memberId);
    expect(range.header?.clusterId).toBe(status.header?.clusterId);
  });
});
