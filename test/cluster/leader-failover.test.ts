/**
 * Goal: losing the leader loses nothing and stops nobody. Properties, with the leader SIGKILLed under a steady
 * write load from several clients: the survivors agree on a new leader within three election timeouts; every write
 * acknowledged before, during and after the crash is readable afterwards by a linearizable read on a survivor, and
 * no two acknowledged writes share a revision; every client goes on getting writes acknowledged; the old leader
 * restarts on its data dir and catches up (equal HashKV at the same revision).
 * Method: a 3-member cluster with 50 ms heartbeats and 500 ms election timeouts; WriteLoad clients spread over all
 * members, moving to the next member on any error; Status polled on the survivors to time the election.
 */
import { withCluster } from '../harness/cluster.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { missingWrites, WriteLoad } from './write-load.js';

const CLIENTS = 4;
const WRITES_BEFORE_KILL = 150;
const WRITES_PER_CLIENT_AFTER = 20;
const PHASE_DEADLINE_MS = 15_000;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

test(`${SUBJECT}: SIGKILL of the leader under load — a new leader within 3 election timeouts, nothing acknowledged lost, clients carry on`, async () => {
  await withCluster(group, { kind: SUBJECT, size: 3 }, async (cluster) => {
    const load = new WriteLoad(cluster.endpoints(), CLIENTS);
    try {
      await waitFor(() => load.acked.length >= WRITES_BEFORE_KILL, PHASE_DEADLINE_MS, `${WRITES_BEFORE_KILL} acknowledged writes`);
      const oldLeader = await cluster.leader();
      const survivors = cluster.slots.filter((s) => s !== oldLeader);
      const killedMs = performance.now();
      await cluster.kill(oldLeader);

      const newLeader = await cluster.waitReady(PHASE_DEADLINE_MS, survivors);
      const electionMs = performance.now() - killedMs;
      expect(survivors).toContain(newLeader);
      expect(electionMs).toBeLessThan(3 * cluster.electionTimeoutMs);

      // Clients carry on: each one gets writes acknowledged after the new leader is known.
      const electedMs = performance.now();
      await waitFor(
        () => Array.from({ length: CLIENTS }, (_, c) => load.ackedSince(c, electedMs)).every((n) => n >= WRITES_PER_CLIENT_AFTER),
        PHASE_DEADLINE_MS,
        `${WRITES_PER_CLIENT_AFTER} acknowledged writes per client after the failover (failures: ${load.failures.slice(-5).join('; ')})`,
      );
      await load.stop();

      expect(await missingWrites(newLeader.endpoint, load.acked)).toEqual([]);
      const revisions = new Set(load.acked.map((w) => w.revision));
      expect(revisions.size).toBe(load.acked.length);

      await cluster.restart(oldLeader);
      await cluster.waitReady(PHASE_DEADLINE_MS);
      const { hashes } = await cluster.waitConverged(PHASE_DEADLINE_MS);
      expect(new Set(hashes).size).toBe(1);
      expect(await missingWrites(oldLeader.endpoint, load.acked)).toEqual([]);
    } finally {
      await load.stop();
    }
  }, 50_000);
}, 60_000);
