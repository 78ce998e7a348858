/**
 * Goal: the leader's expiry loop revokes expired leases at no more than its revoke rate, paced through each pass
 * instead of proposed in one burst (so puts between them wait on small batches), and gets through all of them.
 * Method: a real lessor on the mvcc harness with an injected clock, 900 leases (under 1,000, so promote spreads
 * nothing) all expired; the loop with a 200 ms pass and 2,000 revokes/s (400 per pass, proposed over 160 ms)
 * proposes into the harness, and the send time of every revoke is recorded.
 */
import { afterEach, expect, it } from '@jest/globals';
import { Applier } from '../../src/apply/index.js';
import { Lessor } from '../../src/lease/index.js';
import { LeaseExpiryLoop } from '../../src/server/lease-expiry.js';
import { createLogger } from '../../src/util/logger.js';
import { Harness } from '../mvcc/harness.js';

const open: Harness[] = [];
const loops: LeaseExpiryLoop[] = [];
afterEach(async () => {
  for (const l of loops.splice(0)) await l.close();
  for (const h of open.splice(0)) await h.close();
});

const LEASES = 900;
const PASS_MS = 200;
const RATE = 2000;
const PER_PASS = (RATE * PASS_MS) / 1000;

it('revokes every expired lease, at most the rate per pass, spread over the pass', async () => {
  const h = Harness.open();
  open.push(h);
  const clock = { now: 1_000_000 };
  const lessor = new Lessor(h.backend, { nowMs: () => clock.now, checkpointIntervalMs: 0 });
  h.applier = new Applier(h.backend, h.kv, lessor);
  for (let i = 1; i <= LEASES; i++) h.ok({ $case: 'leaseGrant', value: { ID: BigInt(i), TTL: 5n } });
  lessor.promote(0);
  clock.now += 10_000;
  const sentAt: number[] = [];
  const loop = new LeaseExpiryLoop({
    lessor,
    raft: { isLeader: () => false, onLeadershipChange: () => undefined, status: () => ({ appliedIndex: 0, lastIndex: 0 }) },
    propose: (body) => {
      sentAt.push(performance.now());
      return Promise.resolve(h.ok(body));
    },
    electionTimeoutMs: 1000, logger: createLogger('error', () => undefined), intervalMs: PASS_MS, revokeRate: RATE,
  });
  loops.push(loop);
  loop.start();
  const deadline = performance.now() + 10_000;
  while (lessor.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(lessor.size).toBe(0);
  expect(sentAt).toHaveLength(LEASES);
  // The first pass: PER_PASS revokes over 0.8 × PASS_MS (160 ms), not a burst: a 50 ms window never holds more
  // than its share of them plus timer slack.
  const first = sentAt[0]!;
  const firstPass = sentAt.filter((t) => t < first + PASS_MS - 20); // the next tick may come a little early against a late first
  expect(firstPass.length).toBeLessThanOrEqual(PER_PASS);
  expect(sentAt[PER_PASS - 1]! - first).toBeGreaterThanOrEqual(0.8 * PASS_MS - 20);
  expect(sentAt.filter((t) => t < first + 50).length).toBeLessThanOrEqual(PER_PASS * (50 / (0.8 * PASS_MS)) + 20);
  // Three passes in all (400, 400, 100): the last revoke no sooner than two pass intervals after the first.
  expect(sentAt[LEASES - 1]! - first).toBeGreaterThanOrEqual(2 * PASS_MS - 20);
});
