/**
 * Goal: a whole-cluster crash loses nothing acknowledged. Properties, with every member SIGKILLed at the same moment
 * under a steady write load and then restarted on its data dir: the members agree on a leader again; every write
 * that was acknowledged before the crash is readable (linearizable read through each member); and all members hold
 * the same store: equal raft applied index, equal revision and equal Maintenance.HashKV at that revision.
 * Method: a 3-member cluster, WriteLoad clients over all members; the kills are sent together, the load is stopped
 * once the members are down (its last calls fail and are not counted), then all members start again at once.
 */
import { withCluster } from '../harness/cluster.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { missingWrites, WriteLoad } from './write-load.js';

const CLIENTS = 4;
const WRITES_BEFORE_KILL = 300;
const PHASE_DEADLINE_MS = 20_000;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

test(`${SUBJECT}: SIGKILL of every member at once under load, then restart — nothing acknowledged lost, equal HashKV`, async () => {
  await withCluster(group, { kind: SUBJECT, size: 3 }, async (cluster) => {
    const load = new WriteLoad(cluster.endpoints(), CLIENTS);
    try {
      await waitFor(() => load.acked.length >= WRITES_BEFORE_KILL, PHASE_DEADLINE_MS, `${WRITES_BEFORE_KILL} acknowledged writes`);
      await Promise.all(cluster.slots.map(async (s) => cluster.kill(s)));
      await load.stop();
      const acked = [...load.acked];

      await Promise.all(cluster.slots.map(async (s) => cluster.restart(s)));
      await cluster.waitReady(PHASE_DEADLINE_MS);
      for (const s of cluster.slots) expect(await missingWrites(s.endpoint, acked)).toEqual([]);

      const { revision, hashes } = await cluster.waitConverged(PHASE_DEADLINE_MS);
      expect(revision).toBeGreaterThan(acked.length);
      expect(hashes).toHaveLength(3);
      expect(new Set(hashes).size).toBe(1);
    } finally {
      await load.stop();
    }
  }, 50_000);
}, 60_000);
