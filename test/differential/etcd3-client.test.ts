/**
 * Goal: the `etcd3` npm client works against Corvid exactly as against etcd 3.4: put/get/delete, getAll with a
 * prefix, sort and limit, txn via if().then().else(), namespaces, and its typed errors.
 * Method: one test body, run against a fresh etcd first and then a fresh Corvid (describe.each, one member at a
 * time). The expectations are literal values that etcd satisfies (revisions on a fresh store start at 1).
 */
import { Etcd3, EtcdLeaseInvalidError, GRPCOutOfRangeError, GRPCInvalidArgumentError } from 'etcd3';
import { MEMBER_KINDS, ProcessGroup, type Member, type MemberKind } from '../harness/processes.js';

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

/** Settles a promise into the error's class name and message, so error expectations read as data. */
async function failure(p: Promise<unknown>): Promise<{ name: string; message: string } | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return { name: (err as Error).constructor.name, message: (err as Error).message };
  }
}

describe.each(MEMBER_KINDS.map((kind) => [kind]))('etcd3 client against %s', (kind: MemberKind) => {
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

  test('put and get one key', async () => {
    const put = await client.put('foo').value('bar').exec();
    expect(put.header.revision).toBe('2');
    expect(await client.get('foo').string()).toBe('bar');
    expect(await client.get('missing').string()).toBeNull();
    const raw = await client.get('foo').exec();
    expect(raw.kvs.map((kv) => ({ key: kv.key.toString(), create: kv.create_revision, mod: kv.mod_revision, version: kv.version, lease: kv.lease })))
      .toEqual([{ key: 'foo', create: '2', mod: '2', version: '1', lease: '0' }]);
    expect(raw.count).toBe('1');
    expect(raw.more).toBe(false);
  });

  test('put with prevKv returns the previous value', async () => {
    const put = await client.put('foo').value('baz').getPrevious();
    expect(put?.value.toString()).toBe('bar');
    expect(put?.mod_revision).toBe('2');
  });

  test('getAll with a prefix, sort, limit, keys and count', async () => {
    for (const [k, v] of [['p/b', '2'], ['p/a', '1'], ['p/c', '3'], ['q', 'x']] as const) await client.put(k).value(v);
    expect(await client.getAll().prefix('p/').strings()).toEqual({ 'p/a': '1', 'p/b': '2', 'p/c': '3' });
    expect(await client.getAll().prefix('p/').sort('Key', 'Descend').keys()).toEqual(['p/c', 'p/b', 'p/a']);
    expect(await client.getAll().prefix('p/').sort('Create', 'Ascend').limit(2).keys()).toEqual(['p/b', 'p/a']);
    expect(await client.getAll().prefix('p/').count()).toBe(3);
    expect(await client.getAll().keys()).toEqual(['foo', 'p/a', 'p/b', 'p/c', 'q']);
    const limited = await client.getAll().prefix('p/').limit(1).exec();
    expect({ more: limited.more, count: limited.count, revision: limited.header.revision }).toEqual({ more: true, count: '3', revision: '7' });
  });

  test('get at an older revision', async () => {
    expect(await client.get('foo').revision(2).string()).toBe('bar');
    expect(await client.getAll().prefix('p/').revision(5).keys()).toEqual(['p/a', 'p/b']);
  });

  test('delete one key and a prefix', async () => {
    const one = await client.delete().key('p/a').exec();
    expect(one.deleted).toBe('1');
    const prefix = await client.delete().prefix('p/').getPrevious();
    expect(prefix.map((kv) => [kv.key.toString(), kv.value.toString()])).toEqual([['p/b', '2'], ['p/c', '3']]);
    expect(await client.getAll().prefix('p/').keys()).toEqual([]);
    const none = await client.delete().key('missing').exec();
    expect({ deleted: none.deleted, revision: none.header.revision }).toEqual({ deleted: '0', revision: '9' });
  });

  test('txn: if().then().else()', async () => {
    const hit = await client.if('foo', 'Value', '==', 'baz').then(client.put('foo').value('qux'), client.get('q')).else(client.put('miss').value('1')).commit();
    expect(hit.succeeded).toBe(true);
    expect(hit.header.revision).toBe('10');
    expect(hit.responses.map((r) => [r.response_put !== undefined, r.response_range !== undefined])).toEqual([[true, false], [false, true]]);
    expect(hit.responses[1]?.response_range?.kvs[0]?.value.toString()).toBe('x');

    const miss = await client.if('foo', 'Value', '==', 'baz').then(client.put('never').value('1')).else(client.get('foo'), client.delete().key('q')).commit();
    expect(miss.succeeded).toBe(false);
    expect(miss.header.revision).toBe('11');
    expect(miss.responses[0]?.response_range?.kvs[0]?.value.toString()).toBe('qux');
    expect(miss.responses[1]?.response_delete_range?.deleted).toBe('1');
    expect(await client.get('never').string()).toBeNull();

    const byVersion = await client.if('foo', 'Version', '>', 2).and('foo', 'Mod', '==', 10).and('miss', 'Create', '==', 0).then(client.put('v').value('ok')).commit();
    expect(byVersion.succeeded).toBe(true);
  });

  test('namespaces prefix every key', async () => {
    const ns = client.namespace('ns/');
    await ns.put('x').value('y');
    expect(await client.get('ns/x').string()).toBe('y');
    expect(await ns.getAll().keys()).toEqual(['x']);
    await ns.delete().all();
    expect(await client.get('ns/x').string()).toBeNull();
  });

  test('typed errors: compacted revision, unknown lease, empty key', async () => {
    await client.kv.compact({ revision: '5' });
    expect(await failure(client.get('foo').revision(3).string())).toEqual({
      name: GRPCOutOfRangeError.name,
      message: '11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted',
    });
    expect(await failure(client.put('leased').value('v').lease('12345').exec())).toEqual({
      name: EtcdLeaseInvalidError.name,
      message: 'Lease 5 NOT_FOUND: etcdserver: requested lease not found is expired or revoked',
    });
    expect(await failure(client.put('').value('v').exec())).toEqual({
      name: GRPCInvalidArgumentError.name,
      message: '3 INVALID_ARGUMENT: etcdserver: key is not provided',
    });
  });

  test('software transactions (stm): concurrent increments all land', async () => {
    await client.put('stm/counter').value('0');
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        for (let i = 0; i < 6; i++) {
          await client.stm({ retries: 100 }).transact(async (tx) => {
            const current = Number(await tx.get('stm/counter').string());
            await tx.put('stm/counter').value(String(current + 1));
          });
        }
      }),
    );
    expect(await client.get('stm/counter').string()).toBe('30');
  });
});
