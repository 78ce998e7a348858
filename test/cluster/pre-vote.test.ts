/**
 * Goal: --pre-vote reaches Raft. A follower cut off from its peers keeps campaigning; without pre-vote each
 * campaign raises its term (so it disrupts the leader when it comes back), with pre-vote it only asks whether it
 * could win, and its term stays where it was.
 * Method: Corvid only (isolation uses CORVID_EXPERIMENTAL_FAULT_INJECTION; etcd has no such hook): a 3-member
 * cluster with and without --pre-vote; isolate a follower both ways and watch its Status raft_term. Without
 * pre-vote the term rises within a few election timeouts (the test's own control); with it, it does not move in
 * ISOLATED_MS (8 election timeouts), then the cluster heals and converges.
 */
import { withCluster } from '../harness/cluster.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const ELECTION_TIMEOUT_MS = 500;
const ISOLATED_MS = 8 * ELECTION_TIMEOUT_MS;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

const termOf = async (status: Promise<{ raftTerm: bigint }>): Promise<bigint> => (await status).raftTerm;

(SUBJECT === 'corvid' ? describe : describe.skip)('--pre-vote on an isolated follower', () => {
  test.each([
    ['without --pre-vote, its term rises', false],
    ['with --pre-vote, its term stays', true],
  ])('%s', async (_name, preVote) => {
    await withCluster(group, { kind: 'corvid', size: 3, electionTimeoutMs: ELECTION_TIMEOUT_MS, faultInjection: true, extraArgs: preVote ? ['--pre-vote'] : [] }, async (cluster) => {
      const leader = await cluster.leader();
      const follower = cluster.running().find((s) => s !== leader);
      if (follower === undefined) throw new Error('no follower');
      const termBefore = await termOf(cluster.status(follower));
      await cluster.partition([follower]);
      if (preVote) {
        const startMs = performance.now();
        while (performance.now() - startMs < ISOLATED_MS) {
          expect(await termOf(cluster.status(follower))).toBe(termBefore);
          await new Promise((resolve) => setTimeout(resolve, ELECTION_TIMEOUT_MS / 2));
        }
      } else {
        await waitFor(async () => (await termOf(cluster.status(follower))) > termBefore, ISOLATED_MS, 'the isolated follower to raise its term');
      }
      await cluster.heal();
      await cluster.waitConverged(20_000);
    }, 60_000);
  }, 90_000);
});
