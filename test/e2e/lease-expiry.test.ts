/**
 * Goal: the leader expires leases as etcd 3.4 does: the keys of an expired lease are gone no earlier than its TTL
 * and no later than TTL + a bound (the 500 ms expiry pass plus a revoke through the log), all at one revision; a
 * lease kept alive outlives its TTL several times over and expires once the keepalives stop; TimeToLive counts down.
 * Method: one real member (the subject; CORVID_TEST_SUBJECT=etcd proves the test on etcd), driven over raw gRPC;
 * waits are conditions with deadlines, timings are measured from the grant's answer.
 */
import { setTimeout as keepAlivePeriod } from 'node:timers/promises';
import { etcdctl } from '../harness/etcdctl.js';
import { bytes, kvClient } from '../harness/grpc.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { leaseClient } from '../differential/lease-client.js';

const TTL_SECONDS = 3;
/** How late past its TTL a lease's keys may still be there: the 500 ms pass, a revoke, and a slow shared machine. */
const EXPIRY_BOUND_MS = 2_500;
const KEYS = 20;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

describe(`lease expiry on ${SUBJECT}`, () => {
  test('an expired lease takes its keys with it, at one revision, within TTL + bound', async () => {
    const member = await group.start(SUBJECT);
    const lease = leaseClient(member.endpoint);
    const kv = kvClient(member.endpoint);
    try {
      const granted = await lease.grant({ ID: 0n, TTL: BigInt(TTL_SECONDS) });
      const grantedAt = performance.now();
      for (let i = 0; i < KEYS; i++) await kv.put({ key: bytes(`exp/${i}`), value: bytes('v'), lease: granted.ID });
      await kv.put({ key: bytes('exp/plain'), value: bytes('v') });
      const revBefore = (await kv.range({ key: bytes('exp/') })).header?.revision ?? 0n;
      const ttl = await lease.timeToLive({ ID: granted.ID });
      expect(ttl.TTL).toBeGreaterThanOrEqual(BigInt(TTL_SECONDS - 2));
      expect(ttl.TTL).toBeLessThanOrEqual(BigInt(TTL_SECONDS));

      const gone = await waitFor(async () => {
        const r = await kv.range({ key: bytes('exp/'), rangeEnd: bytes('exp0') });
        return r.kvs.length === 1 ? { atMs: performance.now() - grantedAt, revision: r.header?.revision ?? 0n } : undefined;
      }, TTL_SECONDS * 1000 + EXPIRY_BOUND_MS + 1_000, 'the lease to expire');
      expect(gone.atMs).toBeGreaterThanOrEqual(TTL_SECONDS * 1000 - 250);
      expect(gone.atMs).toBeLessThanOrEqual(TTL_SECONDS * 1000 + EXPIRY_BOUND_MS);
      expect(gone.revision).toBe(revBefore + 1n); // every key at one revision
      expect((await lease.timeToLive({ ID: granted.ID })).TTL).toBe(-1n);
      expect((await lease.keepAlive([granted.ID]))[0]?.TTL).toBe(0n);
    } finally {
      lease.close();
      kv.close();
    }
  }, 30_000);

  test('with auth on, an expired lease still takes its keys (the leader revokes as root)', async () => {
    const member = await group.start(SUBJECT);
    const run = async (...args: string[]): Promise<string> => {
      const res = await etcdctl(member.endpoint, args);
      if (res.code !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${res.stderr}`);
      return res.stdout;
    };
    await run('user', 'add', 'root:pw');
    await run('auth', 'enable');
    const id = /lease ([0-9a-f]+) granted/.exec(await run('--user', 'root:pw', 'lease', 'grant', String(TTL_SECONDS)))?.[1] ?? '';
    await run('--user', 'root:pw', 'put', `--lease=${id}`, 'guarded', 'v');
    await waitFor(async () => (await run('--user', 'root:pw', 'get', 'guarded')) === '', TTL_SECONDS * 1000 + EXPIRY_BOUND_MS + 2_000, 'the lease to expire');
  }, 30_000);

  test('keepalives keep a lease (and its key) alive past its TTL; it expires once they stop', async () => {
    const member = await group.start(SUBJECT);
    const lease = leaseClient(member.endpoint);
    const kv = kvClient(member.endpoint);
    try {
      const granted = await lease.grant({ ID: 0n, TTL: BigInt(TTL_SECONDS) });
      await kv.put({ key: bytes('kept'), value: bytes('v'), lease: granted.ID });
      const start = performance.now();
      while (performance.now() - start < 3 * TTL_SECONDS * 1000) {
        const [answer] = await lease.keepAlive([granted.ID]);
        expect(answer?.TTL).toBe(BigInt(TTL_SECONDS));
        await keepAlivePeriod(1000); // a client's keepalive cadence (etcd's clients send every TTL/3), not a wait for state
      }
      expect((await kv.range({ key: bytes('kept') })).kvs.length).toBe(1);
      const stoppedAt = performance.now();
      await waitFor(async () => (await kv.range({ key: bytes('kept') })).kvs.length === 0, TTL_SECONDS * 1000 + EXPIRY_BOUND_MS + 1_000, 'the lease to expire');
      expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(TTL_SECONDS * 1000 - 1_250);
    } finally {
      lease.close();
      kv.close();
    }
  }, 40_000);
});
