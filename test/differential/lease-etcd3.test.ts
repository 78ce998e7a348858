/**
 * Goal: the `etcd3` npm client's leases work against Corvid exactly as against etcd 3.4: grant, put with the lease,
 * automatic keepalives (on one long-lived LeaseKeepAlive stream) holding the key past its TTL, keepaliveOnce,
 * revoke taking the key, the typed error for a revoked lease, and a lease left without keepalives being lost.
 * Method: one test body per member kind (etcd first, then the subject), one member at a time; waits are conditions
 * with deadlines, except the span a keepalive must cover, which is the property under test.
 */
import { setTimeout as holdFor } from 'node:timers/promises';
import { Etcd3, EtcdLeaseInvalidError } from 'etcd3';
import { MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

describe.each(MEMBER_KINDS.map((kind) => [kind]))('etcd3 client leases against %s', (kind: MemberKind) => {
  let member: Member | undefined;
  let client: Etcd3;

  beforeAll(async () => {
    member = await group.start(kind);
    client = new Etcd3({ hosts: member.endpoint });
  }, 30_000);

  afterAll(async () => {
    client?.close();
    await member?.stop();
  });

  test('grant, put, automatic keepalives past the TTL, keepaliveOnce, revoke', async () => {
    const lease = client.lease(3);
    const id = await lease.grant();
    expect(id).toMatch(/^\d+$/);
    await lease.put('etcd3/leased').value('v').exec();
    const raw = await client.get('etcd3/leased').exec();
    expect(raw.kvs[0]?.lease).toBe(id);
    await holdFor(7_000); // more than two TTLs: only the client's keepalives can hold the key
    expect(await client.get('etcd3/leased').string()).toBe('v');
    const once = await lease.keepaliveOnce();
    expect([once.ID, once.TTL]).toEqual([id, '3']);
    await lease.revoke();
    expect(await client.get('etcd3/leased').string()).toBeNull();
  }, 30_000);

  test('a lease without keepalives is lost, and its key goes with it', async () => {
    const lease = client.lease(2, { autoKeepAlive: false });
    await lease.grant();
    await lease.put('etcd3/short').value('v').exec();
    await waitFor(async () => (await client.get('etcd3/short').string()) === null, 6_000, 'the lease to expire');
    const err = await lease.keepaliveOnce().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(EtcdLeaseInvalidError);
  }, 30_000);
});
