/**
 * Goal: keepalives and TimeToLive find the leader's lessor: answered locally while this lessor is primary; forwarded
 * to a known leader otherwise (a failed hop retried, a not-found lease passed on as a value); a forwarded call
 * (`*Local`) refused at once with NotLeader when another member leads; and `request timed out` when no primary
 * lessor turns up before the deadline. Method: a real lessor on the mvcc harness and a scripted forwarder.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Applier } from '../../src/apply/index.js';
import { CorvidError } from '../../src/errors/index.js';
import { Lessor } from '../../src/lease/index.js';
import { LeaderLeases, type LeaseForwarder } from '../../src/server/lease-renewer.js';
import { Harness, putOp } from '../mvcc/harness.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

const SELF = 1n;
const OTHER = 2n;

function setup(): { lessor: Lessor; lead: { id: bigint }; h: Harness } {
  const h = Harness.open();
  open.push(h);
  const lessor = new Lessor(h.backend, { nowMs: () => 10_000 });
  h.applier = new Applier(h.backend, h.kv, lessor);
  h.ok({ $case: 'leaseGrant', value: { ID: 7n, TTL: 30n } });
  h.ok(putOp('k', 'v', { lease: 7n }));
  return { lessor, lead: { id: SELF }, h };
}

describe('LeaderLeases', () => {
  it('answers on the primary: renew, TimeToLive with keys, not found as values', async () => {
    const { lessor, lead } = setup();
    lessor.promote(0);
    const leases = new LeaderLeases({ memberId: SELF, lessor, leader: () => lead.id, requestTimeoutMs: 1000 });
    expect(await leases.renew(7n)).toEqual({ found: true, ttlSeconds: 30 });
    expect(await leases.renew(8n)).toEqual({ found: false });
    expect(await leases.timeToLive(7n, true)).toEqual({ ttlSeconds: 30, grantedTtlSeconds: 30, keys: [Buffer.from('k')] });
    expect(await leases.timeToLive(8n, false)).toBeUndefined();
  });

  it('forwards to the leader, retrying a failed hop', async () => {
    const { lessor, lead } = setup();
    lead.id = OTHER;
    let calls = 0;
    const forwarder: LeaseForwarder = {
      renew: (leaderId, id) => {
        calls += 1;
        if (calls === 1) return Promise.reject(new CorvidError('Timeout'));
        return Promise.resolve(leaderId === OTHER && id === 7n ? { found: true, ttlSeconds: 30 } : { found: false });
      },
      timeToLive: () => Promise.resolve(undefined),
    };
    const leases = new LeaderLeases({ memberId: SELF, lessor, leader: () => lead.id, requestTimeoutMs: 2000, forwarder, pollMs: 1 });
    expect(await leases.renew(7n)).toEqual({ found: true, ttlSeconds: 30 });
    expect(calls).toBe(2);
    expect(await leases.timeToLive(7n, false)).toBeUndefined();
  });

  it('refuses a forwarded call with NotLeader when another member leads, and times out with no primary', async () => {
    const { lessor, lead } = setup();
    lead.id = OTHER;
    const leases = new LeaderLeases({ memberId: SELF, lessor, leader: () => lead.id, requestTimeoutMs: 100, pollMs: 5 });
    await expect(leases.renewLocal(7n)).rejects.toMatchObject({ code: 'NotLeader' });
    lead.id = SELF; // leader, but the lessor is not promoted yet
    await expect(leases.renewLocal(7n)).rejects.toMatchObject({ code: 'Timeout' });
    lead.id = 0n; // no leader, no forwarder
    await expect(leases.renew(7n)).rejects.toMatchObject({ code: 'Timeout' });
  });

  it('answers a waiting call as soon as this member is promoted', async () => {
    const { lessor, lead } = setup();
    const leases = new LeaderLeases({ memberId: SELF, lessor, leader: () => lead.id, requestTimeoutMs: 2000, pollMs: 5 });
    const pending = leases.renew(7n);
    setTimeout(() => lessor.promote(0), 30);
    expect(await pending).toEqual({ found: true, ttlSeconds: 30 });
  });
});
